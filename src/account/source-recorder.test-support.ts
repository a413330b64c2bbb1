/** What an AccountSource hands its handlers, recorded for tests; and the small waits and log capture they use. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { AlertInput } from '../domain/alert.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { AccountEvent, AccountStreamStatus } from './contract.ts';

export class SourceRecorder {
  readonly events: AccountEvent[] = [];
  readonly statuses: AccountStreamStatus[] = [];
  readonly alerts: AlertInput[] = [];
  readonly handlers = {
    event: (e: AccountEvent) => this.events.push(e),
    status: (s: AccountStreamStatus) => this.statuses.push(s),
    alert: (a: AlertInput) => this.alerts.push(a),
  };

  of<K extends AccountEvent['kind']>(kind: K): Extract<AccountEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<AccountEvent, { kind: K }> => e.kind === kind);
  }

  /** Fill ids as a state keeps them: each once, whatever the source repeats. */
  fillIds(): string[] {
    return [...new Set(this.of('fills').flatMap((e) => e.fills.map((f) => f.fillId)))].sort();
  }
}

/** Polls `predicate` (real sockets answer in their own time) until it holds or `timeoutMs` passed. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

/** A debug-level logger whose output the test can read back (to look for secrets). */
export function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => lines.join('') };
}
