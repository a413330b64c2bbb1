/**
 * The simulator's thread in `tickwire demo` (started by threaded-simulator.ts): the simulated exchanges answer
 * from a thread of their own, as real ones answer from elsewhere, so that their work (a month of history per
 * market, every kline answer, every trade) never runs in Tickwire's event loop. Logs to stderr like the process,
 * and posts its warnings and errors to it (for GET /api/logs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../telemetry/logger.ts';
import { startSimulator } from './simulator.ts';
import { lowerThreadPriority } from '../util/thread-priority.ts';
import {
  SIMULATOR_THREAD_NICE_STEPS,
  type SimulatorThreadData,
  type SimulatorThreadMessage,
} from './threaded-simulator.ts';

const port = parentPort;
if (port === null) throw new Error('simulator-thread.ts runs as a worker thread (see threaded-simulator.ts)');
const post = (message: SimulatorThreadMessage): void => port.postMessage(message);

// The exchanges' stand-in yields a core to the server's thread (threaded-simulator.ts, SIMULATOR_THREAD_NICE_STEPS).
lowerThreadPriority(SIMULATOR_THREAD_NICE_STEPS);

const { options, log } = workerData as SimulatorThreadData;
const logger = createLogger({
  level: log.level,
  format: log.format,
  recent: { write: (line) => post({ op: 'log', line }) },
}).child({ role: 'sim' });
try {
  // Announced as soon as it listens: Tickwire starts while the markets are built (`onListening`).
  const sim = await startSimulator({
    ...options,
    logger,
    onListening: ({ port: boundPort, urls }) => post({ op: 'listening', port: boundPort, urls }),
  });
  port.once('message', () => {
    void sim.close().then(() => port.close());
  });
  // Every market's history in the background, in slices; a market Tickwire asks for before its turn is completed then.
  void sim.warmHistory();
} catch (err) {
  post({ op: 'failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
