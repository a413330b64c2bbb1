/**
 * The account token of the page: given in the URL's fragment (`#token=…`, which browsers never send to a server
 * or write in its logs) or typed into the token field. The fragment may hold other settings too:
 * `#token=…&symbol=BTC/USDT&interval=5m&venue=okx`.
 */

export interface HashSettings {
  readonly token?: string;
  readonly symbol?: string;
  readonly interval?: string;
  readonly venue?: string;
}

/**
 * The `name=value` pairs of a fragment, percent-decoded. Not `URLSearchParams`: it reads `+` as a space, and a
 * static API token may hold a `+`.
 */
function hashPairs(hash: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of hash.replace(/^#/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      value = raw;
    }
    pairs.push([name, value]);
  }
  return pairs;
}

/** Reads the settings of a `location.hash` (with or without the leading `#`); the last of a repeated name wins. */
export function readHash(hash: string): HashSettings {
  const pairs = hashPairs(hash);
  const read = (name: string): string | undefined => {
    let found: string | undefined;
    for (const [key, value] of pairs) if (key === name) found = value.trim();
    return found ? found : undefined;
  };
  const settings: { -readonly [K in keyof HashSettings]: HashSettings[K] } = {};
  const token = read('token');
  const symbol = read('symbol');
  const interval = read('interval');
  const venue = read('venue');
  if (token !== undefined) settings.token = token;
  if (symbol !== undefined) settings.symbol = symbol;
  if (interval !== undefined) settings.interval = interval;
  if (venue !== undefined) settings.venue = venue;
  return settings;
}

/** The fragment without its token, so that the token does not stay in the address bar or the history. */
export function hashWithoutToken(hash: string): string {
  const rest = hash
    .replace(/^#/, '')
    .split('&')
    .filter((part) => part && !part.startsWith('token=') && part !== 'token');
  return rest.length > 0 ? '#' + rest.join('&') : '';
}
