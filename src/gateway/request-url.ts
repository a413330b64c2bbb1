/** The path of a request URL (`/api/candles` of `/api/candles?symbol=…`); `/` when there is none. */
export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** The query of a request URL. */
export function queryOf(url: string | undefined): URLSearchParams {
  const q = url === undefined ? -1 : url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : (url as string).slice(q + 1));
}
