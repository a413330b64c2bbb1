import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';
import type { AccountEvent } from '../../account/contract.ts';
import { parseDecimal, toPlainString, type Decimal } from '../../domain/decimal.ts';
import { envelopeData } from './parse.ts';
import {
  BitgetLoginError,
  IMPLIED_MARK_PLACES,
  impliedMark,
  parseBitgetPrivateFrame,
  parseRestFills,
  parseRestFuturesAccounts,
  parseRestOrders,
  parseRestPositions,
  parseRestSpotAssets,
  type BitgetPrivateFrame,
} from './account-parse.ts';

/*
 * Sources: `bitget/ccxt_bitget_v2_comment_samples_2023-12.json` (probably real: account, positions, orders, login
 * ack, error 30015) and `bitget-private-docs-examples_2025-03.json` (Bitget's documentation examples: fill, orders
 * with a fill, REST answers); see test/fixtures/SOURCES.md. Frames written by hand below (string login code,
 * the other refusal codes, a closed-position push, a spot fill push, a rebate) follow those formats: no capture of
 * them exists.
 */
type Samples = { messages: Record<string, unknown> };
const ccxt = JSON.parse(
  readFileSync(`${FIXTURES_DIR}bitget/ccxt_bitget_v2_comment_samples_2023-12.json`, 'utf8'),
) as Samples;
const docs = JSON.parse(
  readFileSync(`${FIXTURES_DIR}bitget-private-docs-examples_2025-03.json`, 'utf8'),
) as Samples;

const dec = parseDecimal;
const text = (d: Decimal | undefined): string | undefined => (d === undefined ? undefined : toPlainString(d));

function frame(samples: Samples, name: string): BitgetPrivateFrame {
  const message = samples.messages[name];
  assert.ok(message !== undefined, `sample ${name}`);
  return parseBitgetPrivateFrame(JSON.stringify(message));
}

function eventsOf(f: BitgetPrivateFrame): readonly AccountEvent[] {
  assert.equal(f.kind, 'events', f.kind === 'unknown' ? f.reason : f.kind);
  return (f as Extract<BitgetPrivateFrame, { kind: 'events' }>).events;
}

function only<K extends AccountEvent['kind']>(
  events: readonly AccountEvent[],
  kind: K,
): Extract<AccountEvent, { kind: K }> {
  assert.equal(events.length, 1);
  const e = events[0] as AccountEvent;
  assert.equal(e.kind, kind);
  return e as Extract<AccountEvent, { kind: K }>;
}

describe('Bitget private frames', () => {
  it('reads the login answer with the code as a number or a string', () => {
    assert.deepEqual(frame(ccxt, 'login_ack'), { kind: 'loggedIn' });
    assert.deepEqual(parseBitgetPrivateFrame('{"event":"login","code":"0","msg":""}'), { kind: 'loggedIn' });
    assert.deepEqual(parseBitgetPrivateFrame('pong'), { kind: 'pong' });
  });

  it('turns every login refusal code into a typed login error', () => {
    const f = frame(ccxt, 'error_invalid_sign');
    assert.equal(f.kind, 'loginRefused');
    const error = (f as Extract<BitgetPrivateFrame, { kind: 'loginRefused' }>).error;
    assert.ok(error instanceof BitgetLoginError);
    assert.equal(error.code, '30015');
    assert.equal(error.message, 'Bitget refused the login: 30015 Invalid sign');
    // Hand-written in the same format: the other codes of the table, numeric and string, and a failed login code.
    for (const [code, msg] of [
      [30005, 'Login failed'],
      ['30011', 'Invalid ACCESS_KEY'],
      [30012, 'Invalid ACCESS_PASSPHRASE'],
      [30013, 'Invalid ACCESS_TIMESTAMP'],
      [30014, 'Request timestamp expired'],
    ] as const) {
      const r = parseBitgetPrivateFrame(JSON.stringify({ event: 'error', code, msg }));
      assert.equal(r.kind, 'loginRefused', String(code));
      assert.equal((r as Extract<BitgetPrivateFrame, { kind: 'loginRefused' }>).error.code, String(code));
    }
    const viaLogin = parseBitgetPrivateFrame('{"event":"login","code":30005,"msg":"Login failed"}');
    assert.equal(viaLogin.kind, 'loginRefused');
  });

  it('keeps other errors (a refused subscription) apart from login refusals', () => {
    const f = parseBitgetPrivateFrame(
      '{"event":"error","arg":{"instType":"USDT-FUTURES","channel":"positionz","instId":"default"},"code":30001,"msg":"channel doesn\'t exist","op":"subscribe"}',
    );
    assert.equal(f.kind, 'error');
    assert.equal((f as Extract<BitgetPrivateFrame, { kind: 'error' }>).code, '30001');
  });

  it('maps the spot account push to balances: total = available + frozen + locked', () => {
    const b = only(eventsOf(frame(ccxt, 'account_spot')), 'balances').balances;
    assert.equal(b.length, 1);
    assert.equal(b[0]?.currency, 'USDT');
    assert.equal(text(b[0]?.available), '19.1430952856087');
    assert.equal(text(b[0]?.locked), '7');
    assert.equal(text(b[0]?.total), '26.1430952856087');
    assert.equal(b[0]?.time, 1701931970487);
  });

  it('maps the futures account push to the summary (equity usdtEquity, exact)', () => {
    const s = only(eventsOf(frame(ccxt, 'account_usdt_futures')), 'summary').summary;
    assert.equal(text(s.equity), '26.143095285166');
    assert.equal(s.currency, 'USDT');
    assert.equal(text(s.available), '26.14309528');
    assert.equal(text(s.unrealizedPnl), '0', 'unrealizedPL absent in this push');
    assert.equal(s.time, 1701932570822, 'the push ts: futures account rows carry no time');
  });

  it('maps a positions push as the complete list: leverage number, crossed → cross', () => {
    const e = only(eventsOf(frame(ccxt, 'positions_usdt_futures')), 'positions');
    assert.equal(e.complete, true);
    assert.equal(e.time, 1701913043767);
    const p = e.positions[0];
    assert.ok(p);
    assert.equal(p.symbol, 'BTC/USDT');
    assert.equal(p.side, 'long');
    assert.equal(text(p.size), '0.001');
    assert.equal(text(p.entryPrice), '43849');
    assert.equal(text(p.leverage), '20');
    assert.equal(p.marginMode, 'cross');
    assert.equal(text(p.unrealizedPnl), '-0.0032');
    assert.equal(text(p.realizedPnl), '0');
    assert.equal(text(p.liquidationPrice), '17629.684814834');
    assert.equal(text(p.margin), '2.19245');
    assert.equal(p.timestamp, 1701913016923);
    // The push has no markPrice: the mark is the one its unrealized PnL implies, 43849 + (-0.0032 / 0.001).
    assert.equal(text(p.markPrice), '43845.8');
    // Hand-written: the push after the last position closed is an empty list, which replaces the old one.
    const closed = parseBitgetPrivateFrame(
      '{"action":"snapshot","arg":{"instType":"USDT-FUTURES","channel":"positions","instId":"default"},"data":[],"ts":1701913100000}',
    );
    assert.deepEqual(only(eventsOf(closed), 'positions').positions, []);
  });

  it('maps orders: live → open, canceled, a market order without a price, fee fields ignored', () => {
    const spot = only(eventsOf(frame(ccxt, 'orders_spot')), 'order').order;
    assert.equal(spot.status, 'open');
    assert.equal(spot.market, 'spot');
    assert.equal(spot.symbol, 'BTC/USDT');
    assert.equal(spot.clientOrderId, '798d1425-d31d-4ada-a51b-ec701e00a1d9');
    assert.equal(text(spot.price), '35000');
    assert.equal(text(spot.size), '7');
    assert.equal(text(spot.filledSize), '0');
    assert.equal(spot.averagePrice, undefined, 'priceAvg "0.00" means none yet');
    const fut = only(eventsOf(frame(ccxt, 'orders_usdt_futures')), 'order').order;
    assert.equal(fut.status, 'canceled');
    assert.equal(fut.market, 'perpetual');
    assert.equal(fut.reduceOnly, false);
    const filled = only(eventsOf(frame(docs, 'orders_usdt_futures_filled')), 'order').order;
    assert.equal(filled.status, 'filled');
    assert.equal(filled.type, 'market');
    assert.equal(filled.price, undefined);
    assert.equal(text(filled.averagePrice), '27000.5');
    assert.equal(text(filled.filledSize), '0.01');
    assert.equal(filled.clientOrderId, '1', 'clientOId spelling of the docs example');
    // `cancelled` (orders-algo spelling) reads as canceled too.
    const raw = structuredClone(ccxt.messages['orders_usdt_futures']) as { data: { status: string }[] };
    (raw.data[0] as { status: string }).status = 'cancelled';
    assert.equal(
      only(eventsOf(parseBitgetPrivateFrame(JSON.stringify(raw))), 'order').order.status,
      'canceled',
    );
  });

  it('maps a futures fill with its negative fee as a positive fee paid', () => {
    const fills = only(eventsOf(frame(docs, 'fill_usdt_futures')), 'fills');
    assert.equal(fills.source, 'stream');
    const f = fills.fills[0];
    assert.ok(f);
    assert.equal(f.fillId, '222');
    assert.equal(f.orderId, '111');
    assert.equal(f.symbol, 'BTC/USDT');
    assert.equal(f.market, 'perpetual');
    assert.equal(f.side, 'buy');
    assert.equal(text(f.price), '51000.5');
    assert.equal(text(f.size), '0.01');
    assert.equal(text(f.fee), '0.183717');
    assert.equal(f.feeCurrency, 'USDT');
    assert.equal(f.liquidity, 'taker');
    assert.equal(text(f.realizedPnl), '0');
    assert.equal(f.liquidation, undefined);
    assert.equal(f.time, 1703577336606);
  });

  it('maps a spot fill push, a maker rebate (negative fee) and a liquidation fill (hand-written)', () => {
    const spot = parseBitgetPrivateFrame(
      JSON.stringify({
        action: 'snapshot',
        arg: { instType: 'SPOT', channel: 'fill', instId: 'default' },
        data: [
          {
            orderId: '1200',
            tradeId: '1300',
            symbol: 'ETHUSDT',
            orderType: 'limit',
            side: 'sell',
            priceAvg: '2301.17',
            size: '0.5',
            amount: '1150.585',
            tradeScope: 'maker',
            feeDetail: [{ feeCoin: 'USDT', deduction: 'no', totalDeductionFee: '0', totalFee: '0.0115' }],
            cTime: '1701931970487',
            uTime: '1701931970487',
          },
        ],
        ts: 1701931970500,
      }),
    );
    const f = only(eventsOf(spot), 'fills').fills[0];
    assert.equal(f?.market, 'spot');
    assert.equal(text(f?.price), '2301.17');
    assert.equal(text(f?.fee), '-0.0115', 'a rebate is a negative fee paid');
    assert.equal(f?.liquidity, 'maker');
    const raw = structuredClone(docs.messages['fill_usdt_futures']) as { data: Record<string, string>[] };
    (raw.data[0] as Record<string, string>)['tradeSide'] = 'burst_close_long';
    const liq = only(eventsOf(parseBitgetPrivateFrame(JSON.stringify(raw))), 'fills').fills[0];
    assert.equal(liq?.liquidation, true);
  });

  it('works out the mark of a pushed position from its unrealized PnL, long and short; a given markPrice wins', () => {
    // Bitget's documented all-position example: entry 25000, size 0.01, unrealizedPL 1, markPrice 25100.
    assert.equal(text(impliedMark('long', dec('0.01'), dec('25000'), dec('1'))), '25100');
    assert.equal(text(impliedMark('short', dec('0.5'), dec('3500.25'), dec('-12.5'))), '3525.25');
    assert.equal(text(impliedMark('short', dec('2'), dec('100'), dec('0'))), '100');
    assert.equal(impliedMark('long', dec('0'), dec('100'), dec('0')), undefined, 'no size, no mark');
    assert.equal(
      text(impliedMark('long', dec('3'), dec('100'), dec('1'))),
      '100.33333333',
      `rounded to ${IMPLIED_MARK_PLACES} places`,
    );
    const row = (extra: Record<string, unknown>) =>
      parseBitgetPrivateFrame(
        JSON.stringify({
          action: 'snapshot',
          arg: { instType: 'USDT-FUTURES', channel: 'positions', instId: 'default' },
          data: [
            {
              posId: '1',
              instId: 'ETHUSDT',
              marginCoin: 'USDT',
              marginSize: '350',
              marginMode: 'isolated',
              holdSide: 'short',
              total: '0.5',
              openPriceAvg: '3500.25',
              leverage: 5,
              unrealizedPL: '-12.5',
              liquidationPrice: '4100',
              uTime: '1701913016923',
              ...extra,
            },
          ],
          ts: 1701913043767,
        }),
      );
    const [implied] = only(eventsOf(row({})), 'positions').positions;
    assert.equal(text(implied?.markPrice), '3525.25');
    const [given] = only(eventsOf(row({ markPrice: '3525.3' })), 'positions').positions;
    assert.equal(text(given?.markPrice), '3525.3');
  });

  it('reports malformed frames as unknown and other channels as ignored, never throwing', () => {
    assert.equal(parseBitgetPrivateFrame('{').kind, 'unknown');
    assert.equal(parseBitgetPrivateFrame('[]').kind, 'unknown');
    const bad = structuredClone(ccxt.messages['positions_usdt_futures']) as {
      data: Record<string, unknown>[];
    };
    (bad.data[0] as Record<string, unknown>)['total'] = 0.001;
    const r = parseBitgetPrivateFrame(JSON.stringify(bad));
    assert.equal(r.kind, 'unknown');
    assert.match((r as Extract<BitgetPrivateFrame, { kind: 'unknown' }>).reason, /field total/);
    assert.equal(frame(ccxt, 'orders_algo_usdt_futures').kind, 'ignored');
    assert.equal(frame(ccxt, 'account_crossed_margin').kind, 'ignored');
    assert.equal(frame(ccxt, 'ticker_spot').kind, 'ignored');
  });
});

describe('Bitget private REST answers', () => {
  const data = (name: string): unknown => envelopeData(docs.messages[name]);

  it('reads accounts, positions (leverage as a string), pending orders and fills', () => {
    const s = parseRestFuturesAccounts(data('rest_mix_accounts'), 5);
    assert.equal(text(s?.equity), '10582.902657719473');
    assert.equal(text(s?.unrealizedPnl), '0', '"" is no value');
    const [p] = parseRestPositions(data('rest_mix_all_position'));
    assert.equal(text(p?.leverage), '20');
    assert.equal(p?.marginMode, 'isolated');
    assert.equal(text(p?.markPrice), '25100');
    assert.equal(text(p?.liquidationPrice), '24144.1124161806977798');
    const [o] = parseRestOrders(data('rest_mix_orders_pending'), 'perpetual');
    assert.equal(o?.symbol, 'ETH/USDT');
    assert.equal(o?.status, 'partially_filled');
    assert.equal(text(o?.filledSize), '12.1');
    const [f] = parseRestFills(data('rest_mix_fills'), 'perpetual');
    assert.equal(text(f?.fee), '0.017118519726');
    assert.equal(f?.feeCurrency, 'BGB');
    assert.equal(text(f?.realizedPnl), '102');
    const [sf] = parseRestFills(data('rest_spot_fills'), 'spot');
    assert.equal(text(sf?.fee), '0.0000007', 'spot REST feeDetail is one object');
    assert.equal(sf?.feeCurrency, 'BTC');
    assert.equal(text(sf?.price), '13000');
    assert.deepEqual(parseRestOrders({ entrustedList: null, endId: null }, 'perpetual'), []);
    assert.deepEqual(parseRestFills({ fillList: null, endId: null }, 'perpetual'), []);
    assert.equal(parseRestSpotAssets([]).length, 0);
  });
});
