import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { AccountEvent } from '../../account/contract.ts';
import { toPlainString } from '../../domain/decimal.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { ManualClock } from '../../util/clock.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';
import { freePort } from '../../../test/support/free-port.ts';
import { DydxAccountRest } from './account-rest.ts';
import { DydxAccountSource } from './account-source.ts';

// Frames of the captures (test/fixtures/SOURCES.md) handed to the source's frame handler directly: the socket
// itself is exercised in account-source.integration.test.ts.
const WS_DIR = `${FIXTURES_DIR}dydx/indexer_ws_captures_2024/`;
const ADDRESS = 'dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art';
const T = Date.parse('2024-08-20T00:00:00Z');
const sources: DydxAccountSource[] = [];

/** A started source whose socket goes nowhere (a refused port, and a clock that never moves). */
async function source(): Promise<{ source: DydxAccountSource; events: AccountEvent[] }> {
  const port = await freePort();
  const clock = new ManualClock(T);
  const rest = new DydxAccountRest({
    restUrl: `http://127.0.0.1:${port}`,
    address: ADDRESS,
    subaccountNumber: 0,
    clock,
  });
  const s = new DydxAccountSource({
    account: { id: 'a', venue: 'dydx' },
    wsUrl: `ws://127.0.0.1:${port}/v4/ws`,
    rest,
    logger: silentLogger(),
    clock,
  });
  const events: AccountEvent[] = [];
  s.start({ event: (e) => events.push(e), status: () => undefined, alert: () => undefined });
  sources.push(s);
  return { source: s, events };
}

function capture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(WS_DIR + name, 'utf8')) as Record<string, unknown>;
}

/** A capture re-addressed to the source's subaccount, as one text frame. */
function frame(body: Record<string, unknown>, messageId: number): string {
  return JSON.stringify({ ...body, id: `${ADDRESS}/0`, message_id: messageId });
}

describe('dYdX account source: frames', () => {
  after(async () => {
    for (const s of sources) await s.close();
  });

  it('hands on a batch in order, merges a partial order over the known one, derives equity', async () => {
    const { source: s, events } = await source();
    assert.equal(s.handleFrame(frame(capture('v4_accounts_balance.json'), 1), T).kind, 'data');
    const opened = capture('v4_accounts_channel_data_order.json');
    const openOrder = (opened['contents'] as { orders: Record<string, unknown>[] }).orders[0] ?? {};
    const order = { ...openOrder, id: '5a1c10aa-66bb-5cf2-a106-32d6470eb43e' };
    const expired = (
      capture('v4_accounts_channel_data_order_expired.json')['contents'] as { orders: unknown[] }
    ).orders[0];
    const fills = capture('v4_accounts_fills.json')['contents'];
    const batch = {
      type: 'channel_batch_data',
      channel: 'v4_subaccounts',
      version: '3.0.0',
      contents: [{ orders: [order] }, { orders: [expired] }, fills],
    };
    assert.equal(s.handleFrame(frame(batch, 2), T + 1).kind, 'data');
    const kinds = events.map((e) => e.kind);
    assert.deepEqual(kinds, ['snapshot', 'order', 'order', 'fills', 'order', 'positions', 'summary']);
    const [first, second] = events.filter((e) => e.kind === 'order');
    assert.equal(first?.kind === 'order' && first.order.status, 'open');
    assert.ok(second?.kind === 'order');
    assert.equal(second.order.status, 'canceled');
    assert.equal(second.order.reason, 'ORDER_REMOVAL_REASON_EXPIRED');
    assert.equal(second.order.side, 'buy', 'merged over the open order');
    const summary = events.at(-1);
    assert.ok(summary?.kind === 'summary');
    // USDC of the snapshot + BTC as the snapshot said + ETH as the fill's position update says (long 0.005
    // replacing the short): −5742.811799 + (0.1036 × 58308.139… + 46.746…) + (0.005 × 2955.62 − 1.683806695).
    assert.equal(toPlainString(summary.summary.equity), '357.752384037');
    // The stream never reports free collateral: the snapshot's stays.
    assert.equal(toPlainString(summary.summary.available), '20.9475641534');
    assert.equal(s.counters().unknownOrderUpdates, 0);
  });

  it('drops a frame whole when part of it is malformed, and refuses unknown schema majors', async () => {
    const { source: s, events } = await source();
    s.handleFrame(frame(capture('v4_accounts_subscribed.json'), 1), T);
    const fills = capture('v4_accounts_fills.json');
    const contents = fills['contents'] as Record<string, unknown>;
    const bad = { ...fills, contents: { ...contents, perpetualPositions: [{ market: 'ETH-USD' }] } };
    assert.equal(s.handleFrame(frame(bad, 2), T).kind, 'malformed');
    assert.equal(s.handleFrame(frame({ ...fills, version: '4.0.0' }, 3), T).kind, 'malformed');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['snapshot'],
    );
    assert.equal(s.counters().malformedFrames, 2);
    // Another subaccount's frames on the connection are not this account's.
    assert.equal(s.handleFrame(JSON.stringify({ ...fills, message_id: 4 }), T).kind, 'control');
  });

  it('refuses a summary refresh period that cannot be right', () => {
    const clock = new ManualClock(T);
    const rest = new DydxAccountRest({
      restUrl: 'http://127.0.0.1:9',
      address: ADDRESS,
      subaccountNumber: 0,
      clock,
    });
    for (const summaryRefreshMs of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(
        () =>
          new DydxAccountSource({
            account: { id: 'a', venue: 'dydx' },
            wsUrl: 'ws://127.0.0.1:9/v4/ws',
            rest,
            logger: silentLogger(),
            clock,
            summaryRefreshMs,
          }),
        /summaryRefreshMs must be a number ≥ 0/,
      );
  });
});
