/**
 * OKX v5 REST over the simulated markets: market/candles (the latest 1,440 bars), market/history-candles,
 * market/history-trades (type 1 by tradeId, type 2 by time), market/trades, market/books, market/ticker,
 * public/instruments and public/time. Bodies are OKX's `{"code","msg","data"}`; errors carry OKX's codes (51000
 * bad parameter, 51001 unknown instrument, 50011 rate limit with HTTP 429), the per-endpoint request limits of
 * the documentation are enforced per 2 s, and injected failures answer 429/418/5xx with Retry-After.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VenueFaultState } from '../faults.ts';
import { bucketStartOf, type BucketRule } from '../market/buckets.ts';
import { queryBars } from '../market/kline-query.ts';
import type { SimTrade } from '../market/market.ts';
import { byTradeTime, lowerBound } from '../market/trade-search.ts';
import { sendJson } from '../venue.ts';
import { candleRow, OKX_BARS } from './bars.ts';
import type { OkxSimInstrumentEntry, OkxSimInstruments } from './instruments.ts';
import { tickerOf } from './ticker.ts';
import type { OkxSimInstrument, OkxSimRestBody, OkxSimRestTrade } from './wire.ts';

export interface OkxRestSettings {
  /** Requests per 2 s allowed per endpoint before 429 code 50011; 0 uses OKX's documented number. */
  readonly restLimitPer2s: number;
}

/** OKX's documented limits (requests per 2 s per IP). */
const ENDPOINT_LIMITS: Readonly<Record<string, number>> = {
  '/api/v5/market/candles': 40,
  '/api/v5/market/history-candles': 20,
  '/api/v5/market/history-trades': 20,
  '/api/v5/market/trades': 100,
  '/api/v5/market/books': 40,
  '/api/v5/market/ticker': 20,
  '/api/v5/public/instruments': 20,
  '/api/v5/public/time': 10,
};

/** Bars the `candles` endpoint reaches back; older ones are only on `history-candles`. */
const RECENT_BARS = 1440;

class OkxRestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    msg: string,
  ) {
    super(msg);
  }
}

const INTEGER = /^[0-9]{1,16}$/;

function paramError(name: string): OkxRestError {
  return new OkxRestError(400, '51000', `Parameter ${name} error`);
}

function intParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!INTEGER.test(raw)) throw paramError(name);
  return Number(raw);
}

function limitParam(params: URLSearchParams, fallback: number, max: number, name = 'limit'): number {
  const limit = intParam(params, name);
  if (limit === undefined) return fallback;
  if (limit < 1) throw paramError(name);
  return Math.min(limit, max);
}

const byTradeId = (t: SimTrade): number => t.l;

export class OkxSimRest {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly instruments: OkxSimInstruments,
    private readonly faults: VenueFaultState,
    private readonly now: () => number,
    private readonly settings: OkxRestSettings,
  ) {}

  /** Serves `path` (after the venue prefix, e.g. "/api/v5/market/candles"). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    const failure = this.faults.takeRestFailure();
    if (failure !== undefined) {
      const headers: Record<string, string> = {};
      if (failure.status === 429 || failure.status === 418) {
        headers['retry-after'] = String(failure.retryAfterSec ?? 1);
        this.send(res, new OkxRestError(failure.status, '50011', 'Too Many Requests'), headers);
      } else {
        this.send(
          res,
          new OkxRestError(
            failure.status,
            '50001',
            'Service temporarily unavailable. Please try again later.',
          ),
        );
      }
      return;
    }
    try {
      if (req.method !== 'GET')
        throw new OkxRestError(405, '50000', `Method ${req.method ?? ''} not allowed`);
      const produce = this.route(path, url.searchParams);
      if (!this.admit(path)) {
        this.send(res, new OkxRestError(429, '50011', 'Too Many Requests'), { 'retry-after': '2' });
        return;
      }
      const body: OkxSimRestBody<unknown> = { code: '0', msg: '', data: produce() };
      sendJson(res, 200, JSON.stringify(body));
    } catch (err) {
      if (err instanceof OkxRestError) this.send(res, err);
      else throw err;
    }
  }

  private send(res: ServerResponse, err: OkxRestError, headers: Record<string, string> = {}): void {
    const body: OkxSimRestBody<never> = { code: err.code, msg: err.message, data: [] };
    sendJson(res, err.status, JSON.stringify(body), headers);
  }

  /** Counts the request in its endpoint's 2 s window; false when over the limit. */
  private admit(path: string): boolean {
    const limit =
      this.settings.restLimitPer2s > 0 ? this.settings.restLimitPer2s : (ENDPOINT_LIMITS[path] ?? 20);
    const now = this.now();
    const w = this.windows.get(path);
    if (w === undefined || now - w.start >= 2000) {
      this.windows.set(path, { start: now, count: 1 });
      return true;
    }
    w.count++;
    return w.count <= limit;
  }

  /** Validates the request and returns the producer of its `data` (run only when admitted). */
  private route(path: string, params: URLSearchParams): () => unknown[] {
    switch (path) {
      case '/api/v5/market/candles':
        return this.candles(params, true);
      case '/api/v5/market/history-candles':
        return this.candles(params, false);
      case '/api/v5/market/history-trades':
        return this.historyTrades(params);
      case '/api/v5/market/trades':
        return this.latestTrades(params);
      case '/api/v5/market/books':
        return this.books(params);
      case '/api/v5/market/ticker': {
        const instrument = this.instrument(params);
        return () => [tickerOf(instrument, this.now())];
      }
      case '/api/v5/public/instruments':
        return this.instrumentList(params);
      case '/api/v5/public/time':
        return () => [{ ts: String(this.now()) }];
      default:
        throw new OkxRestError(404, '50000', `Unknown endpoint: ${path}`);
    }
  }

  private instrument(params: URLSearchParams): OkxSimInstrumentEntry {
    const instId = params.get('instId');
    if (instId === null || instId === '')
      throw new OkxRestError(400, '50014', 'Parameter instId can not be empty');
    const instrument = this.instruments.get(instId);
    if (instrument === undefined) throw new OkxRestError(400, '51001', "Instrument ID doesn't exist");
    return instrument;
  }

  private candles(params: URLSearchParams, recentOnly: boolean): () => unknown[] {
    const instrument = this.instrument(params);
    const barName = params.get('bar') ?? '1m';
    const rule = OKX_BARS.get(barName);
    if (rule === undefined) throw paramError('bar');
    const after = intParam(params, 'after');
    const before = intParam(params, 'before');
    const limit = limitParam(params, 100, recentOnly ? 300 : 100);
    return () => {
      const market = instrument.market;
      const now = this.now();
      const endTime = after === undefined ? undefined : after - 1;
      const bars = endTime !== undefined && endTime < 0 ? [] : queryBars(market, rule, { endTime, limit });
      const oldest = recentOnly ? recentFloor(rule, market.currentMinuteTime) : Number.NEGATIVE_INFINITY;
      const out: unknown[] = [];
      for (let i = bars.length - 1; i >= 0; i--) {
        const bar = bars[i];
        if (bar === undefined || bar.openTime < oldest) break;
        if (before !== undefined && bar.openTime <= before) break;
        out.push(candleRow(bar, instrument.fmt, now));
      }
      return out;
    };
  }

  private historyTrades(params: URLSearchParams): () => OkxSimRestTrade[] {
    const instrument = this.instrument(params);
    const type = params.get('type') ?? '1';
    if (type !== '1' && type !== '2') throw paramError('type');
    const after = intParam(params, 'after');
    const before = intParam(params, 'before');
    if (type === '2' && before !== undefined) throw paramError('before');
    const limit = limitParam(params, 100, 100);
    const key = type === '1' ? byTradeId : byTradeTime;
    return () => {
      const trades = instrument.market.recentTrades();
      const to = after === undefined ? trades.length : lowerBound(trades, key, after);
      const from = before === undefined ? 0 : lowerBound(trades, key, before + 1);
      const out: OkxSimRestTrade[] = [];
      for (let i = to - 1; i >= from && out.length < limit; i--) {
        out.push(restTrade(instrument, trades[i] as SimTrade));
      }
      return out;
    };
  }

  private latestTrades(params: URLSearchParams): () => OkxSimRestTrade[] {
    const instrument = this.instrument(params);
    const limit = limitParam(params, 100, 500);
    return () => {
      const trades = instrument.market.recentTrades();
      const out: OkxSimRestTrade[] = [];
      for (let i = trades.length - 1; i >= 0 && out.length < limit; i--) {
        out.push(restTrade(instrument, trades[i] as SimTrade));
      }
      return out;
    };
  }

  private books(params: URLSearchParams): () => unknown[] {
    const instrument = this.instrument(params);
    const size = limitParam(params, 1, 400, 'sz');
    return () => {
      const { asks, bids, ts } = instrument.book.snapshot(this.now(), size);
      return [{ asks, bids, ts }];
    };
  }

  private instrumentList(params: URLSearchParams): () => OkxSimInstrument[] {
    const type = params.get('instType');
    if (type === null || type === '')
      throw new OkxRestError(400, '50014', 'Parameter instType can not be empty');
    const instId = params.get('instId');
    if (instId !== null && instId !== '' && this.instruments.get(instId) === undefined) {
      throw new OkxRestError(400, '51001', "Instrument ID doesn't exist");
    }
    return () => {
      if (type !== 'SPOT') return [];
      const out: OkxSimInstrument[] = [];
      for (const i of this.instruments.all()) {
        if (instId !== null && instId !== '' && i.instId !== instId) continue;
        const { spec } = i.market;
        out.push({
          instType: 'SPOT',
          instId: i.instId,
          uly: '',
          instFamily: '',
          baseCcy: spec.base,
          quoteCcy: spec.quote,
          settleCcy: '',
          ctVal: '',
          ctMult: '',
          ctValCcy: '',
          listTime: String(i.market.firstMinute),
          expTime: '',
          lever: '',
          tickSz: i.fmt.price(1),
          lotSz: i.fmt.size(1),
          minSz: i.fmt.size(1),
          ctType: '',
          state: 'live',
          maxLmtSz: '9999999999',
          maxMktSz: '1000000',
        });
      }
      return out;
    };
  }
}

/** Open time of the oldest bar `candles` still serves: the 1,440th bar back from the current one. */
function recentFloor(rule: BucketRule, nowMinute: number): number {
  if (rule.kind !== 'fixed') return Number.NEGATIVE_INFINITY;
  return bucketStartOf(rule, nowMinute) - (RECENT_BARS - 1) * rule.ms;
}

/** A trade as OKX REST prints it: tradeId is the last fill's id of the aggregated trade. */
export function restTrade(instrument: OkxSimInstrumentEntry, t: SimTrade): OkxSimRestTrade {
  return {
    instId: instrument.instId,
    tradeId: String(t.l),
    px: instrument.fmt.price(t.ticks),
    sz: instrument.fmt.size(t.lots),
    side: t.buyerMaker ? 'sell' : 'buy',
    ts: String(t.T),
    source: '0',
  };
}
