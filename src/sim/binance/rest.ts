/**
 * Binance spot REST (/api/v3) over the simulated markets: ping, time, exchangeInfo, klines, aggTrades, trades and
 * depth, with Binance's parameter rules, error bodies ({"code":-1121,"msg":"Invalid symbol."} with HTTP 400),
 * request weights reported in X-MBX-USED-WEIGHT-1M, and injected failures (429/418/5xx).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MINUTE_MS } from '../../domain/interval.ts';
import type { VenueFaultState } from '../faults.ts';
import { queryBars } from '../market/kline-query.ts';
import { fillLots, type SimTrade } from '../market/market.ts';
import { byTradeTime, lowerBound } from '../market/trade-search.ts';
import { sendJson } from '../venue.ts';
import { klineRow } from './format.ts';
import { BINANCE_INTERVALS } from './intervals.ts';
import type { BinanceSimInstrument, BinanceSimInstruments } from './symbols.ts';
import { bookTickerOf, restTickerOf } from './ticker.ts';
import type {
  BinanceSimAggTradeItem,
  BinanceSimDepth,
  BinanceSimExchangeInfo,
  BinanceSimRestError,
  BinanceSimSymbolInfo,
  BinanceSimTradeItem,
} from './wire.ts';

export interface BinanceRestSettings {
  /** REQUEST_WEIGHT limit per minute, as advertised in exchangeInfo; exceeding it answers 429. */
  readonly weightLimitPerMinute: number;
}

/** A Binance REST error: HTTP status plus Binance's body. */
class BinanceRestError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    msg: string,
  ) {
    super(msg);
  }
}

const MAX_HOUR_SPAN_MS = 60 * MINUTE_MS;
const NUMBER_PARAM = /^-?[0-9]{1,20}$/;

function mandatory(name: string): BinanceRestError {
  return new BinanceRestError(
    400,
    -1102,
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
}

function intParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!NUMBER_PARAM.test(raw)) {
    throw new BinanceRestError(
      400,
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`,
    );
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new BinanceRestError(400, -1130, `Data sent for parameter '${name}' is not valid.`);
  }
  return n;
}

function limitParam(params: URLSearchParams, fallback: number, max: number): number {
  const limit = intParam(params, 'limit');
  if (limit === undefined) return fallback;
  if (limit < 1) throw new BinanceRestError(400, -1130, "Data sent for parameter 'limit' is not valid.");
  // Binance caps an oversized limit instead of rejecting it.
  return Math.min(limit, max);
}

const byId = (t: SimTrade): number => t.a;

export class BinanceSimRest {
  private weightMinute = 0;
  private weightUsed = 0;

  constructor(
    private readonly instruments: BinanceSimInstruments,
    private readonly faults: VenueFaultState,
    private readonly now: () => number,
    private readonly settings: BinanceRestSettings,
  ) {}

  /** Serves `path` (after the venue prefix, e.g. "/api/v3/klines"). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    const failure = this.faults.takeRestFailure();
    if (failure !== undefined) {
      const retry = failure.retryAfterSec ?? 1;
      const headers: Record<string, string> = {};
      let body: BinanceRestError;
      if (failure.status === 429 || failure.status === 418) {
        headers['retry-after'] = String(retry);
        const banned = new Date(this.now() + retry * 1000).getTime();
        body =
          failure.status === 429
            ? new BinanceRestError(
                429,
                -1003,
                'Too many requests; please use the websocket for live updates.',
              )
            : new BinanceRestError(418, -1003, `Way too many requests; IP banned until ${banned}.`);
      } else {
        body = new BinanceRestError(
          failure.status,
          -1001,
          'Internal error; unable to process your request. Please try again.',
        );
      }
      this.sendError(res, body, headers);
      return;
    }
    try {
      if (req.method !== 'GET')
        throw new BinanceRestError(405, -1000, `Method ${req.method ?? ''} is not supported.`);
      const [weight, produce] = this.route(path, url.searchParams);
      const used = this.addWeight(weight);
      const headers = { 'x-mbx-used-weight': String(used), 'x-mbx-used-weight-1m': String(used) };
      if (used > this.settings.weightLimitPerMinute) {
        const retry = Math.max(1, Math.ceil((this.weightMinute + MINUTE_MS - this.now()) / 1000));
        const limit = this.settings.weightLimitPerMinute;
        const msg = `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`;
        this.sendError(res, new BinanceRestError(429, -1003, msg), {
          ...headers,
          'retry-after': String(retry),
        });
        return;
      }
      const body = JSON.stringify(produce());
      const delayMs = path === '/api/v3/klines' ? this.historyDelay(url.searchParams) : 0;
      if (delayMs > 0) {
        // A late answer is dropped with its connection (the client gave up, or the simulator closes).
        const timer = setTimeout(() => sendJson(res, 200, body, headers), delayMs);
        res.once('close', () => clearTimeout(timer));
      } else sendJson(res, 200, body, headers);
    } catch (err) {
      if (err instanceof BinanceRestError) this.sendError(res, err);
      else throw err;
    }
  }

  /** The history delay of the klines request's symbol (a fault); 0 for an unknown symbol. */
  private historyDelay(params: URLSearchParams): number {
    const instrument = this.instruments.get(params.get('symbol') ?? '');
    return instrument === undefined ? 0 : this.faults.historyDelayOf(instrument.market.spec.symbol);
  }

  private sendError(res: ServerResponse, err: BinanceRestError, headers: Record<string, string> = {}): void {
    const body: BinanceSimRestError = { code: err.code, msg: err.message };
    sendJson(res, err.status, JSON.stringify(body), headers);
  }

  private addWeight(weight: number): number {
    const minute = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS;
    if (minute !== this.weightMinute) {
      this.weightMinute = minute;
      this.weightUsed = 0;
    }
    this.weightUsed += weight;
    return this.weightUsed;
  }

  /** Validates the request and returns its weight and the producer of its body (run only when admitted). */
  private route(path: string, params: URLSearchParams): [number, () => unknown] {
    switch (path) {
      case '/api/v3/ping':
        return [1, () => ({})];
      case '/api/v3/time':
        return [1, () => ({ serverTime: this.now() })];
      case '/api/v3/exchangeInfo':
        return this.exchangeInfo(params);
      case '/api/v3/klines':
        return this.klines(params);
      case '/api/v3/aggTrades':
        return this.aggTrades(params);
      case '/api/v3/trades':
        return this.trades(params);
      case '/api/v3/depth':
        return this.depth(params);
      case '/api/v3/ticker/24hr': {
        const instrument = this.instrument(params);
        return [2, () => restTickerOf(instrument, this.now())];
      }
      case '/api/v3/ticker/bookTicker': {
        const instrument = this.instrument(params);
        const top = bookTickerOf(instrument);
        return [2, () => ({ symbol: top.s, bidPrice: top.b, bidQty: top.B, askPrice: top.a, askQty: top.A })];
      }
      default:
        throw new BinanceRestError(404, -1000, `Unknown endpoint: ${path}`);
    }
  }

  private instrument(params: URLSearchParams): BinanceSimInstrument {
    const name = params.get('symbol');
    if (name === null || name === '') throw mandatory('symbol');
    const instrument = this.instruments.get(name);
    if (instrument === undefined) throw new BinanceRestError(400, -1121, 'Invalid symbol.');
    return instrument;
  }

  private exchangeInfo(params: URLSearchParams): [number, () => BinanceSimExchangeInfo] {
    let selected: BinanceSimInstrument[];
    const one = params.get('symbol');
    const many = params.get('symbols');
    if (one !== null) {
      selected = [this.instrument(params)];
    } else if (many !== null) {
      let names: unknown;
      try {
        names = JSON.parse(many);
      } catch {
        throw new BinanceRestError(400, -1100, "Illegal characters found in parameter 'symbols'.");
      }
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
        throw new BinanceRestError(400, -1130, "Data sent for parameter 'symbols' is not valid.");
      }
      selected = (names as string[]).map((n) => {
        const instrument = this.instruments.get(n);
        if (instrument === undefined) throw new BinanceRestError(400, -1121, 'Invalid symbol.');
        return instrument;
      });
    } else {
      selected = [...this.instruments.all()];
    }
    return [
      20,
      () => ({
        timezone: 'UTC',
        serverTime: this.now(),
        rateLimits: [
          {
            rateLimitType: 'REQUEST_WEIGHT',
            interval: 'MINUTE',
            intervalNum: 1,
            limit: this.settings.weightLimitPerMinute,
          },
          { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
          { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200_000 },
          { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61_000 },
        ],
        exchangeFilters: [],
        symbols: selected.map((i) => symbolInfo(i)),
      }),
    ];
  }

  private klines(params: URLSearchParams): [number, () => unknown] {
    const instrument = this.instrument(params);
    const intervalName = params.get('interval');
    if (intervalName === null || intervalName === '') throw mandatory('interval');
    const rule = BINANCE_INTERVALS.get(intervalName);
    if (rule === undefined) throw new BinanceRestError(400, -1120, 'Invalid interval.');
    const startTime = intParam(params, 'startTime');
    const endTime = intParam(params, 'endTime');
    const limit = limitParam(params, 500, 1000);
    if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
      throw new BinanceRestError(400, -1130, "Data sent for parameter 'startTime' is not valid.");
    }
    return [
      2,
      () =>
        queryBars(instrument.market, rule, { startTime, endTime, limit }).map((bar) =>
          klineRow(bar, instrument.fmt),
        ),
    ];
  }

  private aggTrades(params: URLSearchParams): [number, () => BinanceSimAggTradeItem[]] {
    const instrument = this.instrument(params);
    const fromId = intParam(params, 'fromId');
    const startTime = intParam(params, 'startTime');
    const endTime = intParam(params, 'endTime');
    const limit = limitParam(params, 500, 1000);
    if (fromId !== undefined && (startTime !== undefined || endTime !== undefined)) {
      throw new BinanceRestError(400, -1128, 'Combination of optional parameters invalid.');
    }
    if (startTime !== undefined && endTime !== undefined) {
      if (endTime < startTime || endTime - startTime > MAX_HOUR_SPAN_MS) {
        throw new BinanceRestError(400, -1127, 'More than 1 hours between startTime and endTime.');
      }
    }
    return [
      4,
      () => {
        const trades = instrument.market.recentTrades();
        let from: number;
        let to: number;
        if (fromId !== undefined) {
          from = lowerBound(trades, byId, fromId);
          to = Math.min(trades.length, from + limit);
        } else if (startTime !== undefined) {
          from = lowerBound(trades, byTradeTime, startTime);
          to = endTime === undefined ? trades.length : lowerBound(trades, byTradeTime, endTime + 1);
          to = Math.min(to, from + limit);
        } else {
          to = endTime === undefined ? trades.length : lowerBound(trades, byTradeTime, endTime + 1);
          from = Math.max(0, to - limit);
        }
        const fmt = instrument.fmt;
        const out: BinanceSimAggTradeItem[] = [];
        for (let i = from; i < to; i++) {
          const t = trades[i] as SimTrade;
          out.push({
            a: t.a,
            p: fmt.price(t.ticks),
            q: fmt.qty(t.lots),
            f: t.f,
            l: t.l,
            T: t.T,
            m: t.buyerMaker,
            M: true,
          });
        }
        return out;
      },
    ];
  }

  private trades(params: URLSearchParams): [number, () => BinanceSimTradeItem[]] {
    const instrument = this.instrument(params);
    const limit = limitParam(params, 500, 1000);
    return [
      25,
      () => {
        const trades = instrument.market.recentTrades();
        const fmt = instrument.fmt;
        const out: BinanceSimTradeItem[] = [];
        // Walk back over aggregate trades until `limit` individual fills are collected, then emit oldest first.
        let i = trades.length - 1;
        let need = limit;
        while (i >= 0 && need > 0) {
          need -= (trades[i] as SimTrade).l - (trades[i] as SimTrade).f + 1;
          i--;
        }
        for (let j = i + 1; j < trades.length; j++) {
          const t = trades[j] as SimTrade;
          for (let id = t.f; id <= t.l; id++) {
            const lots = fillLots(t, id - t.f);
            out.push({
              id,
              price: fmt.price(t.ticks),
              qty: fmt.qty(lots),
              quoteQty: fmt.quote(BigInt(t.ticks) * BigInt(lots)),
              time: t.T,
              isBuyerMaker: t.buyerMaker,
              isBestMatch: true,
            });
          }
        }
        return out.slice(Math.max(0, out.length - limit));
      },
    ];
  }

  private depth(params: URLSearchParams): [number, () => BinanceSimDepth] {
    const instrument = this.instrument(params);
    const limit = limitParam(params, 100, 5000);
    const weight = limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    return [weight, () => instrument.book.snapshot(limit)];
  }
}

function symbolInfo(instrument: BinanceSimInstrument): BinanceSimSymbolInfo {
  const { spec } = instrument.market;
  const fmt = instrument.fmt;
  return {
    symbol: instrument.name,
    status: 'TRADING',
    baseAsset: spec.base,
    baseAssetPrecision: 8,
    quoteAsset: spec.quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: fmt.price(1),
        maxPrice: fmt.price(100_000_000_000),
        tickSize: fmt.price(1),
      },
      { filterType: 'LOT_SIZE', minQty: fmt.qty(1), maxQty: fmt.qty(9_000_000_000), stepSize: fmt.qty(1) },
    ],
    permissions: ['SPOT'],
  };
}
