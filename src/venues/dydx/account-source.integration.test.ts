import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { AccountEvent, AccountStreamStatus } from '../../account/contract.ts';
import type { Fill } from '../../domain/account.ts';
import type { AlertInput } from '../../domain/alert.ts';
import { sub, toPlainString } from '../../domain/decimal.ts';
import { createLogger, silentLogger } from '../../telemetry/logger.ts';
import { ManualClock } from '../../util/clock.ts';
import { DydxAccountRest } from './account-rest.ts';
import { AccountIndexer } from './account-server.test-support.ts';
import {
  createDydxAccountSource,
  DYDX_ACCOUNT_POLL_SCHEDULE,
  DYDX_SUMMARY_REFRESH_MS,
  DydxAccountSource,
  type DydxAccountSourceOptions,
} from './account-source.ts';

const ZERO_D = { coef: 0n, scale: 0 };
const ADDRESS = 'dydx1kzsvkf2ghjqlysuffdkhcdctknl4rsvcx5hkm5';

/** What a source handed on, in order. */
class Recorder {
  readonly events: AccountEvent[] = [];
  readonly alerts: AlertInput[] = [];
  readonly statuses: AccountStreamStatus[] = [];
  /** The clock's time when the source first reported polling. */
  pollingSince: number | undefined;
  constructor(private readonly now: () => number) {}
  readonly handlers = {
    event: (e: AccountEvent) => this.events.push(e),
    status: (s: AccountStreamStatus) => {
      this.statuses.push(s);
      if (s.mode === 'polling') this.pollingSince ??= this.now();
    },
    alert: (a: AlertInput) => this.alerts.push(a),
  };

  of<K extends AccountEvent['kind']>(kind: K): Extract<AccountEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<AccountEvent, { kind: K }> => e.kind === kind);
  }

  fills(): Fill[] {
    return this.of('fills').flatMap((e) => [...e.fills]);
  }

  /** Fill ids handed on, in order; each must appear once. */
  fillIds(): string[] {
    return this.fills().map((f) => f.fillId);
  }
}

interface Rig {
  readonly clock: ManualClock;
  readonly venue: AccountIndexer;
  readonly source: DydxAccountSource;
  readonly rec: Recorder;
}

const rigs: Rig[] = [];

async function setup(
  venueOptions: { notIndexed?: boolean } = {},
  sourceOptions: Partial<DydxAccountSourceOptions> = {},
): Promise<Rig> {
  const clock = new ManualClock(Date.parse('2026-12-03T09:00:00Z'));
  const venue = new AccountIndexer({
    address: ADDRESS,
    subaccountNumber: 0,
    now: clock.now,
    ...venueOptions,
  });
  await venue.start();
  const rest = new DydxAccountRest({
    restUrl: venue.restUrl,
    address: ADDRESS,
    subaccountNumber: 0,
    requestsPerSecond: 1000,
    pageLimit: 3,
    clock,
    http: { maxRetries: 0 },
  });
  const source = new DydxAccountSource({
    account: { id: 'demo-dydx', venue: 'dydx' },
    wsUrl: venue.wsUrl,
    rest,
    logger: silentLogger(),
    clock,
    random: () => 0.5,
    runner: { backoff: { initialMs: 20, maxMs: 100 }, resubscribeDelayMs: 50 },
    ...sourceOptions,
  });
  const rec = new Recorder(clock.now);
  const rig = { clock, venue, source, rec };
  rigs.push(rig);
  source.start(rec.handlers);
  return rig;
}

/**
 * Lets real sockets and HTTP do their work while simulated time moves `stepMs` per turn, until `condition` holds.
 * Fails after 20 s of real time with `what`.
 */
async function until(rig: Rig, what: string, condition: () => boolean, stepMs = 20): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached: ${what}`);
    rig.clock.advance(stepMs);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Closes every rig; the source's close waits on its (simulated) clock, so time keeps moving meanwhile. */
async function closeAll(): Promise<void> {
  for (const r of rigs.splice(0)) {
    let done = false;
    const closing = r.source.close().then(() => (done = true));
    await until(r, 'source closed', () => done, 100);
    await closing;
    await r.venue.close();
  }
}

/** Every fill the venue made was handed on exactly once. */
function assertFillsOnce(rig: Rig): void {
  const ids = rig.rec.fillIds();
  assert.equal(new Set(ids).size, ids.length, `a fill was handed on twice: ${ids.join(', ')}`);
  assert.deepEqual([...ids].sort(), rig.venue.fills.map((f) => f.id).sort(), 'a fill is missing');
}

describe('dYdX account source against an indexer speaking the v4 protocol', () => {
  after(closeAll);

  it('subscribes v4_subaccounts by address/number, hands on the snapshot and answers the server pings', async () => {
    const rig = await setup();
    const { venue, source, rec } = rig;
    await until(rig, 'stream snapshot', () => rec.of('snapshot').length > 0);
    assert.deepEqual(venue.received[0], { type: 'subscribe', channel: 'v4_subaccounts', id: `${ADDRESS}/0` });
    const snap = rec.of('snapshot')[0];
    assert.equal(snap?.source, 'stream');
    assert.equal(toPlainString(snap?.snapshot.summary.equity ?? { coef: 0n, scale: 0 }), '10000');
    assert.deepEqual(
      snap?.snapshot.balances.map((b) => [b.currency, toPlainString(b.total)]),
      [['USDC', '10000']],
    );
    venue.pingAll();
    await until(rig, 'pong for the server ping', () => venue.pongs > 0);
    const status = source.status();
    assert.equal(status.connected, true);
    assert.equal(status.healthy, true);
    assert.equal(status.mode, 'stream');
    assert.deepEqual(status.subscriptions, ['v4_subaccounts']);
    assert.ok(!status.url.includes(ADDRESS), 'the status url carries no address');
  });

  it('hands on orders, fills, positions, balances and a derived equity equal to the venue', async () => {
    const rig = await setup();
    const { venue, rec } = rig;
    await until(rig, 'snapshot', () => rec.of('snapshot').length > 0);
    const id = venue.placeOrder('BTC-USD', 'BUY', '0.3', '60000');
    await until(rig, 'order open', () => rec.of('order').length === 1);
    assert.equal(rec.of('order')[0]?.order.status, 'open');
    venue.fill(id, '0.1');
    await until(rig, 'partial fill', () => rec.fills().length === 1);
    const orders = rec.of('order');
    assert.equal(orders.at(-1)?.order.status, 'partially_filled');
    assert.equal(toPlainString(orders.at(-1)?.order.filledSize ?? { coef: 0n, scale: 0 }), '0.1');
    const fill = rec.fills()[0];
    assert.equal(fill?.symbol, 'BTC/USD');
    assert.equal(fill?.side, 'buy');
    assert.equal(toPlainString(fill?.fee ?? { coef: 0n, scale: 0 }), '3');
    assert.equal(fill?.liquidity, 'maker');
    const pos = rec.of('positions').at(-1);
    assert.equal(pos?.complete, false);
    assert.equal(pos?.positions[0]?.side, 'long');
    assert.equal(toPlainString(pos?.positions[0]?.size ?? { coef: 0n, scale: 0 }), '0.1');
    venue.oracle.set('BTC-USD', { coef: 61000n, scale: 0 });
    venue.fill(id, '0.2', 'TAKER');
    await until(rig, 'order filled', () => rec.of('order').at(-1)?.order.status === 'filled');
    await until(rig, 'summary', () => rec.of('summary').length >= 2);
    // The stream sends no equity: the source derives it from USDC and the positions, exactly as the indexer.
    assert.equal(
      toPlainString(rec.of('summary').at(-1)?.summary.equity ?? { coef: 0n, scale: 0 }),
      toPlainString(venue.equity()),
    );
    const balance = rec.of('balances').at(-1)?.balances[0];
    assert.equal(balance?.currency, 'USDC');
    assert.equal(
      balance?.total.coef !== undefined && balance.total.coef < 0n,
      true,
      'USDC borrowed against 0.3 BTC',
    );
    const cancelId = venue.placeOrder('ETH-USD', 'SELL', '1', '2600');
    venue.cancel(cancelId);
    await until(rig, 'canceled', () => rec.of('order').at(-1)?.order.status === 'canceled');
    assert.equal(rec.of('order').at(-1)?.order.reason, 'ORDER_REMOVAL_REASON_USER_CANCELED');
    assertFillsOnce(rig);
  });

  it('refreshes equity and free collateral over REST every 20 s while streaming, and stops on close', async () => {
    const rig = await setup();
    const { venue, source, rec, clock } = rig;
    const startedAt = clock.now();
    await until(rig, 'snapshot', () => rec.of('snapshot').length > 0);
    const id = venue.placeOrder('BTC-USD', 'BUY', '1', '60000');
    venue.fill(id, '1');
    await until(rig, 'fill', () => rec.fills().length === 1, 0);
    await until(rig, 'derived summary', () => rec.of('summary').length === 1, 0);
    const streamed = rec.of('summary')[0]?.summary;
    // The oracle moves: equity and free collateral change at the indexer, and the stream says nothing of it.
    venue.oracle.set('BTC-USD', { coef: 62000n, scale: 0 });
    assert.equal(DYDX_SUMMARY_REFRESH_MS, 20_000);
    clock.advanceTo(startedAt + DYDX_SUMMARY_REFRESH_MS - 1);
    assert.equal(source.counters().summaryRefreshes, 0);
    clock.advance(1);
    assert.equal(source.counters().summaryRefreshes, 1);
    await until(rig, 'refreshed summary', () => rec.of('summary').length === 2, 0);
    const refreshed = rec.of('summary')[1]?.summary;
    assert.equal(toPlainString(refreshed?.equity ?? ZERO_D), toPlainString(venue.equity()));
    // Free collateral: equity less the test indexer's 10% initial margin on 1 BTC at 62000.
    assert.equal(
      toPlainString(refreshed?.available ?? ZERO_D),
      toPlainString(sub(venue.equity(), { coef: 6200n, scale: 0 })),
    );
    assert.notEqual(
      toPlainString(refreshed?.available ?? ZERO_D),
      toPlainString(streamed?.available ?? ZERO_D),
    );
    // Equity derived from the next position report keeps the refreshed free collateral.
    venue.fill(venue.placeOrder('ETH-USD', 'SELL', '1', '2500'), '1');
    await until(rig, 'derived after refresh', () => rec.of('summary').length === 3, 0);
    assert.equal(
      toPlainString(rec.of('summary')[2]?.summary.available ?? ZERO_D),
      toPlainString(refreshed?.available ?? ZERO_D),
    );
    assert.equal(source.counters().summaryRefreshErrors, 0);
    const refreshes = source.counters().summaryRefreshes;
    const requests = venue.requests.length;
    await closeAll();
    clock.advance(10 * DYDX_SUMMARY_REFRESH_MS);
    assert.equal(source.counters().summaryRefreshes, refreshes, 'no refresh after close');
    assert.equal(venue.requests.length, requests);
  });

  it('reports a closed position as ended', async () => {
    const rig = await setup();
    const { venue, rec } = rig;
    await until(rig, 'snapshot', () => rec.of('snapshot').length > 0);
    venue.fill(venue.placeOrder('ETH-USD', 'BUY', '1', '2500'), '1');
    venue.fill(venue.placeOrder('ETH-USD', 'SELL', '1', '2500'), '1');
    await until(rig, 'position ended', () => rec.of('positionEnded').length === 1);
    const ended = rec.of('positionEnded')[0];
    assert.equal(ended?.symbol, 'ETH/USD');
    assert.equal(ended?.end, 'closed');
  });

  it('after a dropped socket reconnects, re-subscribes and reconciles: no fill missed or doubled', async () => {
    const rig = await setup();
    const { venue, source, rec } = rig;
    await until(rig, 'snapshot', () => rec.of('snapshot').length > 0);
    const id = venue.placeOrder('BTC-USD', 'BUY', '1', '60000');
    venue.fill(id, '0.1');
    await until(rig, 'first fill', () => rec.fills().length === 1);
    venue.dropAll();
    // While the socket is down the account keeps trading: 4 fills, more than one REST page (3).
    for (let i = 0; i < 4; i++) venue.fill(id, '0.1');
    await until(rig, 'reconciled', () => rec.of('snapshot').some((s) => s.source === 'rest'));
    await until(rig, 'all fills', () => rec.fills().length === venue.fills.length);
    venue.fill(id, '0.1');
    await until(rig, 'stream fill after reconnect', () => rec.fills().length === venue.fills.length);
    assertFillsOnce(rig);
    assert.ok(rec.of('fills').some((e) => e.source === 'rest'));
    const subscribes = venue.received.filter((m) => (m as { type?: string }).type === 'subscribe');
    assert.equal(subscribes.length, 2, 're-subscribed once');
    assert.ok(source.status().reconnects >= 1);
    const rest = rec.of('snapshot').find((s) => s.source === 'rest');
    assert.equal(toPlainString(rest?.snapshot.positions[0]?.size ?? { coef: 0n, scale: 0 }), '0.5');
  });

  it('reconciles after a message_id jump on the connection', async () => {
    const rig = await setup();
    const { venue, source, rec } = rig;
    await until(rig, 'snapshot', () => rec.of('snapshot').length > 0);
    const id = venue.placeOrder('ETH-USD', 'SELL', '2', '2500');
    venue.loseMessage();
    venue.fill(id, '1');
    await until(rig, 'gap noticed and reconciled', () => rec.of('snapshot').some((s) => s.source === 'rest'));
    assert.equal(source.counters().messageIdGaps, 1);
    await until(rig, 'fills', () => rec.fills().length === 1);
    assertFillsOnce(rig);
  });

  it('falls back to REST polling every 15 s after 5 failed reconnects, and returns to the socket', async () => {
    const rig = await setup();
    const { venue, source, rec } = rig;
    await until(rig, 'snapshot', () => rec.of('snapshot').length > 0);
    const id = venue.placeOrder('BTC-USD', 'SELL', '1', '60000');
    venue.fill(id, '0.25');
    await until(rig, 'fill', () => rec.fills().length === 1);
    venue.refuseConnections = true;
    venue.dropAll();
    await until(rig, 'polling', () => source.status().mode === 'polling');
    assert.deepEqual(
      rec.alerts.map((a) => [a.kind, a.severity]),
      [['account_polling', 'warning']],
    );
    // One poll kind (the whole subaccount): the first poll runs on entering polling, the next every 15 s of the
    // source's clock (seed 003).
    assert.deepEqual(DYDX_ACCOUNT_POLL_SCHEDULE, { subaccount: 15_000 });
    const enteredAt = rec.pollingSince ?? 0;
    assert.equal(source.counters().polls, 1);
    // Time stands still until the first poll has answered (a poll still running is not started twice).
    await until(rig, 'first poll answered', () => rec.of('snapshot').some((e) => e.source === 'rest'), 0);
    venue.fill(id, '0.25');
    rig.clock.advanceTo(enteredAt + 14_999);
    assert.equal(source.counters().polls, 1);
    rig.clock.advanceTo(enteredAt + 15_000);
    assert.equal(source.counters().polls, 2);
    await until(rig, 'polled fill', () => rec.fills().length === 2, 250);
    assert.equal(source.status().mode, 'polling');
    venue.fill(id, '0.25');
    venue.refuseConnections = false;
    await until(rig, 'back on the stream', () => source.status().mode === 'stream', 50);
    assert.equal(rec.alerts.at(-1)?.kind, 'account_stream_recovered');
    await until(rig, 'reconciled fills', () => rec.fills().length === venue.fills.length);
    venue.fill(id, '0.25');
    await until(rig, 'stream fill', () => rec.fills().length === venue.fills.length);
    assertFillsOnce(rig);
    assert.equal(source.status().healthy, true);
  });

  it('reads a subaccount not indexed yet as an empty snapshot, then its first updates', async () => {
    const rig = await setup({ notIndexed: true });
    const { venue, rec } = rig;
    await until(rig, 'empty snapshot', () => rec.of('snapshot').length > 0);
    assert.deepEqual(rec.of('snapshot')[0]?.snapshot.positions, []);
    assert.equal(
      toPlainString(rec.of('snapshot')[0]?.snapshot.summary.equity ?? { coef: 1n, scale: 0 }),
      '0',
    );
    venue.fill(venue.placeOrder('BTC-USD', 'BUY', '0.1', '60000'), '0.1');
    await until(rig, 'first fill', () => rec.fills().length === 1);
    assert.equal(rec.of('positions').at(-1)?.positions[0]?.symbol, 'BTC/USD');
  });
});

describe('dYdX account source: after a restart', () => {
  after(closeAll);

  it('with fillsSince, hands on the fills made while Tickwire was down, once each', async () => {
    const clock = new ManualClock(Date.parse('2026-12-03T09:00:00Z'));
    const venue = new AccountIndexer({ address: ADDRESS, subaccountNumber: 0, now: clock.now });
    await venue.start();
    const id = venue.placeOrder('ETH-USD', 'BUY', '1', '2500');
    const old = venue.fill(id, '0.5');
    clock.advance(60_000);
    const missed = venue.fill(id, '0.5');
    const source = createDydxAccountSource({
      account: { id: 'demo-dydx', venue: 'dydx' },
      address: ADDRESS,
      subaccountNumber: 0,
      wsUrl: venue.wsUrl,
      restUrl: venue.restUrl,
      requestsPerSecond: 1000,
      logger: silentLogger(),
      clock,
      fillsSince: Date.parse(missed.createdAt),
    });
    const rec = new Recorder(clock.now);
    const rig = { clock, venue, source, rec };
    rigs.push(rig);
    source.start(rec.handlers);
    await until(rig, 'catch-up fills', () => rec.fills().length === 1);
    assert.deepEqual(rec.fillIds(), [missed.id]);
    assert.equal(rec.of('fills')[0]?.source, 'rest');
    assert.ok(!rec.fillIds().includes(old.id), 'fills before fillsSince are the state’s already');
  });
});

describe('dYdX account source: a blocked address', () => {
  after(closeAll);

  it('raises account_login_failed, keeps retrying, and never logs or reports the address', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      format: 'json',
      destination: { write: (l) => lines.push(l) },
    });
    const rig = await setup({}, { logger });
    const { venue, source, rec } = rig;
    await until(rig, 'snapshot', () => rec.of('snapshot').length > 0);
    venue.blocked = true;
    venue.dropAll();
    await until(rig, 'alert', () => rec.alerts.some((a) => a.kind === 'account_login_failed'));
    await until(
      rig,
      'resubscribed after refusal',
      () => venue.received.filter((m) => (m as { type?: string }).type === 'subscribe').length >= 4,
    );
    assert.equal(rec.alerts.filter((a) => a.kind === 'account_login_failed').length, 1, 'alerted once');
    assert.equal(source.status().lastError?.code, 'VENUE_REJECTED');
    venue.blocked = false;
    await until(rig, 'accepted again', () => source.status().subscriptions.length === 1);
    const everything = JSON.stringify([lines, rec.alerts, rec.statuses, source.status()]);
    assert.ok(lines.length > 0);
    assert.ok(!everything.includes(ADDRESS), 'the address leaked');
  });
});
