import type { LogFormat } from '../telemetry/log-format.ts';
import type { RecentLogSink } from '../telemetry/logger.ts';
import { startWorker } from '../util/worker-thread.ts';
import type { SimulatorUrls } from './registry.ts';
import type { SimulatorOptions } from './simulator.ts';

/**
 * How many nice levels the simulator's thread (simulator-thread.ts) runs below the server's thread. The simulator
 * stands in for exchanges that run on machines of their own; in `tickwire demo` it shares the server's cores, and
 * while it generates its markets' history in the first seconds it took a core the server's thread then waited for.
 * `tickwire demo` with ten symbols, Tickwire's longest event-loop stall over the first 25 s, three alternated
 * pairs: 33, 42 and 28 ms with this against 71, 118 and 56 ms without (docs/PERFORMANCE.md, "Start-up stalls").
 * The same level as the database's thread (PGLITE_THREAD_NICE_STEPS), which shares the background with it.
 */
export const SIMULATOR_THREAD_NICE_STEPS = 10;

/** The simulator's options that cross into its thread (no functions: no injected clock or logger). */
export type SimulatorThreadOptions = Omit<SimulatorOptions, 'logger' | 'now' | 'onListening'>;

/** What simulator-thread.ts is started with. */
export interface SimulatorThreadData {
  readonly options: SimulatorThreadOptions;
  /** Its logger's settings (the process's LOG_LEVEL and LOG_FORMAT). */
  readonly log: { readonly level: string; readonly format: LogFormat };
}

/**
 * What simulator-thread.ts posts: once, when it listens or could not start; and each warning or error it logs, as
 * its JSON line, for the process's recent-logs ring.
 */
export type SimulatorThreadMessage =
  | { readonly op: 'listening'; readonly port: number; readonly urls: SimulatorUrls }
  | { readonly op: 'failed'; readonly message: string }
  | { readonly op: 'log'; readonly line: string };

/** A simulator running in a thread of its own. */
export interface SimulatorThread {
  readonly port: number;
  readonly urls: SimulatorUrls;
  /** Closes the simulator (its sockets, server and timers) and ends its thread. */
  close(): Promise<void>;
}

/**
 * Starts the simulator in a worker thread (simulator-thread.ts) and resolves once it listens; the thread then builds
 * the markets (requests meanwhile wait for them) and generates every market's history in the background. It logs
 * to stderr like the process, and its warnings and errors also go to `log.recent` (the process's GET /api/logs).
 * Rejects with the simulator's own error (a port in use, an invalid option) when it cannot start, and when the
 * thread ends before it listens.
 */
export function startSimulatorThread(
  options: SimulatorThreadOptions,
  log: SimulatorThreadData['log'] & { readonly recent?: RecentLogSink },
  /**
   * Hears an error once the simulator listens: one the thread did not handle, or building the markets failed (the
   * thread then ends).
   */
  onError: (err: Error) => void,
): Promise<SimulatorThread> {
  const { recent, ...settings } = log;
  const data: SimulatorThreadData = { options, log: settings };
  const worker = startWorker(new URL('./simulator-thread.js', import.meta.url), data);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let closing: Promise<void> | undefined;
  return new Promise((resolve, reject) => {
    const early = (err: Error): void => reject(err);
    const endedEarly = (code: number): void =>
      reject(new Error(`the simulator's thread ended before it listened (exit code ${code})`));
    worker.once('error', early);
    worker.once('exit', endedEarly);
    let listening = false;
    worker.on('message', (message: SimulatorThreadMessage) => {
      if (message.op === 'log') {
        recent?.write(message.line);
        return;
      }
      // It listens before its markets are built: a failure there comes after `listening`, and ends the thread.
      if (listening) {
        if (message.op === 'failed') onError(new Error(message.message));
        return;
      }
      worker.off('error', early);
      worker.off('exit', endedEarly);
      if (message.op === 'failed') {
        reject(new Error(message.message));
        return;
      }
      listening = true;
      worker.on('error', onError);
      resolve({
        port: message.port,
        urls: message.urls,
        close: () =>
          (closing ??= (async () => {
            worker.postMessage('close');
            await exited;
          })()),
      });
    });
  });
}
