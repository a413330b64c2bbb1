/**
 * A gateway with two accounts behind it, for the account channel tests: the real AccountHub (src/account/) over
 * scripted sources and the in-memory account store, account alerts published on the bus as the wiring does, and
 * a client model that applies snapshots and deltas as docs/PROTOCOL.md tells a client to.
 */
import { AccountHub } from '../account/account-hub.ts';
import { ScriptedAccountSource } from '../account/account-source.test-support.ts';
import { publishAlert } from '../bus/alert-message.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { configSchema, DEFAULT_CONFIG, type Config } from '../config/config.ts';
import { ACCOUNT_CHANNELS, OBJECT_CHANNELS, type AccountChannel } from '../protocol/account-messages.ts';
import { MemoryAccountStore } from '../store/account-memory-store.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { silentLogger } from '../telemetry/logger.ts';
import type { LogRing } from '../telemetry/log-ring.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { ManualClock } from '../util/clock.ts';
import { applyMergePatch, type JsonValue } from './account-delta.ts';
import { AccountAuth } from './auth.ts';
import { startGateway, type Gateway } from './gateway.ts';

export const AUTH_SECRET = 'gateway-test-auth-secret-0123456789abcdef';
export const STATIC_TOKEN = 'static-api-token-for-beta-0123456789abcdef';
export const BITGET_CREDENTIALS = {
  apiKey: 'bg_test_key_5f1e2d3c4b5a69788796',
  secret: 'bg_test_secret_a1b2c3d4e5f60718293a',
  passphrase: 'bg-test-passphrase-77',
};
export const DYDX_ADDRESS = 'dydx1' + 'a'.repeat(38);
export const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);

export function accountsConfig(): Config {
  return configSchema.parse({
    ...DEFAULT_CONFIG,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    // The tests move the clock by minutes at a time: the heartbeat must not cut clients that had no turn to pong.
    gateway: { ...DEFAULT_CONFIG.gateway, heartbeatMs: 600_000 },
    accounts: [
      { id: 'alpha', venue: 'bitget', credentials: BITGET_CREDENTIALS },
      { id: 'beta', venue: 'dydx', address: DYDX_ADDRESS, subaccountNumber: 0 },
    ],
    auth: { secret: AUTH_SECRET, tokens: [{ token: STATIC_TOKEN, account: 'beta' }] },
  });
}

export interface AccountGateway {
  readonly gateway: Gateway;
  readonly hub: AccountHub;
  readonly clock: ManualClock;
  readonly bus: MemoryBus;
  readonly sources: { readonly alpha: ScriptedAccountSource; readonly beta: ScriptedAccountSource };
  readonly auth: AccountAuth;
  readonly httpUrl: string;
  close(): Promise<void>;
}

export async function startAccountGateway(
  o: { throttleMs?: number; logger?: Logger; recentLogs?: LogRing; metrics?: Metrics } = {},
): Promise<AccountGateway> {
  const config = accountsConfig();
  const clock = new ManualClock(T0);
  const bus = new MemoryBus();
  const logger = o.logger ?? silentLogger();
  const sources = {
    alpha: new ScriptedAccountSource({ id: 'alpha', venue: 'bitget' }),
    beta: new ScriptedAccountSource({ id: 'beta', venue: 'dydx' }),
  };
  const hub = await AccountHub.open({
    sources: [sources.alpha, sources.beta],
    store: new MemoryAccountStore(),
    clock,
    logger,
    onAlert: (alert) => publishAlert(bus, alert),
  });
  const gateway = await startGateway({
    config,
    bus,
    store: new MemoryCandleStore(),
    logger,
    clock,
    accounts: { hub, throttleMs: o.throttleMs ?? 0 },
    ...(o.recentLogs ? { recentLogs: o.recentLogs } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  });
  return {
    gateway,
    hub,
    clock,
    bus,
    sources,
    auth: AccountAuth.fromConfig(config, () => clock.now()),
    httpUrl: gateway.url.replace(/^ws/, 'http'),
    close: async () => {
      await gateway.close();
      await hub.close();
    },
  };
}

interface AccountMessageJson {
  readonly type: string;
  readonly channel: AccountChannel;
  readonly account: string;
  readonly seq: number;
  readonly snapshot: boolean;
  readonly data: JsonValue;
}

/**
 * What a client holds after applying an account's messages: per channel the object (merge patches) or the keyed
 * list (upserts, removals). A change whose seq does not follow the last is a gap: `gaps` counts them (a real
 * client would send `resync`).
 */
export class AccountModel {
  readonly objects = new Map<AccountChannel, JsonValue>();
  readonly lists = new Map<AccountChannel, Map<string, JsonValue>>();
  readonly seq = new Map<AccountChannel, number>();
  gaps = 0;
  changes = 0;

  apply(m: AccountMessageJson): void {
    const last = this.seq.get(m.channel);
    if (!m.snapshot) {
      if (last === undefined || m.seq !== last + 1) this.gaps++;
      this.changes++;
    }
    this.seq.set(m.channel, m.seq);
    if (OBJECT_CHANNELS.has(m.channel)) {
      this.objects.set(m.channel, m.snapshot ? m.data : applyMergePatch(this.objects.get(m.channel), m.data));
      return;
    }
    const data = m.data as { upsert: { key: string }[]; remove: string[] };
    const list = m.snapshot ? new Map<string, JsonValue>() : (this.lists.get(m.channel) ?? new Map());
    for (const item of data.upsert) list.set(item.key, item as unknown as JsonValue);
    for (const key of data.remove) list.delete(key);
    this.lists.set(m.channel, list);
  }

  static isAccountMessage(m: { type: string }): m is AccountMessageJson & { type: string } {
    return (
      (ACCOUNT_CHANNELS as readonly string[]).some((c) => (m as { channel?: string }).channel === c) &&
      typeof (m as { seq?: unknown }).seq === 'number'
    );
  }
}
