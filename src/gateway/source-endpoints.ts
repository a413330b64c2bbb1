import type {
  ActiveSource,
  ActiveSourceResponse,
  HealthResponse,
  InstrumentHealth,
  InstrumentSourcesView,
  SourceErrorResponse,
  SourceRow,
  SourcesView,
} from '../protocol/source-status.ts';

/** Paths of the source status endpoints (GET and HEAD). */
export const SOURCE_PATHS: ReadonlySet<string> = new Set([
  '/api/websocket/health',
  '/api/websocket/sources',
  '/api/websocket/active-source',
]);

export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

export const NO_PROVIDER_TEXT =
  'Source status unavailable: no multi-source feed runs in this gateway process (see docs/PROTOCOL.md)';
export const PROVIDER_FAILED_TEXT = 'Source status unavailable: the feed failed to report it';
/** Longest `symbol` query value echoed back in an error text. */
const MAX_ECHO = 64;

function error(status: number, text: string): HttpAnswer {
  const body: SourceErrorResponse = { error: text };
  return { status, body };
}

function health(i: InstrumentSourcesView): InstrumentHealth {
  let connected = 0;
  let activeHealthy = false;
  for (const s of i.sources) {
    if (s.connected) connected++;
    if (s.exchange === i.activeSource && s.healthy) activeHealthy = true;
  }
  return {
    healthy: activeHealthy,
    activeSource: i.activeSource,
    connectedSources: connected,
    totalSources: i.sources.length,
    symbol: i.symbol,
  };
}

function rows(i: InstrumentSourcesView): SourceRow[] {
  return i.sources.map((s) => ({
    exchange: s.exchange,
    connected: s.connected,
    latency: s.latency,
    lastUpdate: s.lastUpdate,
    messagesReceived: s.messagesReceived,
    errors: s.errors,
    healthy: s.healthy,
    ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
    symbol: i.symbol,
    active: s.exchange === i.activeSource,
    primary: s.exchange === i.primary,
  }));
}

function active(i: InstrumentSourcesView): ActiveSource {
  return {
    activeSource: i.activeSource,
    symbol: i.symbol,
    primary: i.primary,
    since: i.activeSource === null ? null : (i.activeSince ?? null),
  };
}

/**
 * Answers one of SOURCE_PATHS from the feed's `provider` (GET or HEAD already checked by the caller). Query
 * `symbol` selects one instrument (404 when the feed does not track it). Without a provider: 503; when the
 * provider throws: 500 and `onProviderError` is told. Never throws.
 */
export function answerSourceRequest(
  path: string,
  query: URLSearchParams,
  provider: (() => SourcesView) | undefined,
  onProviderError: (err: unknown) => void,
): HttpAnswer {
  if (provider === undefined) return error(503, NO_PROVIDER_TEXT);
  let instruments: readonly InstrumentSourcesView[];
  try {
    instruments = provider().instruments;
  } catch (err) {
    onProviderError(err);
    return error(500, PROVIDER_FAILED_TEXT);
  }
  const symbol = query.get('symbol');
  if (symbol !== null) {
    const one = instruments.find((i) => i.symbol === symbol);
    if (one === undefined) {
      const shown = symbol.length > MAX_ECHO ? symbol.slice(0, MAX_ECHO) + '…' : symbol;
      const known = instruments.map((i) => i.symbol).join(', ') || 'none';
      return error(404, `Unknown symbol: ${shown}. Known: ${known}`);
    }
    if (path === '/api/websocket/sources') return { status: 200, body: rows(one) };
    if (path === '/api/websocket/active-source') return { status: 200, body: active(one) };
    const h = health(one);
    return { status: 200, body: h };
  }
  const first = instruments[0];
  if (path === '/api/websocket/sources') return { status: 200, body: instruments.flatMap(rows) };
  if (path === '/api/websocket/active-source') {
    const body: ActiveSourceResponse = {
      ...(first === undefined
        ? { activeSource: null, symbol: null, primary: null, since: null }
        : active(first)),
      instruments: instruments.map(active),
    };
    return { status: 200, body };
  }
  const all = instruments.map(health);
  const top = all[0];
  const body: HealthResponse = {
    healthy: top?.healthy ?? false,
    activeSource: top?.activeSource ?? null,
    connectedSources: top?.connectedSources ?? 0,
    totalSources: top?.totalSources ?? 0,
    symbol: top?.symbol ?? null,
    instruments: all,
  };
  return { status: 200, body };
}
