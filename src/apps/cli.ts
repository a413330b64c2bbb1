import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/config.ts';
import { TickwireError } from '../domain/errors.ts';
import type { SimulatorOptions } from '../sim/simulator.ts';
import { simTradeRate } from '../sim/trade-rate.ts';
import { LogRing } from '../telemetry/log-ring.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import {
  dashboardUrl,
  demoAccountsBanner,
  demoAuthSecret,
  demoConfig,
  demoMarket,
  issueDemoTokens,
} from './demo.ts';
import { demoAccounts as simDemoAccounts } from '../sim/accounts/config.ts';
import { startChildSimulator } from '../sim/child-simulator.ts';
import type { RunningSystem } from './run-all.ts';
import { untilStopSignal } from './shutdown.ts';
import { checkPortFree } from './port-free.ts';

// Each role loads its own modules when it starts (`await import`): `tickwire sim --env`, `token`, `aggregate` and
// a refused configuration do not load the server, and no role loads what it does not run (docs/PERFORMANCE.md,
// "Module loading").

const USAGE = `Usage: tickwire [role] [options]

Roles:
  all         (default) venues → candles → storage → WebSocket API, in one process
  ingest      venues → candles → database + Redis; one active process, standbys wait on a Redis lock
  gateway     Redis + database → WebSocket API; run as many as needed (docs/OPERATIONS.md)
  demo        the simulator and \`all\` wired to it: the whole system offline
  sim         the exchange simulator alone (prints the URLs to point Tickwire at)
  aggregate   build candles from a trades file: tickwire aggregate --help
  token       print a token for an account's private channels: tickwire token --account ID [--ttl 1h]

Options:
  --config FILE   JSON configuration file (also TICKWIRE_CONFIG); environment variables override it
  --port N        (sim) port of the simulator, default 7100 (SIM_PORT)
  --env           (sim) print only the export lines for a simulator on --port and exit: eval "$(tickwire sim --env)"
  --seed N        (sim, demo) seed of the simulated market, default 42 (SIM_SEED)
  --trade-rate N  (sim, demo) mean trades per second per instrument per venue, 0..1000, default 5
                  (TICKWIRE_SIM_TRADE_RATE)
  -h, --help      this text

Configuration: docs/CONFIGURATION.md. Protocol: docs/PROTOCOL.md.`;

/**
 * The individual trades `tickwire sim` and `demo` keep (and serve over REST): 15 minutes, where the library keeps
 * 2 h. Tickwire asks for the trades of the minute in progress at start and for those an outage missed; generating
 * (and holding) 2 h of trades for every venue and instrument made the simulator's start take seconds per
 * instrument on a busy machine and most of its memory.
 */
const CLI_SIM_TRADE_WINDOW_MS = 15 * 60_000;

const ROLES = ['all', 'ingest', 'gateway', 'demo', 'sim', 'aggregate', 'token'] as const;
type Role = (typeof ROLES)[number];

/** Runs the CLI; resolves with the process exit code once the role has stopped. */
export async function main(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  const role: Role =
    first !== undefined && (ROLES as readonly string[]).includes(first) ? (first as Role) : 'all';
  const rest = role === first ? argv.slice(1) : argv;
  if (role === 'token') {
    const { runTokenCommand } = await import('../gateway/auth-token-command.ts');
    return runTokenCommand(rest, { env: process.env, stdout: process.stdout, stderr: process.stderr });
  }
  if (role === 'aggregate') {
    const { runAggregate } = await import('./aggregate-command.ts');
    return runAggregate([...rest], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  }
  let values: {
    config?: string;
    port?: string;
    seed?: string;
    'trade-rate'?: string;
    env?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        seed: { type: 'string' },
        'trade-rate': { type: 'string' },
        env: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`tickwire: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(process.env, values.config);
  } catch (err) {
    console.error(`tickwire: ${err instanceof TickwireError ? err.message : String(err)}`);
    return 2;
  }
  const recentLogs = new LogRing(config.logRecent);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, recent: recentLogs });
  const seed = Number(values.seed ?? process.env['SIM_SEED'] ?? 42);
  const tradeRate = simTradeRate(values['trade-rate'] ?? process.env['TICKWIRE_SIM_TRADE_RATE']);
  if (typeof tradeRate === 'string') {
    console.error(`tickwire: ${tradeRate}`);
    return 2;
  }
  const simOptions = {
    seed,
    tradeWindowMs: CLI_SIM_TRADE_WINDOW_MS,
    ...(tradeRate === undefined ? {} : { tradesPerSecond: tradeRate }),
  };
  try {
    if (role === 'sim') {
      const { SIM_HISTORY_READY, simulatorBanner, simulatorEnv, simulatorUrls, startSimulator } =
        await import('../sim/simulator.ts');
      const port = Number(values.port ?? process.env['SIM_PORT'] ?? 7100);
      if (values.env) {
        if (!(Number.isInteger(port) && port > 0 && port <= 65535)) {
          console.error(
            `tickwire: --env needs a fixed port 1..65535 (--port or SIM_PORT), got ${String(port)}`,
          );
          return 2;
        }
        process.stdout.write(
          simulatorEnv(simulatorUrls('127.0.0.1', port), config.symbols).join('\n') + '\n',
        );
        return 0;
      }
      const sim = await startSimulator({ ...simOptions, port, symbols: config.symbols, logger });
      process.stdout.write(simulatorBanner(sim, config.symbols) + '\n');
      // The history is generated now rather than on the first requests, which then come at once (as from a real
      // exchange); the line tells a script (the benchmarks) when.
      const warming = performance.now();
      void sim.warmHistory().then(
        ({ markets }) => {
          const seconds = ((performance.now() - warming) / 1000).toFixed(1);
          process.stdout.write(`${SIM_HISTORY_READY} (${markets} markets in ${seconds} s)\n`);
        },
        // The markets not generated yet still generate their history on first use.
        (err: unknown) => logger.error({ err }, 'sim: generating the history ahead failed'),
      );
      await untilStopSignal({ timeoutMs: config.shutdownTimeoutMs, logger });
      await sim.close();
      return 0;
    }
    if (role === 'demo') return await runDemo(config, logger, simOptions, recentLogs);
    if (role === 'ingest') {
      const { startIngestProcess } = await import('./run-ingest.ts');
      const ingest = await startIngestProcess(config, logger, { recentLogs });
      process.stdout.write(
        `Tickwire ingest is running (waits for the lock when another is active); health http://${config.host}:${ingest.port}/health\n`,
      );
      await untilStopSignal({ timeoutMs: config.shutdownTimeoutMs, logger });
      await ingest.close();
      return 0;
    }
    if (role === 'gateway') {
      const { startGatewayProcess } = await import('./run-gateway.ts');
      const gw = await startGatewayProcess(config, logger, { recentLogs });
      process.stdout.write(
        `Tickwire gateway is running: WebSocket API ${gw.gateway.url}, health ${httpUrl(gw.gateway.url)}/health, dashboard ${dashboardUrl(gw.gateway.url)}\n`,
      );
      await untilStopSignal({ timeoutMs: config.shutdownTimeoutMs, logger });
      await gw.close();
      return 0;
    }
    // A taken port stops the process here, before anything it would have to wait for (the database) has started.
    await checkPortFree(config.host, config.port);
    const { startAll } = await import('./run-all.ts');
    const system = await startAll(config, logger, { recentLogs });
    process.stdout.write(
      `Tickwire is running: WebSocket API ${system.gateway.url}, health ${httpUrl(system.gateway.url)}/health, dashboard ${dashboardUrl(system.gateway.url)}\n` +
        `History is loading in the background; each venue logs its progress and when it is live.\n`,
    );
    announceReady(system);
    // A history database that cannot be opened stops the process (the system has closed by then).
    await Promise.race([untilStopSignal({ timeoutMs: config.shutdownTimeoutMs, logger }), system.failed]);
    await system.close();
    return 0;
  } catch (err) {
    logger.fatal({ err }, 'tickwire stopped on an error');
    console.error(`tickwire: ${(err as Error).message}`);
    return err instanceof TickwireError && err.code === 'CONFIG_INVALID' ? 2 : 1;
  }
}

/**
 * `tickwire demo`: the simulator on a free loopback port, and `all` pointed at it. Its history is its own
 * (demo.ts): DATA_DIR/demo, where the bars of an earlier demo run (another simulator) are deleted at start.
 */
async function runDemo(
  config: Config,
  logger: Logger,
  simOptions: Pick<SimulatorOptions, 'seed' | 'tradesPerSecond' | 'tradeWindowMs'>,
  recentLogs: LogRing,
): Promise<number> {
  const market = demoMarket(config, Boolean(process.env['VENUES']));
  const { venues, symbols } = market;
  await checkPortFree(config.host, config.port);
  const [{ startAll }, { warmUpGateway }, { connectionWarmUp }] = await Promise.all([
    import('./run-all.ts'),
    import('../gateway/gateway.ts'),
    import('./connection-warm-up.ts'),
  ]);
  // The gateway's warm-up runs in this thread while the simulator's process starts (loads its modules, listens): one
  // after the other they took about a second each on a slow unit before the API answered (docs/PERFORMANCE.md,
  // "From the command to live bars").
  const warmedUp = warmUpGateway(demoConfig(config, market, {}), connectionWarmUp(), logger);
  // In a process of its own, as a real exchange is elsewhere: in Tickwire's event loop its history and answers made
  // turns of 60–85 ms at start-up with one symbol, up to 490 ms with ten (docs/PERFORMANCE.md, "Start-up stalls").
  let sim;
  try {
    sim = await startChildSimulator(
      { ...simOptions, port: 0, symbols },
      { level: config.logLevel, format: config.logFormat, recent: recentLogs },
      (err) => logger.error({ err }, 'demo: the simulator failed'),
    );
  } finally {
    // Its throwaway gateway closed before anything else starts, or before the error goes up.
    await warmedUp;
  }
  const auth = demoAuthSecret(config);
  const demo = demoConfig(config, market, sim.urls, {
    keys: { bitget: simDemoAccounts.bitget[0], dydx: simDemoAccounts.dydx[0] },
    authSecret: auth.secret,
  });
  if (config.storage.databaseUrl !== undefined || config.redis.url !== undefined) {
    logger.info(
      { dataDir: demo.storage.dataDir },
      'demo: DATABASE_URL and REDIS_URL are not used; simulated history stays in the demo directory',
    );
  }
  let system;
  let tokens: Map<string, string>;
  try {
    // Issued before the system starts (see issueDemoTokens).
    tokens = await issueDemoTokens(demo);
    system = await startAll(demo, logger, { mismatchedHistory: 'discard', recentLogs, warmUp: false });
  } catch (err) {
    // The simulator's server would keep the process alive after the error.
    await sim.close();
    throw err;
  }
  process.stdout.write(
    demoBanner({ venues, symbols, wsUrl: system.gateway.url, simulatorPort: sim.port }) + '\n',
  );
  if (demo.accounts.length > 0)
    process.stdout.write(demoAccountsBanner(demo, system.gateway.url, tokens, auth.generated) + '\n');
  announceReady(system);
  try {
    await Promise.race([untilStopSignal({ timeoutMs: config.shutdownTimeoutMs, logger }), system.failed]);
  } finally {
    await system.close();
    await sim.close();
  }
  return 0;
}

/** What `tickwire demo` prints once its API answers (README.md shows it; a test keeps the two the same). */
export function demoBanner(o: {
  readonly venues: readonly string[];
  readonly symbols: readonly string[];
  readonly wsUrl: string;
  readonly simulatorPort: number;
}): string {
  const http = httpUrl(o.wsUrl);
  return [
    `Tickwire demo is running on simulated exchanges (${o.venues.join(', ')}; no internet needed).`,
    `  Open the dashboard: ${dashboardUrl(o.wsUrl)}`,
    `  WebSocket API:  ${o.wsUrl}   (subscribe: {"type":"subscribe","symbol":"${o.symbols[0]}","interval":"1m"})`,
    `  Health:         ${http}/health   ${http}/health/ws-stats`,
    `  Instruments:    ${o.symbols.join(', ')}`,
    `  Simulator:      http://127.0.0.1:${o.simulatorPort}`,
    'History is loading in the background; each venue logs its progress and when it is live.',
    'Press Ctrl-C to stop.',
  ].join('\n');
}

/** The line benchmarks and scripts wait for: printed once, the first time every venue is live. */
export const READY_LINE = 'ready: all venues live';

function announceReady(system: RunningSystem): void {
  void system.ready.then(() => process.stdout.write(`${READY_LINE}\n`));
}

function httpUrl(wsUrl: string): string {
  return wsUrl.replace(/^ws/, 'http').replace('0.0.0.0', 'localhost');
}
