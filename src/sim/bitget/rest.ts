/**
 * Bitget v2 REST over the simulated markets, spot (`/api/v2/spot/...`) and USDT futures (`/api/v2/mix/...` with
 * `productType=usdt-futures`): candles, fills-history / fills, tickers, orderbook and merge-depth, server time.
 * Answers use Bitget's envelope `{"code":"00000","msg":"success","requestTime":ms,"data":...}`; errors come with
 * HTTP 400 and Bitget's codes (40019 missing parameter, 40020 bad parameter, 40034 unknown symbol), 404 with 40404,
 * and 429 `Too Many Requests` past the per-second request limit or when a fault is injected.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VenueFaultState } from '../faults.ts';
import { queryBars } from '../market/kline-query.ts';
import type { SimTrade } from '../market/market.ts';
import { sendJson } from '../venue.ts';
import {
  BITGET_MIX_GRANULARITIES,
  BITGET_SPOT_GRANULARITIES,
  bitgetTradeId,
  bucketRuleOf,
  candleRow,
  type BitgetSimInstType,
  type BitgetSimInstrument,
  type BitgetSimInstruments,
} from './instruments.ts';
import type { BitgetStreamServer } from './stream-server.ts';

export interface BitgetRestSettings {
  /** Requests per second answered before 429 (Bitget: 20 per endpoint per IP; one budget here). */
  readonly restRequestsPerSecond: number;
}

class BitgetRestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    msg: string,
  ) {
    super(msg);
  }
}

const INT_PARAM = /^[0-9]{1,20}$/;
const FILLS_WINDOW_MS = 7 * 24 * 3_600_000;

function missing(name: string): BitgetRestError {
  return new BitgetRestError(400, '40019', `Parameter ${name} cannot be empty`);
}

function intParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!INT_PARAM.test(raw)) throw new BitgetRestError(400, '40020', `Parameter ${name} error`);
  return Number(raw);
}

function limitParam(params: URLSearchParams, fallback: number, max: number): number {
  const limit = intParam(params, 'limit') ?? fallback;
  if (limit < 1 || limit > max) throw new BitgetRestError(400, '40020', 'Parameter limit error');
  return limit;
}

export class BitgetSimRest {
  private second = 0;
  private used = 0;

  constructor(
    private readonly instruments: BitgetSimInstruments,
    private readonly streams: BitgetStreamServer,
    private readonly faults: VenueFaultState,
    private readonly now: () => number,
    private readonly settings: BitgetRestSettings,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    const failure = this.faults.takeRestFailure();
    if (failure !== undefined) {
      const headers: Record<string, string> =
        failure.retryAfterSec !== undefined ? { 'retry-after': String(failure.retryAfterSec) } : {};
      const msg =
        failure.status === 429 || failure.status === 418 ? 'Too Many Requests' : 'Internal Server Error';
      sendJson(res, failure.status, this.body(String(failure.status), msg, null), headers);
      return;
    }
    const second = Math.floor(performance.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.used = 0;
    }
    if (++this.used > this.settings.restRequestsPerSecond) {
      sendJson(res, 429, this.body('429', 'Too Many Requests', null), { 'retry-after': '1' });
      return;
    }
    try {
      if (req.method !== 'GET') throw new BitgetRestError(405, '40404', 'Request URL NOT FOUND');
      const data = this.route(path, url.searchParams);
      sendJson(res, 200, this.body('00000', 'success', data));
    } catch (err) {
      if (!(err instanceof BitgetRestError)) throw err;
      sendJson(res, err.status, this.body(err.code, err.message, null));
    }
  }

  private body(code: string, msg: string, data: unknown): string {
    return JSON.stringify({ code, msg, requestTime: this.now(), data });
  }

  private route(path: string, params: URLSearchParams): unknown {
    switch (path) {
      case '/api/v2/public/time':
        return { serverTime: String(this.now()) };
      case '/api/v2/spot/market/candles':
        return this.candles('SPOT', params);
      case '/api/v2/mix/market/candles':
        return this.candles(this.product(params), params);
      case '/api/v2/spot/market/fills-history':
        return this.fillsHistory('SPOT', params);
      case '/api/v2/mix/market/fills-history':
        return this.fillsHistory(this.product(params), params);
      case '/api/v2/spot/market/fills':
        return this.fills('SPOT', params);
      case '/api/v2/mix/market/fills':
        return this.fills(this.product(params), params);
      case '/api/v2/spot/market/tickers':
        return this.spotTickers(params);
      case '/api/v2/mix/market/ticker':
        return [this.ticker(this.instrument(this.product(params), params))];
      case '/api/v2/spot/market/orderbook':
        return this.orderbook(this.instrument('SPOT', params), limitParam(params, 100, 150));
      case '/api/v2/spot/market/merge-depth':
        return this.mergeDepth(this.instrument('SPOT', params), params);
      case '/api/v2/mix/market/merge-depth':
        return this.mergeDepth(this.instrument(this.product(params), params), params);
      default:
        throw new BitgetRestError(404, '40404', 'Request URL NOT FOUND');
    }
  }

  /** `productType`: only USDT futures are simulated (Bitget accepts either case). */
  private product(params: URLSearchParams): BitgetSimInstType {
    const raw = params.get('productType');
    if (raw === null || raw === '') throw missing('productType');
    if (raw.toLowerCase() !== 'usdt-futures')
      throw new BitgetRestError(400, '40020', 'Parameter productType error');
    return 'USDT-FUTURES';
  }

  private instrument(instType: BitgetSimInstType, params: URLSearchParams): BitgetSimInstrument {
    const symbol = params.get('symbol');
    if (symbol === null || symbol === '') throw missing('symbol');
    const instrument = this.instruments.get(instType, symbol);
    if (instrument === undefined)
      throw new BitgetRestError(400, '40034', `Parameter ${symbol} does not exist`);
    return instrument;
  }

  /**
   * Bars ascending. With startTime and endTime, the latest `limit` bars of the range; with endTime only, the latest
   * bars up to it; the bar in progress is included.
   */
  private candles(instType: BitgetSimInstType, params: URLSearchParams): string[][] {
    const instrument = this.instrument(instType, params);
    const granularity = params.get('granularity');
    if (granularity === null || granularity === '') throw missing('granularity');
    const ms = (instType === 'SPOT' ? BITGET_SPOT_GRANULARITIES : BITGET_MIX_GRANULARITIES).get(granularity);
    if (ms === undefined) throw new BitgetRestError(400, '40020', 'Parameter granularity error');
    const limit = limitParam(params, 100, 1000);
    const startTime = intParam(params, 'startTime');
    const endTime = intParam(params, 'endTime');
    if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
      throw new BitgetRestError(400, '40020', 'Parameter startTime error');
    }
    const bars = queryBars(instrument.market, bucketRuleOf(ms), {
      ...(endTime !== undefined ? { endTime } : {}),
      limit,
    }).filter((bar) => startTime === undefined || bar.openTime >= startTime);
    return bars.map((bar) => candleRow(bar, instrument.fmt, instType === 'SPOT' ? 8 : 7));
  }

  /** Trades newest first, within [startTime, endTime] (≤ 7 days), below `idLessThan`. */
  private fillsHistory(instType: BitgetSimInstType, params: URLSearchParams): unknown[] {
    const instrument = this.instrument(instType, params);
    const limit = limitParam(params, 500, 1000);
    const startTime = intParam(params, 'startTime');
    const endTime = intParam(params, 'endTime') ?? this.now();
    if (startTime !== undefined && (startTime > endTime || endTime - startTime > FILLS_WINDOW_MS)) {
      throw new BitgetRestError(400, '40020', 'Parameter startTime error');
    }
    const idRaw = params.get('idLessThan');
    if (idRaw !== null && idRaw !== '' && !INT_PARAM.test(idRaw)) {
      throw new BitgetRestError(400, '40020', 'Parameter idLessThan error');
    }
    const below = idRaw === null || idRaw === '' ? undefined : BigInt(idRaw);
    return this.collect(instrument, limit, (t, id) => {
      if (t.T > endTime) return 'skip';
      if (startTime !== undefined && t.T < startTime) return 'stop';
      return below !== undefined && BigInt(id) >= below ? 'skip' : 'take';
    });
  }

  private fills(instType: BitgetSimInstType, params: URLSearchParams): unknown[] {
    const instrument = this.instrument(instType, params);
    return this.collect(instrument, limitParam(params, 100, 500), () => 'take');
  }

  private collect(
    instrument: BitgetSimInstrument,
    limit: number,
    decide: (trade: SimTrade, id: string) => 'take' | 'skip' | 'stop',
  ): unknown[] {
    const trades = instrument.market.recentTrades();
    const out: unknown[] = [];
    for (let i = trades.length - 1; i >= 0 && out.length < limit; i--) {
      const t = trades[i] as SimTrade;
      const id = bitgetTradeId(t.a);
      const verdict = decide(t, id);
      if (verdict === 'stop') break;
      if (verdict === 'skip') continue;
      out.push({
        symbol: instrument.instId,
        tradeId: id,
        side: t.buyerMaker ? 'Sell' : 'Buy',
        price: instrument.fmt.price(t.ticks),
        size: instrument.fmt.size(t.lots),
        ts: String(t.T),
      });
    }
    return out;
  }

  private spotTickers(params: URLSearchParams): unknown[] {
    const symbol = params.get('symbol');
    if (symbol === null || symbol === '') {
      return [...this.instruments.all()].filter((i) => i.instType === 'SPOT').map((i) => this.ticker(i));
    }
    return [this.ticker(this.instrument('SPOT', params))];
  }

  private ticker(instrument: BitgetSimInstrument): Record<string, string> {
    const row = this.streams.tickerRow(instrument);
    const { instId: _instId, open24h, ...rest } = row;
    return { symbol: instrument.instId, open: open24h ?? '', ...rest, usdtVolume: row['quoteVolume'] ?? '0' };
  }

  private orderbook(instrument: BitgetSimInstrument, limit: number): unknown {
    const { bids, asks } = this.streams.freshBook(instrument).levels(limit);
    return { asks, bids, ts: String(this.now()) };
  }

  private mergeDepth(instrument: BitgetSimInstrument, params: URLSearchParams): unknown {
    const raw = params.get('limit') ?? '100';
    const limit = raw === 'max' ? 150 : Number(raw);
    if (!['1', '5', '15', '50', '100', 'max'].includes(raw)) {
      throw new BitgetRestError(400, '40020', 'Parameter limit error');
    }
    const { bids, asks } = this.streams.freshBook(instrument).levels(limit);
    return {
      asks,
      bids,
      ts: String(this.now()),
      scale: instrument.fmt.price(1),
      precision: 'scale0',
      isMaxPrecision: 'YES',
    };
  }
}
