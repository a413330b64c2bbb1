/**
 * How the dashboard writes numbers and times. Market prices and sizes are shown exactly as the gateway sent them:
 * they arrive as JSON numbers written with their exact digits, and a double's shortest form gives those digits
 * back, so only the exponent form JavaScript uses for very small or very large numbers is spelled out. Account
 * amounts arrive as exact decimal strings and are shown rounded (exactly, on the digits, never through a float):
 * money to its currency's places (`moneyText`), prices to the instrument's price precision (`priceText`), sizes
 * trimmed of trailing zeros (`sizeText`); the exact value goes in the element's title. Times are shown in the
 * viewer's time zone; the UTC time goes in the title.
 */

const MISSING = '—';

/** The plain decimal digits of a number: `1e-7` → `"0.0000001"`, `67234.5` → `"67234.5"`. */
export function plainNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = String(value);
  const exponentAt = text.search(/e/i);
  if (exponentAt < 0) return text;
  const negative = text.startsWith('-');
  const mantissa = text.slice(negative ? 1 : 0, exponentAt);
  const exponent = Number(text.slice(exponentAt + 1));
  const pointAt = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const integerLength = (pointAt < 0 ? mantissa.length : pointAt) + exponent;
  let out: string;
  if (integerLength <= 0) out = '0.' + '0'.repeat(-integerLength) + digits;
  else if (integerLength >= digits.length) out = digits + '0'.repeat(integerLength - digits.length);
  else out = digits.slice(0, integerLength) + '.' + digits.slice(integerLength);
  return (negative ? '-' : '') + out;
}

/** A received decimal as text: a string as it is, a number by its digits, nothing as a dash. */
export function decimalText(value: number | string | undefined | null): string {
  if (value === undefined || value === null || value === '') return MISSING;
  return typeof value === 'number' ? plainNumber(value) : value;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * A decimal string rounded to `places` decimals, half away from zero, on its digits (exact for any length):
 * `"9983.64512526658"`, 2 → `"9983.65"`; `"67000.1"`, 2 → `"67000.10"`; `"-0.004"`, 2 → `"0.00"`. A string that is
 * not a plain decimal is returned as it is.
 */
export function roundDecimal(value: string, places: number): string {
  const match = DECIMAL.exec(value.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return value;
  const negative = match[1] === '-';
  const whole = match[2] || '0';
  const part = match[3] ?? '';
  const kept = BigInt(whole + part.padEnd(places, '0').slice(0, places));
  const roundUp = (part[places] ?? '0') >= '5';
  const digits = (roundUp ? kept + 1n : kept).toString().padStart(places + 1, '0');
  const text = places > 0 ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return negative && /[1-9]/.test(text) ? '-' + text : text;
}

/** A received decimal without the trailing zeros of its fraction: `"0.01000"` → `"0.01"`, `"5.000"` → `"5"`. */
export function trimZeros(value: string): string {
  if (!DECIMAL.test(value.trim()) || !value.includes('.')) return value;
  return value.trim().replace(/0+$/, '').replace(/\.$/, '');
}

/** Decimals money is shown with, per currency: the dollar-like ones (and any other) 2, BTC and ETH 8. */
const MONEY_PLACES: Readonly<Record<string, number>> = { BTC: 8, ETH: 8 };

export function moneyPlaces(currency: string | undefined): number {
  return MONEY_PLACES[(currency ?? '').toUpperCase()] ?? 2;
}

/** A money amount (balance, PnL, fee, margin) rounded to its currency's places; a dash when missing. */
export function moneyText(value: string | undefined | null, currency?: string): string {
  if (value === undefined || value === null || value === '') return MISSING;
  return roundDecimal(value, moneyPlaces(currency));
}

/** A money amount with an explicit sign, rounded: `"12.345"` → `"+12.35"`, `"-0.001"` → `"0.00"`. */
export function signedMoneyText(value: string | undefined, currency?: string): string {
  const text = moneyText(value, currency);
  return text !== MISSING && /[1-9]/.test(text) && !text.startsWith('-') ? '+' + text : text;
}

/** An account price rounded to the instrument's price precision (`places`); a dash when missing or zero. */
export function priceText(value: string | undefined | null, places: number): string {
  if (value === undefined || value === null || value === '' || /^[+-]?0*\.?0*$/.test(value)) return MISSING;
  return roundDecimal(value, places);
}

/** An account size as received, trimmed of trailing zeros. */
export function sizeText(value: string | undefined | null): string {
  if (value === undefined || value === null || value === '') return MISSING;
  return trimZeros(value);
}

/** Price decimals shown, as on the chart's axis: as many as the instrument's prices have, at least 2, at most 10. */
export const MIN_PRICE_PLACES = 2;
export const MAX_PRICE_PLACES = 10;

/**
 * The price precision of each instrument, learnt from the prices the page sees (market prices of the chosen
 * instrument, the account's fill prices): the most decimals any of them had (trailing zeros not counted), within
 * `MIN_PRICE_PLACES`…`MAX_PRICE_PLACES`.
 */
export class PricePrecisions {
  private readonly digits = new Map<string, number>();

  note(symbol: string, price: number | string | undefined): void {
    if (price === undefined || price === '') return;
    const text = typeof price === 'number' ? plainNumber(price) : trimZeros(price);
    const seen = fractionDigits(text);
    if (seen > (this.digits.get(symbol) ?? -1)) this.digits.set(symbol, seen);
  }

  places(symbol: string): number {
    return Math.min(MAX_PRICE_PLACES, Math.max(MIN_PRICE_PLACES, this.digits.get(symbol) ?? 0));
  }
}

/** How many digits follow the decimal point of a received decimal (`67234.5` → 1, `1e-7` → 7). */
export function fractionDigits(value: number | string): number {
  const text = typeof value === 'number' ? plainNumber(value) : value;
  const pointAt = text.indexOf('.');
  return pointAt < 0 ? 0 : text.length - pointAt - 1;
}

/**
 * A fraction written as a decimal string, as a percentage, by moving the decimal point two places (exact, no
 * float): `"0.583"` → `"58.3%"`, `"1"` → `"100%"`, `"0.0005"` → `"0.05%"`.
 */
export function fractionAsPercent(fraction: string | undefined): string {
  if (fraction === undefined || !/^-?\d+(\.\d+)?$/.test(fraction)) return MISSING;
  const negative = fraction.startsWith('-');
  const [whole = '0', part = ''] = fraction.replace('-', '').split('.');
  const padded = part.padEnd(2, '0');
  const integer = (whole + padded.slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = padded.slice(2).replace(/0+$/, '');
  const text = rest ? `${integer}.${rest}` : integer;
  return (negative && /[1-9]/.test(text) ? '-' : '') + text + '%';
}

/** Whether a received amount is above, below or at zero (for green / red colouring). */
export function signOf(value: number | string | undefined): 'positive' | 'negative' | 'zero' {
  if (value === undefined) return 'zero';
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n === 0) return 'zero';
  return n > 0 ? 'positive' : 'negative';
}

/** An amount with an explicit sign, as received: `"12.5"` → `"+12.5"`, `"-3"` → `"-3"`. */
export function signedText(value: number | string | undefined): string {
  const text = decimalText(value);
  return signOf(value) === 'positive' && !text.startsWith('+') ? '+' + text : text;
}

/** A computed percentage (not a received figure), with its sign and two decimals: `+1.23%`. */
export function percentText(percent: number | undefined): string {
  if (percent === undefined || !Number.isFinite(percent)) return MISSING;
  return (percent > 0 ? '+' : '') + percent.toFixed(2) + '%';
}

/** The change from `open` to `last` in percent, or undefined without an open. */
export function changePercent(last: number | undefined, open: number | undefined): number | undefined {
  if (last === undefined || open === undefined || open === 0) return undefined;
  return ((last - open) / open) * 100;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** The time of day in the viewer's zone, `HH:MM:SS` (with `.mmm` when `millis`). */
export function localClock(ms: number, millis = false): string {
  const d = new Date(ms);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return millis ? `${clock}.${pad(d.getMilliseconds(), 3)}` : clock;
}

/** Date and time in the viewer's zone, `YYYY-MM-DD HH:MM` (with seconds when `seconds`). */
export function localDateTime(ms: number, seconds = false): string {
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${date} ${time}${seconds ? ':' + pad(d.getSeconds()) : ''}`;
}

/** The hover text of a shown time: the same instant in UTC, `2026-12-03 10:00:00.123 UTC`. */
export function utcTitle(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/** How long ago, short: `0.4 s`, `12 s`, `3 min`, `2 h`, `5 d`. */
export function ageText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return MISSING;
  if (ms < 10_000) return (ms / 1000).toFixed(1) + ' s';
  if (ms < 60_000) return Math.floor(ms / 1000) + ' s';
  if (ms < 3_600_000) return Math.floor(ms / 60_000) + ' min';
  if (ms < 86_400_000) return Math.floor(ms / 3_600_000) + ' h';
  return Math.floor(ms / 86_400_000) + ' d';
}
