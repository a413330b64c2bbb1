/**
 * The `tickwire` package, for running Tickwire inside another Node process: load a configuration as the CLI
 * does (defaults, then an optional JSON file, then the environment), and start the whole system (`tickwire all`)
 * with it. The messages of the WebSocket API and their validator are in `tickwire/protocol`.
 *
 * ```ts
 * import { createLogger, loadConfig, startAll } from 'tickwire';
 *
 * const system = await startAll(loadConfig({ SYMBOLS: 'BTC/USDT', PORT: '7000' }), createLogger());
 * // … later
 * await system.close();
 * ```
 */
export { startAll, type RunningSystem } from './apps/run-all.ts';
export { loadConfig, type Config } from './config/config.ts';
export { TickwireError, type ErrorCode } from './domain/errors.ts';
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './telemetry/logger.ts';
