/**
 * The exchange simulator: one HTTP server on loopback in which each venue answers under its own path prefix
 * (`/binance/...`) in that venue's real wire protocol, over markets generated from a seeded price process. Point
 * Tickwire at it with the venue URL variables (see `simulatorBanner`), and everything runs without the internet.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isCanonicalSymbol, type VenueId } from '../domain/instrument.ts';
import { silentLogger, type Logger } from '../telemetry/logger.ts';
import { demoAccountLines } from './accounts/config.ts';
import type { SimVenueAccounts } from './accounts/venue-accounts.ts';
import { createSimFaults, VenueFaultState, type SimFaults } from './faults.ts';
import { simVenueDefinitions, type SimulatorUrls, type SimVenueSettings } from './registry.ts';
import { createUnderlyings } from './venue-kit.ts';
import { sendJson, type SimVenue } from './venue.ts';
import { MAX_TRADES_PER_SECOND } from './trade-rate.ts';
import type { SimMarket } from './market/market.ts';

export interface SimulatorOptions extends SimVenueSettings {
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Seed of every random draw; the same seed and options give the same markets. Default 1. */
  readonly seed?: number;
  /** Canonical symbols ("BTC/USDT"), served on every venue. */
  readonly symbols: readonly string[];
  /** Days of one-minute history generated at start; default 30. */
  readonly historyDays?: number;
  /** Span before now for which individual aggregate trades are kept and served over REST; default 2 h. */
  readonly tradeWindowMs?: number;
  /** Mean aggregate trades per second per symbol in a calm regime (bursts and volatility vary it); default 5. */
  readonly tradesPerSecond?: number;
  /** Period of the timer that generates live trades; default 100 ms. */
  readonly tickMs?: number;
  readonly logger?: Logger;
  /** Clock (ms UTC); inject one to drive time from a test. Default Date.now. */
  readonly now?: () => number;
  /**
   * Called once the server listens, before the markets are built (their trade windows: 0.7 s for ten symbols with
   * `tickwire demo`'s 15 minutes), with the port and URLs `Simulator` will have. Requests that arrive meanwhile
   * wait and are answered from the built markets. `tickwire demo` starts Tickwire on it, so that the two starts
   * overlap instead of adding up.
   */
  readonly onListening?: (address: { readonly port: number; readonly urls: SimulatorUrls }) => void;
}

export interface Simulator {
  readonly port: number;
  /** Base URLs per venue, e.g. urls.binance = { wsUrl: "ws://127.0.0.1:PORT/binance", restUrl: "http://…/binance" }. */
  readonly urls: SimulatorUrls;
  readonly faults: SimFaults;
  /** The simulated trader accounts of the venues with a private side (Bitget, dYdX), and their faults. */
  readonly accounts: SimAccounts;
  /** Generates trades up to the clock's current time now, instead of waiting for the next timer tick. */
  advance(): void;
  /**
   * Generates every market's history now instead of on first use, in slices of HISTORY_SLICE_MINUTES, one per
   * turn of the event loop, so that REST answers from then on come at once, as a real exchange's do, and the
   * simulator keeps answering meanwhile (`tickwire sim` runs it after its banner and the benchmarks start Tickwire
   * once it is done; `tickwire demo` runs it in the simulator's thread from the start). Resolves with how many
   * markets it generated.
   */
  warmHistory(): Promise<{ readonly markets: number }>;
  /** Closes sockets, the server and every timer; leaves no handle behind. */
  close(): Promise<void>;
}

/** The private sides of the simulator's venues. */
export interface SimAccounts {
  /** The accounts of `venue`; throws for a venue without a private side. */
  of(venue: VenueId): SimVenueAccounts;
}

/**
 * The line `tickwire sim` prints (after its banner, a shell comment) once `warmHistory` is done: from then on its
 * REST answers come at once. The benchmarks start Tickwire after it.
 */
export const SIM_HISTORY_READY = '# history ready';

const MAX_HISTORY_DAYS = 3650;
/**
 * Minutes of one market's history `warmHistory` generates per turn of the event loop: 2 ms at the median on the
 * benchmark machine (a month of minutes per market takes about 50 ms in one piece; docs/PERFORMANCE.md).
 */
export const HISTORY_SLICE_MINUTES = 2048;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`simulator: ${message}`);
}

/** Starts the simulator and resolves once it listens. Invalid options reject with a RangeError naming the option. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const seed = options.seed ?? 1;
  const historyDays = options.historyDays ?? 30;
  const tradesPerSecond = options.tradesPerSecond ?? 5;
  const tradeWindowMs = options.tradeWindowMs ?? 2 * 60 * 60 * 1000;
  const tickMs = options.tickMs ?? 100;
  check(options.symbols.length > 0, 'symbols must not be empty');
  for (const s of options.symbols) check(isCanonicalSymbol(s), `symbol "${s}" is not canonical (BASE/QUOTE)`);
  check(Number.isInteger(seed), 'seed must be an integer');
  check(
    Number.isFinite(historyDays) && historyDays >= 0 && historyDays <= MAX_HISTORY_DAYS,
    `historyDays must be 0..${MAX_HISTORY_DAYS}`,
  );
  check(
    Number.isFinite(tradesPerSecond) && tradesPerSecond >= 0 && tradesPerSecond <= MAX_TRADES_PER_SECOND,
    `tradesPerSecond must be 0..${MAX_TRADES_PER_SECOND}`,
  );
  check(
    Number.isFinite(tradeWindowMs) && tradeWindowMs >= 60_000,
    'tradeWindowMs must be at least one minute',
  );
  check(Number.isFinite(tickMs) && tickMs >= 1, 'tickMs must be at least 1');
  const port = options.port ?? 0;
  check(Number.isInteger(port) && port >= 0 && port <= 65535, 'port must be 0..65535');
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger();
  const now = options.now ?? Date.now;
  const symbols = [...new Set(options.symbols)];

  const definitions = simVenueDefinitions(options);
  // Filled once the server listens (below); nothing is served before (see `onListening`).
  const venues = new Map<VenueId, SimVenue>();
  const faultStates = new Map<VenueId, VenueFaultState>();
  const markets: SimMarket[] = [];

  const server = createServer((req, res) => route(req, res));
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  /**
   * The venue a request is for and its path below the venue's prefix; undefined for a target that is no URL (no
   * exchange's client sends one: a warning in a simulator that adapters are developed against).
   */
  function split(
    rawUrl: string | undefined,
  ): { venue: SimVenue | undefined; path: string; url: URL } | undefined {
    const target = rawUrl ?? '/';
    if (!URL.canParse(target, 'http://sim.invalid')) {
      logger.warn({ target }, 'sim: bad request target');
      return undefined;
    }
    const url = new URL(target, 'http://sim.invalid');
    const [, first = '', ...rest] = url.pathname.split('/');
    const venue = venues.get(first as VenueId);
    return { venue, path: rest.length > 0 ? `/${rest.join('/')}` : '', url };
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    try {
      const target = split(req.url);
      if (target === undefined) {
        sendJson(res, 400, JSON.stringify({ error: 'bad request target' }));
        return;
      }
      const { venue, path, url } = target;
      if (venue === undefined) {
        sendJson(res, 404, JSON.stringify({ error: 'no such venue', venues: [...venues.keys()] }));
        return;
      }
      // A venue's REST answer reflects its market up to this moment, even between two driver ticks (a test's
      // clock may have just jumped forward).
      venue.advanceTo(now());
      venue.handleRequest(req, res, path, url);
    } catch (err) {
      logger.error({ err }, 'sim: request failed');
      if (!res.headersSent) sendJson(res, 500, JSON.stringify({ error: 'internal simulator error' }));
      else res.destroy();
    }
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const target = split(req.url);
    if (target === undefined) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const { venue, path, url } = target;
    if (venue === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    venue.handleUpgrade(req, socket, head, path, url);
  });

  /** Closes the venues (their sockets and timers), their fault states and the server. */
  async function release(): Promise<void> {
    await Promise.all([...venues.values()].map((v) => v.close()));
    for (const f of faultStates.values()) f.dispose();
    const closed = closeServer(server);
    for (const s of sockets) s.destroy();
    await closed;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const urls = simulatorUrls(host, boundPort);
  // The markets are built in this same turn, after the announcement: a request cannot be handled before they exist.
  try {
    options.onListening?.({ port: boundPort, urls });
    // One underlying market per base asset, shared by every venue.
    const startMs = now();
    const underlyings = createUnderlyings(seed, startMs, historyDays);
    for (const def of Object.values(definitions)) {
      const faults = new VenueFaultState();
      faultStates.set(def.id, faults);
      venues.set(
        def.id,
        def.create({
          seed,
          symbols,
          historyDays,
          startMs,
          underlyings,
          tradeWindowMs,
          tradesPerSecond,
          logger,
          now,
          faults,
          markets,
        }),
      );
    }
  } catch (err) {
    await release();
    throw err;
  }

  const advance = (): void => {
    const t = now();
    for (const venue of venues.values()) {
      try {
        venue.advanceTo(t);
      } catch (err) {
        logger.error({ err, venue: venue.id }, 'sim: market step failed');
      }
    }
  };
  const driver = setInterval(advance, tickMs);

  const faults = createSimFaults(
    new Map(
      [...venues].map(([id, venue]) => [
        id,
        { faults: faultStates.get(id) as VenueFaultState, dropConnections: () => venue.dropConnections() },
      ]),
    ),
  );
  const accounts: SimAccounts = {
    of: (venue) => {
      const side = venues.get(venue)?.accounts;
      if (side === undefined) throw new Error(`simulator: venue "${venue}" has no simulated accounts`);
      return side;
    },
  };
  logger.info({ port: boundPort, symbols, seed }, 'sim: listening');

  let closing: Promise<void> | undefined;
  return {
    port: boundPort,
    urls,
    faults,
    accounts,
    advance,
    warmHistory: async () => {
      let generated = 0;
      for (const market of markets) {
        if (market.historyComplete) continue;
        generated++;
        // A slice per turn: a month of minutes is some 50 ms, which would hold the loop (the server's answers).
        while (closing === undefined && !market.generateHistory(HISTORY_SLICE_MINUTES)) await nextTurn();
        if (closing !== undefined) break;
      }
      return { markets: generated };
    },
    close: () =>
      (closing ??= (async () => {
        clearInterval(driver);
        await release();
      })()),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The venue URLs of a simulator listening on `host`:`port`, the same as `Simulator.urls` once it listens there. */
export function simulatorUrls(host: string, port: number): SimulatorUrls {
  const origin = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return Object.fromEntries(
    Object.entries(simVenueDefinitions()).map(([id, def]) => [
      id,
      def.urls(`http://${origin}`, `ws://${origin}`),
    ]),
  ) as unknown as SimulatorUrls;
}

/** A value as one shell word: as is when it holds only safe characters, else in single quotes. */
function shellWord(value: string): string {
  return /^[\w./:,@%+=-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The variables that point Tickwire at a simulator, as `export NAME=value` lines a POSIX shell can source:
 * `<VENUE>_WS_URL` and `<VENUE>_REST_URL` per venue, `VENUES`, and `SYMBOLS` when given.
 */
export function simulatorEnv(urls: SimulatorUrls, symbols: readonly string[] = []): string[] {
  const vars: [string, string][] = [];
  for (const [venue, u] of Object.entries(urls) as [string, { wsUrl: string; restUrl: string }][]) {
    const prefix = venue.toUpperCase();
    vars.push([`${prefix}_WS_URL`, u.wsUrl], [`${prefix}_REST_URL`, u.restUrl]);
  }
  vars.push(['VENUES', Object.keys(urls).join(',')]);
  if (symbols.length > 0) vars.push(['SYMBOLS', symbols.join(',')]);
  return vars.map(([name, value]) => `export ${name}=${shellWord(value)}`);
}

/**
 * What `tickwire sim` prints: two `#` comment lines, the demo accounts' credentials (fake, `#` lines), then the
 * `export` lines of `simulatorEnv`. The whole text is valid shell, so it can be pasted or sourced as it is.
 */
export function simulatorBanner(
  sim: Pick<Simulator, 'port' | 'urls'>,
  symbols: readonly string[] = [],
): string {
  return [
    `# Tickwire exchange simulator listening on port ${sim.port}.`,
    `# Point Tickwire at it: run these lines in its shell, or there: eval "$(tickwire sim --env --port ${sim.port})"`,
    ...demoAccountLines(),
    ...simulatorEnv(sim.urls, symbols),
  ].join('\n');
}
