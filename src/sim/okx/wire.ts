/**
 * The OKX v5 frames and REST bodies the simulator writes. The simulator spells OKX's formats itself (it imports
 * nothing from src/venues), so the adapter is checked against an independent writer.
 */

export type OkxSimLevel = [string, string, string, string];

export interface OkxSimArg {
  channel: string;
  instId?: string;
}

export interface OkxSimTrade {
  instId: string;
  tradeId: string;
  px: string;
  sz: string;
  side: 'buy' | 'sell';
  ts: string;
  count: string;
  source: '0';
  seqId: number;
}

export interface OkxSimRestTrade {
  instId: string;
  tradeId: string;
  px: string;
  sz: string;
  side: 'buy' | 'sell';
  ts: string;
  source: '0';
}

export interface OkxSimTicker {
  instType: 'SPOT';
  instId: string;
  last: string;
  lastSz: string;
  askPx: string;
  askSz: string;
  bidPx: string;
  bidSz: string;
  open24h: string;
  high24h: string;
  low24h: string;
  volCcy24h: string;
  vol24h: string;
  sodUtc0: string;
  sodUtc8: string;
  ts: string;
}

export interface OkxSimBook {
  asks: OkxSimLevel[];
  bids: OkxSimLevel[];
  ts: string;
  checksum: number;
  seqId: number;
  prevSeqId: number;
}

/** [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]. */
export type OkxSimCandleRow = [string, string, string, string, string, string, string, string, '0' | '1'];

export interface OkxSimRestBody<T> {
  code: string;
  msg: string;
  data: T[];
}

export interface OkxSimInstrument {
  instType: 'SPOT';
  instId: string;
  uly: '';
  instFamily: '';
  baseCcy: string;
  quoteCcy: string;
  settleCcy: '';
  ctVal: '';
  ctMult: '';
  ctValCcy: '';
  listTime: string;
  expTime: '';
  lever: '';
  tickSz: string;
  lotSz: string;
  minSz: string;
  ctType: '';
  state: 'live';
  maxLmtSz: string;
  maxMktSz: string;
}
