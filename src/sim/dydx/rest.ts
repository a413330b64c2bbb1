/**
 * dYdX v4 Indexer REST (/v4/...) over the simulated markets: perpetualMarkets, candles (newest first, paged back
 * with toISO), trades (newest first, paged back with startingBeforeOrAtHeight), orderbooks, time and height.
 * Errors use the indexer's `{"errors":[{msg, param, location, value}]}` body; injected failures answer 429/418/5xx.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VenueFaultState } from '../faults.ts';
import { queryBars } from '../market/kline-query.ts';
import type { SimTrade } from '../market/market.ts';
import { byTradeTime, lowerBound } from '../market/trade-search.ts';
import { sendJson } from '../venue.ts';
import type { SimBook } from './book.ts';
import { candleObject, fillTrades, marketObject, RESOLUTIONS, type DydxSimTrade } from './format.ts';
import type { DydxSimInstrument, DydxSimInstruments } from './instruments.ts';

export interface DydxRestSettings {
  /** Largest `limit` of candles and trades; larger ones are capped. */
  readonly restMaxLimit: number;
  /** `limit` when none is given. */
  readonly restDefaultLimit: number;
}

class DydxRestError extends Error {
  constructor(
    readonly status: number,
    msg: string,
    readonly param?: string,
    readonly value?: string,
  ) {
    super(msg);
  }

  body(): string {
    const item: Record<string, string> = { msg: this.message };
    if (this.param !== undefined) {
      item['param'] = this.param;
      item['location'] = 'query';
      if (this.value !== undefined) item['value'] = this.value;
    }
    return JSON.stringify({ errors: [item] });
  }
}

function intParam(params: URLSearchParams, name: string, min: number): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new DydxRestError(400, `${name} must be a valid integer >= ${min}`, name, raw);
  }
  return n;
}

function isoParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const t = Date.parse(raw);
  if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
    throw new DydxRestError(400, `${name} must be a valid ISO 8601 date`, name, raw);
  }
  return t;
}

export class DydxSimRest {
  constructor(
    private readonly instruments: DydxSimInstruments,
    private readonly books: ReadonlyMap<DydxSimInstrument, SimBook>,
    private readonly faults: VenueFaultState,
    private readonly now: () => number,
    private readonly settings: DydxRestSettings,
  ) {}

  /** Serves `path` (after the venue prefix, e.g. "/v4/candles/perpetualMarkets/BTC-USD"). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    const failure = this.faults.takeRestFailure();
    if (failure !== undefined) {
      const headers: Record<string, string> = {};
      if (failure.status === 429 || failure.status === 418) {
        headers['retry-after'] = String(failure.retryAfterSec ?? 1);
      }
      const msg = failure.status >= 500 ? 'Internal Server Error' : 'Too many requests';
      sendJson(res, failure.status, JSON.stringify({ errors: [{ msg }] }), headers);
      return;
    }
    try {
      if (req.method !== 'GET') throw new DydxRestError(405, 'Method not allowed');
      sendJson(res, 200, JSON.stringify(this.route(path, url.searchParams)));
    } catch (err) {
      if (!(err instanceof DydxRestError)) throw err;
      sendJson(res, err.status, err.body());
    }
  }

  private route(path: string, params: URLSearchParams): unknown {
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v4') throw new DydxRestError(404, 'Not found');
    const [, resource, sub, ticker] = parts;
    switch (resource) {
      case 'time': {
        const now = this.now();
        return { iso: new Date(now).toISOString(), epoch: now / 1000 };
      }
      case 'height': {
        const first = this.instruments.all().next().value;
        const now = this.now();
        return { height: String(first?.height(now) ?? 0), time: new Date(now).toISOString() };
      }
      case 'perpetualMarkets':
        if (sub !== undefined) break;
        return this.markets(params.get('ticker'));
      case 'candles':
        if (sub === 'perpetualMarkets' && ticker !== undefined && parts.length === 4)
          return this.candles(this.instrument(ticker), params);
        break;
      case 'trades':
        if (sub === 'perpetualMarket' && ticker !== undefined && parts.length === 4)
          return this.trades(this.instrument(ticker), params);
        break;
      case 'orderbooks':
        if (sub === 'perpetualMarket' && ticker !== undefined && parts.length === 4)
          return this.orderbook(this.instrument(ticker));
        break;
    }
    throw new DydxRestError(404, 'Not found');
  }

  private instrument(ticker: string): DydxSimInstrument {
    const instrument = this.instruments.get(decodeURIComponent(ticker));
    if (instrument === undefined)
      throw new DydxRestError(404, `${ticker} not found in markets of type PERPETUAL`);
    return instrument;
  }

  private limit(params: URLSearchParams): number {
    const limit = intParam(params, 'limit', 1) ?? this.settings.restDefaultLimit;
    return Math.min(limit, this.settings.restMaxLimit);
  }

  private markets(ticker: string | null): unknown {
    const markets: Record<string, unknown> = {};
    for (const instrument of this.instruments.all()) {
      if (ticker !== null && instrument.ticker !== ticker) continue;
      markets[instrument.ticker] = marketObject(instrument);
    }
    if (ticker !== null && Object.keys(markets).length === 0) {
      throw new DydxRestError(404, `${ticker} not found in markets of type PERPETUAL`);
    }
    return { markets };
  }

  private candles(instrument: DydxSimInstrument, params: URLSearchParams): unknown {
    const resolution = params.get('resolution');
    const rule = resolution === null ? undefined : RESOLUTIONS.get(resolution);
    if (resolution === null || rule === undefined) {
      throw new DydxRestError(
        400,
        `resolution must be one of ${[...RESOLUTIONS.keys()].join(', ')}`,
        'resolution',
        resolution ?? undefined,
      );
    }
    const from = isoParam(params, 'fromISO');
    const to = isoParam(params, 'toISO');
    const limit = this.limit(params);
    const bars = queryBars(instrument.market, rule, { ...(to === undefined ? {} : { endTime: to }), limit });
    const candles = [];
    for (let i = bars.length - 1; i >= 0; i--) {
      const bar = bars[i];
      if (bar === undefined || (from !== undefined && bar.openTime < from)) break;
      candles.push(candleObject(instrument, resolution, bar));
    }
    return { candles };
  }

  /** Fills newest first: by height, then fill number, both descending. */
  private trades(instrument: DydxSimInstrument, params: URLSearchParams): unknown {
    const limit = this.limit(params);
    const maxHeight = intParam(params, 'startingBeforeOrAtHeight', 0);
    const trades = instrument.market.recentTrades();
    let end = trades.length;
    if (maxHeight !== undefined) {
      const before = instrument.blockTime(maxHeight + 1);
      end = lowerBound(trades, byTradeTime, before);
    }
    const out: DydxSimTrade[] = [];
    for (let i = end - 1; i >= 0 && out.length < limit; i--) {
      const fills = fillTrades(instrument, trades[i] as SimTrade, true);
      for (let j = fills.length - 1; j >= 0 && out.length < limit; j--) out.push(fills[j] as DydxSimTrade);
    }
    return { trades: out };
  }

  private orderbook(instrument: DydxSimInstrument): unknown {
    const book = this.books.get(instrument);
    const levels = book?.sorted() ?? { bids: [], asks: [] };
    return {
      bids: levels.bids.map(([t, l]) => ({ price: instrument.price(t), size: instrument.size(l) })),
      asks: levels.asks.map(([t, l]) => ({ price: instrument.price(t), size: instrument.size(l) })),
    };
  }
}
