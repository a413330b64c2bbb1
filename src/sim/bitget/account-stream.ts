/**
 * Bitget v2 private WebSocket (`/v2/ws/private`): `{"op":"login","args":[{apiKey,passphrase,timestamp,sign}]}`
 * checked as Bitget does (account-auth.ts; a failure answers `{"event":"error","code":…,"msg":…}` and closes the
 * socket), then subscriptions to `account` (SPOT and USDT-FUTURES, `coin: "default"`), `positions`, `orders` and
 * `fill` (USDT-FUTURES, `instId: "default"` or one symbol; `orders` and `fill` also accept SPOT, where the
 * simulated account never trades). A subscription before login is refused with 30004. Every push is
 * `{"action":"snapshot","arg":…,"data":[…],"ts":ms}`: `positions` always carries the full list. Text `ping` → `pong`;
 * a connection that sends no ping for `pingTimeoutMs` is closed. Account faults: refused upgrades (503), rejected
 * logins (30005), dropped sockets; the venue's stall, latency, recycle (`forceRecycle`: plain close 1000) and
 * `malformedFrames` faults apply as on the public socket.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../../telemetry/logger.ts';
import type { SimAccountEvent } from '../accounts/engine.ts';
import type { SimAccountFaults } from '../accounts/faults.ts';
import type { FaultAction, VenueFaultState } from '../faults.ts';
import { rawToString, rejectUpgrade, SimSocketHub } from '../socket-hub.ts';
import { verifyLogin } from './account-auth.ts';
import { fillRow, futuresAccountRow, orderRow, positionRow, spotAccountRow } from './account-format.ts';
import type { BitgetSimAccount } from './account-format.ts';
import { bitgetInstId } from './instruments.ts';
import { applyBitgetSocketFault } from './socket-faults.ts';

export interface BitgetAccountStreamSettings {
  readonly pingTimeoutMs: number;
  readonly maxPayloadBytes: number;
  /** Period of the `account` and `positions` refreshes (unrealized PnL follows the mark). */
  readonly accountPushMs: number;
}

interface Arg {
  readonly instType: string;
  readonly channel: string;
  /** instId or coin, as the client sent it. */
  readonly target: string;
  readonly raw: Record<string, string>;
}

class Connection {
  account: BitgetSimAccount | undefined;
  readonly subs = new Map<string, Arg>();
  lastPingAt: number;

  constructor(
    readonly socket: WebSocket,
    now: number,
  ) {
    this.lastPingAt = now;
  }
}

const CHANNELS = new Set(['account', 'positions', 'orders', 'fill']);
const INST_TYPES = new Set(['SPOT', 'USDT-FUTURES']);

export class BitgetAccountStream {
  private readonly hub: SimSocketHub<Connection>;

  constructor(
    private readonly accounts: ReadonlyMap<string, BitgetSimAccount>,
    private readonly venueFaults: VenueFaultState,
    private readonly faults: SimAccountFaults,
    private readonly now: () => number,
    private readonly settings: BitgetAccountStreamSettings,
    private readonly logger: Logger,
  ) {
    this.hub = new SimSocketHub({ maxPayloadBytes: settings.maxPayloadBytes, faults: venueFaults });
    for (const account of accounts.values()) {
      this.hub.onClose(account.futures.subscribe((event) => this.onEvent(account, event)));
    }
    this.hub.every(Math.max(10, Math.min(5_000, settings.pingTimeoutMs / 4)), () => this.sweepIdle());
    this.hub.every(settings.accountPushMs, () => this.refresh());
    faults.onDrop(() => this.hub.dropConnections());
    // The venue's recycle and malformed-frame faults reach the private socket as they reach the public one.
    this.hub.onClose(venueFaults.onAction((action) => this.onFault(action)));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.faults.refusing) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    this.hub.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  dropConnections(): number {
    return this.hub.dropConnections();
  }

  close(): Promise<void> {
    return this.hub.close();
  }

  private onFault(action: FaultAction): void {
    // Bitget recycles private sockets as public ones, and the malformed-frames fault reaches both.
    applyBitgetSocketFault(this.hub.connections, action);
  }

  private accept(socket: WebSocket): void {
    const conn = new Connection(socket, performance.now());
    this.hub.connections.add(conn);
    socket.on('message', (data: RawData, isBinary: boolean) =>
      this.onMessage(conn, isBinary ? '' : rawToString(data)),
    );
    socket.on('error', (err) =>
      this.logger.debug({ venue: 'bitget', err: err.message }, 'sim: private socket error'),
    );
    socket.on('close', () => this.hub.connections.delete(conn));
  }

  private send(conn: Connection, value: unknown): void {
    const socket = conn.socket;
    if (socket.readyState !== socket.OPEN || this.venueFaults.streamStalled) return;
    socket.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  private onMessage(conn: Connection, text: string): void {
    if (text === 'ping') {
      conn.lastPingAt = performance.now();
      this.send(conn, 'pong');
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.send(conn, { event: 'error', code: 30002, msg: 'illegal request' });
      return;
    }
    const op = isObject(request) ? request['op'] : undefined;
    const args = isObject(request) ? request['args'] : undefined;
    if (op === 'login') {
      this.login(conn, Array.isArray(args) ? args[0] : undefined);
      return;
    }
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      this.send(conn, { event: 'error', code: 30003, msg: 'invalid op' });
      return;
    }
    if (!Array.isArray(args) || args.length === 0) {
      this.send(conn, { event: 'error', code: 30016, msg: 'Param error', op });
      return;
    }
    for (const raw of args) this.subscription(conn, op, raw);
  }

  private login(conn: Connection, arg: unknown): void {
    // Credentials never reach a log or a reply: only the code and Bitget's message do.
    const result = this.faults.takeLoginRejection()
      ? ({ ok: false, code: 30005, msg: 'Login failed' } as const)
      : verifyLogin(arg, this.accounts, this.now());
    if (!result.ok) {
      this.send(conn, { event: 'error', code: result.code, msg: result.msg });
      conn.socket.close(1000, 'login failed');
      return;
    }
    conn.account = result.account;
    this.send(conn, { event: 'login', code: 0 });
  }

  private subscription(conn: Connection, op: 'subscribe' | 'unsubscribe', raw: unknown): void {
    const arg = readArg(raw);
    if (arg === undefined) {
      this.send(conn, { event: 'error', arg: raw, code: 30016, msg: 'Param error', op });
      return;
    }
    if (conn.account === undefined) {
      this.send(conn, { event: 'error', arg: raw, code: 30004, msg: 'User not logged in', op });
      return;
    }
    if (!CHANNELS.has(arg.channel) || !INST_TYPES.has(arg.instType)) {
      const msg = `instType:${arg.instType},channel:${arg.channel},instId:${arg.target} doesn't exist`;
      this.send(conn, { event: 'error', arg: raw, code: 30001, msg, op });
      return;
    }
    const key = `${arg.instType}|${arg.channel}|${arg.target}`;
    if (op === 'unsubscribe') {
      conn.subs.delete(key);
      this.send(conn, { event: 'unsubscribe', arg: arg.raw });
      return;
    }
    this.send(conn, { event: 'subscribe', arg: arg.raw });
    if (conn.subs.has(key)) return;
    conn.subs.set(key, arg);
    // The first push: the current state of the channel.
    const account = conn.account;
    if (arg.channel === 'account') this.push(conn, arg, this.accountRows(account, arg.instType));
    else if (arg.channel === 'positions' && arg.instType === 'USDT-FUTURES')
      this.push(conn, arg, this.positionRows(account));
    else if (arg.channel === 'orders' && arg.instType === 'USDT-FUTURES') {
      const rows = account.futures
        .openOrders()
        .filter((o) => matches(arg, bitgetInstId(o.symbol)))
        .map((o) => orderRow(account.futures, account.index, o));
      if (rows.length > 0) this.push(conn, arg, rows);
    }
  }

  private accountRows(account: BitgetSimAccount, instType: string): unknown[] {
    if (instType === 'USDT-FUTURES') return [futuresAccountRow(account.futures)];
    return [...account.spot].map(([coin, amount]) => spotAccountRow(coin, amount, account.spotTime));
  }

  private positionRows(account: BitgetSimAccount): unknown[] {
    return account.futures.positions().map((p) => positionRow(account.futures, account.index, p, false));
  }

  private push(conn: Connection, arg: Arg, data: unknown[]): void {
    this.send(conn, { action: 'snapshot', arg: arg.raw, data, ts: this.now() });
  }

  /** Sends `data` to every connection of `account` subscribed to (instType, channel) for `instId`. */
  private fanOut(
    account: BitgetSimAccount,
    channel: string,
    instId: string | undefined,
    data: () => unknown[],
  ): void {
    let rows: unknown[] | undefined;
    for (const conn of this.hub.connections) {
      if (conn.account !== account) continue;
      for (const arg of conn.subs.values()) {
        if (arg.instType !== 'USDT-FUTURES' || arg.channel !== channel) continue;
        if (instId !== undefined && !matches(arg, instId)) continue;
        rows ??= data();
        this.push(conn, arg, rows);
      }
    }
  }

  private onEvent(account: BitgetSimAccount, event: SimAccountEvent): void {
    if (this.venueFaults.streamPaused) return;
    const futures = account.futures;
    switch (event.kind) {
      case 'order': {
        // A rejected order never existed on Bitget: the place-order request itself failed.
        if (event.order.status === 'rejected') return;
        const last = futures.fills.at(-1);
        const fill = last?.order === event.order && last.time === event.order.updatedAt ? last : undefined;
        this.fanOut(account, 'orders', bitgetInstId(event.order.symbol), () => [
          orderRow(futures, account.index, event.order, fill),
        ]);
        return;
      }
      case 'fill':
        this.fanOut(account, 'fill', bitgetInstId(event.fill.symbol), () => [
          fillRow(futures, account.index, event.fill),
        ]);
        this.fanOut(account, 'positions', undefined, () => this.positionRows(account));
        this.fanOut(account, 'account', undefined, () => this.accountRows(account, 'USDT-FUTURES'));
        return;
      case 'funding':
        this.fanOut(account, 'positions', undefined, () => this.positionRows(account));
        this.fanOut(account, 'account', undefined, () => this.accountRows(account, 'USDT-FUTURES'));
        return;
      case 'liquidation':
        return;
    }
  }

  /** Periodic refresh of the figures that move with the mark. */
  private refresh(): void {
    if (this.venueFaults.streamPaused) return;
    for (const account of this.accounts.values()) {
      this.fanOut(account, 'positions', undefined, () => this.positionRows(account));
      this.fanOut(account, 'account', undefined, () => this.accountRows(account, 'USDT-FUTURES'));
    }
  }

  private sweepIdle(): void {
    const now = performance.now();
    for (const conn of [...this.hub.connections]) {
      if (now - conn.lastPingAt > this.settings.pingTimeoutMs) conn.socket.close(1000, '');
    }
  }
}

/** Whether a subscription for `default` or for one instrument covers `instId`. */
function matches(arg: Arg, instId: string): boolean {
  return arg.target === 'default' || arg.target === instId;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readArg(value: unknown): Arg | undefined {
  if (!isObject(value)) return undefined;
  const { instType, channel } = value;
  const target = value['instId'] ?? value['coin'];
  if (typeof instType !== 'string' || typeof channel !== 'string' || typeof target !== 'string')
    return undefined;
  const raw: Record<string, string> = { instType, channel };
  if (typeof value['instId'] === 'string') raw['instId'] = value['instId'];
  if (typeof value['coin'] === 'string') raw['coin'] = value['coin'];
  return { instType, channel, target, raw };
}
