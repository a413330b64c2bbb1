/**
 * Venues and instruments in Tickwire's canonical form.
 *
 * Symbols are written BASE/QUOTE in upper case ("BTC/USDT"); each venue maps them to its own spelling in
 * its symbols.ts. dYdX perpetuals are quoted in USD ("BTC/USD").
 */
export const VENUES = ['binance', 'bitget', 'okx', 'dydx'] as const;
export type VenueId = (typeof VENUES)[number];

export function isVenueId(value: unknown): value is VenueId {
  return typeof value === 'string' && (VENUES as readonly string[]).includes(value);
}

const SYMBOL_PATTERN = /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/;

export function isCanonicalSymbol(value: unknown): value is string {
  return typeof value === 'string' && SYMBOL_PATTERN.test(value);
}

export interface SymbolParts {
  readonly base: string;
  readonly quote: string;
}

/** Splits "BTC/USDT" into its parts; throws on a symbol that is not canonical. */
export function splitSymbol(symbol: string): SymbolParts {
  if (!isCanonicalSymbol(symbol)) throw new Error(`not a canonical symbol (BASE/QUOTE): "${symbol}"`);
  const [base = '', quote = ''] = symbol.split('/');
  return { base, quote };
}
