/**
 * The simulator's process in `tickwire demo` (started by child-simulator.ts): the simulated exchanges answer from a
 * process of their own, as real ones answer from elsewhere, so that their work (a month of history per market,
 * every kline answer, every trade, and the garbage collection all that makes) never runs in Tickwire's event loop
 * nor at its priority. Logs to stderr like the demo, and sends its warnings and errors to it (for GET /api/logs).
 */
import { createLogger } from '../telemetry/logger.ts';
import { startSimulator } from './simulator.ts';
import { lowerProcessPriority } from '../util/thread-priority.ts';
import {
  SIMULATOR_NICE_STEPS,
  type SimulatorProcessCommand,
  type SimulatorProcessMessage,
} from './child-simulator.ts';

// The exchanges' stand-in yields the cores to the server (child-simulator.ts, SIMULATOR_NICE_STEPS).
lowerProcessPriority(SIMULATOR_NICE_STEPS);

if (process.send === undefined)
  throw new Error('simulator-process.ts runs as a child process (see child-simulator.ts)');
/** Resolves once the last message sent has been written to the channel (messages are written in order). */
let sent = Promise.resolve();
const post = (message: SimulatorProcessMessage): void => {
  // Once the demo is gone there is no one to tell; the process is ending then (below).
  if (!process.connected) return;
  sent = new Promise((resolve) => process.send?.(message, () => resolve()));
};
/** Ends the process once what it sent has left (the last warnings, a failure's message). */
const exit = (code: number): void => void sent.then(() => process.exit(code));

// The demo leads the shutdown and closes the simulator after its own connections to it: a terminal's Ctrl-C, or a
// service manager's SIGTERM to the whole group, reaches this process too, and must not take the exchanges away
// from under a graceful stop. It ends when told to, or when the demo's process is gone (its channel closes).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
process.once('disconnect', () => process.exit(0));

process.once('message', (command: SimulatorProcessCommand) => {
  if (command.op !== 'start') return;
  void run(command);
});

async function run({ options, log }: Extract<SimulatorProcessCommand, { op: 'start' }>): Promise<void> {
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
      onListening: ({ port, urls }) => post({ op: 'listening', port, urls }),
    });
    process.on('message', (command: SimulatorProcessCommand) => {
      if (command.op === 'close') void sim.close().then(() => exit(0));
    });
    // Every market's history in the background, in slices; a market Tickwire asks for before its turn is completed
    // then.
    void sim.warmHistory();
  } catch (err) {
    post({ op: 'failed', message: err instanceof Error ? err.message : String(err) });
    exit(1);
  }
}
