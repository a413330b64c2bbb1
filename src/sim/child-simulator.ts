import type { ChildProcess } from 'node:child_process';
import type { LogFormat } from '../telemetry/log-format.ts';
import type { RecentLogSink } from '../telemetry/logger.ts';
import { forkModule } from '../util/child-process.ts';
import type { SimulatorUrls } from './registry.ts';
import type { SimulatorOptions } from './simulator.ts';

/**
 * How many nice levels the simulator's process (simulator-process.ts) runs below the server. The simulator stands
 * in for exchanges that run on machines of their own; in `tickwire demo` it shares the server's cores, and while it
 * generates its markets' history in the first seconds it took a core the server's thread then waited for: ten
 * symbols, Tickwire's longest event-loop stall over the first 25 s, three alternated pairs, 33, 42 and 28 ms with
 * its thread lowered against 71, 118 and 56 ms without. A thread of the server's process, lowered alone, still had
 * its garbage collected by the process's helper threads at the server's own level (docs/PERFORMANCE.md, "Start-up
 * stalls"); a process of its own lowers those too. The same level as the database's thread
 * (PGLITE_THREAD_NICE_STEPS), which shares the background with it.
 */
export const SIMULATOR_NICE_STEPS = 10;

/** The simulator's options that cross into its process (no functions: no injected clock or logger). */
export type SimulatorProcessOptions = Omit<SimulatorOptions, 'logger' | 'now' | 'onListening'>;

/** What the demo sends simulator-process.ts: its start, once, and its close. */
export type SimulatorProcessCommand =
  | {
      readonly op: 'start';
      readonly options: SimulatorProcessOptions;
      /** Its logger's settings (the process's LOG_LEVEL and LOG_FORMAT). */
      readonly log: { readonly level: string; readonly format: LogFormat };
    }
  | { readonly op: 'close' };

/**
 * What simulator-process.ts sends: once, when it listens or could not start; and each warning or error it logs, as
 * its JSON line, for the demo's recent-logs ring.
 */
export type SimulatorProcessMessage =
  | { readonly op: 'listening'; readonly port: number; readonly urls: SimulatorUrls }
  | { readonly op: 'failed'; readonly message: string }
  | { readonly op: 'log'; readonly line: string };

/** A simulator running in a process of its own. */
export interface ChildSimulator {
  readonly port: number;
  readonly urls: SimulatorUrls;
  /** The simulator's process id. */
  readonly pid: number;
  /** Closes the simulator (its sockets, server and timers) and resolves once its process has exited. */
  close(): Promise<void>;
}

/**
 * Starts the simulator in a child process (simulator-process.ts) and resolves once it listens; the child then builds
 * the markets (requests meanwhile wait for them) and generates every market's history in the background. It logs
 * to stderr like the process, and its warnings and errors also go to `log.recent` (the process's GET /api/logs).
 * Rejects with the simulator's own error (a port in use, an invalid option) when it cannot start, and when the
 * child ends before it listens. The child ends with the process that started it: when that exits, even killed,
 * the child's channel to it closes, and the child exits.
 */
export function startChildSimulator(
  options: SimulatorProcessOptions,
  log: Extract<SimulatorProcessCommand, { op: 'start' }>['log'] & { readonly recent?: RecentLogSink },
  /**
   * Hears an error once the simulator listens: building the markets failed (the child then ends), or the child
   * ended without being closed.
   */
  onError: (err: Error) => void,
): Promise<ChildSimulator> {
  const { recent, ...settings } = log;
  const child: ChildProcess = forkModule(new URL('./simulator-process.js', import.meta.url));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const command = (message: SimulatorProcessCommand): void => {
    if (child.connected) child.send(message);
  };
  let closing: Promise<void> | undefined;
  return new Promise((resolve, reject) => {
    const early = (err: Error): void => reject(err);
    const endedEarly = (code: number | null, signal: string | null): void =>
      reject(
        new Error(`the simulator's process ended before it listened (${signal ?? `exit code ${code}`})`),
      );
    child.once('error', early);
    child.once('exit', endedEarly);
    let listening = false;
    let failed = false;
    child.on('message', (message: SimulatorProcessMessage) => {
      if (message.op === 'log') {
        recent?.write(message.line);
        return;
      }
      // It listens before its markets are built: a failure there comes after `listening`, and ends the child.
      if (listening) {
        if (message.op === 'failed') {
          failed = true;
          onError(new Error(message.message));
        }
        return;
      }
      child.off('error', early);
      child.off('exit', endedEarly);
      if (message.op === 'failed') {
        reject(new Error(message.message));
        return;
      }
      listening = true;
      child.on('error', onError);
      child.once('exit', (code, signal) => {
        if (closing === undefined && !failed)
          onError(new Error(`the simulator's process ended (${signal ?? `exit code ${code}`})`));
      });
      resolve({
        port: message.port,
        urls: message.urls,
        pid: child.pid as number,
        close: () =>
          (closing ??= (async () => {
            command({ op: 'close' });
            await exited;
          })()),
      });
    });
    command({ op: 'start', options, log: settings });
  });
}
