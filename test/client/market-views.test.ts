import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishAlert } from '../../src/bus/alert-message.ts';
import {
  BOOK_CHANNEL,
  encodeBookSnapshot,
  encodeTicker,
  encodeTrades,
  TICKER_CHANNEL,
  TRADES_CHANNEL,
} from '../../src/bus/market-message.ts';
import { TickwireClient } from '../../src/client/tickwire-client.ts';
import { newAlert, type AlertInput } from '../../src/domain/alert.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import type { VenueId } from '../../src/domain/instrument.ts';
import type { Trade } from '../../src/domain/trade.ts';
import { startTestGateway, type TestGateway } from '../gateway/helpers.ts';
import { NodeWebSocket, startGatewayProxy, until, type GatewayProxy } from './support.ts';

const SYMBOL = 'BTC/USDT';
const d = parseDecimal;
const T = Date.UTC(2024, 9, 24, 10);

function trade(venue: VenueId, id: number): Trade {
  return {
    venue,
    symbol: SYMBOL,
    id: String(id),
    seq: id,
    price: d(`67000.${String(id % 100).padStart(2, '0')}`),
    size: d('0.001'),
    side: id % 2 === 0 ? 'sell' : 'buy',
    fills: 1,
    time: T + id,
    receivedAt: T + id,
  };
}

function alert(input: Partial<AlertInput>): ReturnType<typeof newAlert> {
  return newAlert({
    severity: 'warning',
    kind: 'source_stale',
    venue: 'okx',
    symbol: SYMBOL,
    message: 'okx BTC/USDT: no update for 10 s',
    ...input,
  } as AlertInput);
}

describe('client: ticker, book, trades and alerts views (real gateway)', () => {
  let t: TestGateway;
  let proxy: GatewayProxy;
  let client: TickwireClient;
  before(async () => {
    t = await startTestGateway({ maxMessagesPerSecond: 10_000 });
    proxy = await startGatewayProxy(t.gateway.port);
    client = new TickwireClient({
      url: proxy.wsUrl,
      WebSocket: NodeWebSocket,
      reconnect: { minDelayMs: 10, maxDelayMs: 100 },
      polling: false,
    });
  });
  after(async () => {
    client.close();
    await proxy.close();
    await t.close();
  });

  const ticker = (venue: VenueId, last: string, time: number): void =>
    t.bus.publish(
      TICKER_CHANNEL,
      encodeTicker({
        venue,
        symbol: SYMBOL,
        last: d(last),
        bid: d('1'),
        ask: d('2'),
        time,
        receivedAt: time,
      }),
    );
  const book = (venue: VenueId, best: number, seq: number): void =>
    t.bus.publish(
      BOOK_CHANNEL,
      encodeBookSnapshot({
        venue,
        symbol: SYMBOL,
        bids: Array.from({ length: 30 }, (_, i) => ({ price: `${best - i}.5`, size: `${i + 1}` })),
        asks: Array.from({ length: 30 }, (_, i) => ({ price: `${best + i + 1}`, size: '0.25' })),
        seq,
        time: T + seq,
        receivedAt: T + seq,
      }),
    );

  it('follows each channel, shares rooms between views, and resubscribes all of them after a drop', async () => {
    const okxTicker = client.ticker({ symbol: SYMBOL, venue: 'okx' });
    const book20 = client.book({ venue: 'bitget', symbol: SYMBOL, depth: 20 });
    const book5 = client.book({ venue: 'bitget', symbol: SYMBOL, depth: 5 });
    const tape = client.trades({ venue: 'binance', symbol: SYMBOL, keep: 15 });
    const allAlerts = client.alerts();
    const critical = client.alerts({ minSeverity: 'critical' });
    const seen: number[] = [];
    okxTicker.subscribe((state) => seen.push(state?.last ?? -1));
    const early = alert({ message: 'before the client' });
    publishAlert(t.bus, early);
    await client.connect();
    assert.equal(client.status.state, 'connected');
    // The alerts snapshot answers the last subscribe the client sent: the gateway has taken all of them by then.
    await until(() => allAlerts.get().alerts.length === 1, 'the alerts snapshot');

    ticker('okx', '30000.1', T + 1);
    book('bitget', 67000, 1);
    t.bus.publish(
      TRADES_CHANNEL,
      encodeTrades(
        'binance',
        SYMBOL,
        [1, 2, 3, 4, 5].map((i) => trade('binance', i)),
      ),
    );
    const live1 = alert({ severity: 'critical', kind: 'failover_failed', message: 'no healthy source' });
    publishAlert(t.bus, live1);

    await until(() => okxTicker.get()?.last === 30000.1, 'the okx ticker');
    await until(() => book20.get()?.bids.length === 20, 'the book at depth 20');
    await until(() => tape.get().trades.length === 5, 'five trades');
    await until(() => allAlerts.get().alerts.length === 2, 'the snapshot and the live alert');
    assert.deepEqual(okxTicker.get(), {
      symbol: SYMBOL,
      venue: 'okx',
      last: 30000.1,
      bid: 1,
      ask: 2,
      time: T + 1,
      live: true,
    });
    assert.equal(book5.get()?.bids.length, 5, 'a shallower view of the same book');
    assert.deepEqual(book5.get()?.bids[0], [67000.5, 1]);
    assert.deepEqual(book20.get()?.asks[19], [67020, 0.25]);
    assert.deepEqual(
      tape.get().trades.map((x) => x.id),
      ['1', '2', '3', '4', '5'],
    );
    assert.deepEqual(
      allAlerts.get().alerts.map((a) => a.id),
      [early.id, live1.id],
    );
    assert.deepEqual(
      critical.get().alerts.map((a) => a.id),
      [live1.id],
      'each view filters for itself',
    );

    proxy.cut();
    await until(() => client.status.state !== 'connected', 'the drop');
    assert.equal(okxTicker.get()?.live, false);
    assert.equal(tape.get().live, false);
    ticker('okx', '30001.5', T + 2);
    book('bitget', 67100, 2);
    const whileAway = alert({ kind: 'failover', severity: 'warning', message: 'okx → binance' });
    publishAlert(t.bus, whileAway);
    proxy.restore();

    await until(() => okxTicker.get()?.last === 30001.5, 'the ticker after the reconnect');
    await until(() => book20.get()?.seq === 2, 'the book after the reconnect');
    await until(() => allAlerts.get().alerts.length === 3, 'the alert raised while away');
    assert.deepEqual(
      allAlerts.get().alerts.map((a) => a.id),
      [early.id, live1.id, whileAway.id],
      'the snapshot after the reconnect adds what was missed, nothing twice',
    );
    assert.equal(okxTicker.get()?.live, true);
    t.bus.publish(
      TRADES_CHANNEL,
      encodeTrades(
        'binance',
        SYMBOL,
        Array.from({ length: 20 }, (_, i) => trade('binance', 6 + i)),
      ),
    );
    await until(() => tape.get().trades.at(-1)?.id === '25', 'the trades after the reconnect');
    assert.equal(tape.get().trades.length, 15, 'the tape keeps the newest `keep`');
    assert.equal(tape.get().live, true);
    assert.ok(seen.length >= 2, 'listeners are told of each change');

    okxTicker.close();
    ticker('okx', '30002', T + 3);
    ticker('binance', '30003', T + 3);
    const binance = client.ticker({ symbol: SYMBOL, venue: 'binance' });
    await until(() => binance.get()?.last === 30003, 'a view opened later');
    assert.equal(okxTicker.get()?.last, 30001.5, 'a closed view no longer changes');
  });

  it('refuses bad input with clear errors, before anything reaches the gateway', () => {
    assert.throws(
      () => client.candles({ symbol: SYMBOL, interval: '10m' }),
      /Invalid interval: 10m\. Valid: 1m, 5m/,
    );
    assert.throws(
      () => client.candles({ symbol: SYMBOL, interval: '1m', initialBars: 5001 }),
      /initialBars must be an integer from 0 to 5000/,
    );
    assert.throws(
      () => client.book({ venue: 'okx', symbol: SYMBOL, depth: 0 }),
      /depth must be an integer from 1 to 50/,
    );
    assert.throws(() => client.book({ venue: '', symbol: SYMBOL }), /venue must be a venue name/);
    assert.throws(
      () => client.alerts({ minSeverity: 'loud' as 'info' }),
      /minSeverity must be one of info, warning, critical/,
    );
    assert.throws(
      () => new TickwireClient({ url: 'http://x', WebSocket: NodeWebSocket }),
      /ws:\/\/ or wss:\/\//,
    );
  });

  it('puts a refused subscription on its view (an unknown symbol)', async () => {
    const series = client.candles({ symbol: 'DOGE/USDT', interval: '1m' });
    const errors: string[] = [];
    const stop = client.on('error', (error) => errors.push(error.code));
    await until(() => series.get().error !== undefined, 'the refusal');
    assert.equal(series.get().error?.code, 'INVALID_SYMBOL');
    assert.deepEqual(errors, ['INVALID_SYMBOL']);
    stop();
    series.close();
  });

  it('subscribes a view opened on a connected client with its own filters', async () => {
    const late = new TickwireClient({ url: t.gateway.url, WebSocket: NodeWebSocket, polling: false });
    try {
      await late.connect();
      const info = alert({ severity: 'info', kind: 'source_recovered', message: 'okx is back' });
      publishAlert(t.bus, info);
      const okxOnly = late.alerts({ venue: 'okx' });
      await until(() => okxOnly.get().alerts.some((a) => a.id === info.id), 'an info alert in the snapshot');
      const criticalOnly = late.alerts({ minSeverity: 'critical' });
      assert.ok(
        criticalOnly.get().alerts.every((a) => a.severity === 'critical'),
        'each view keeps to its filter',
      );
      okxOnly.close();
      const binance = alert({
        severity: 'critical',
        kind: 'failover_failed',
        venue: 'binance',
        message: 'b',
      });
      publishAlert(t.bus, binance);
      await until(
        () => criticalOnly.get().alerts.some((a) => a.id === binance.id),
        'the narrower filter kept',
      );
    } finally {
      late.close();
    }
  });
});
