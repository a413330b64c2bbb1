import type { ErrorCode } from '../domain/errors.ts';

/** The `error` messages sent to clients, counted by catalogue code (`errorsByCode` of /health/ws-stats). */
export class ClientErrors {
  readonly byCode: Partial<Record<ErrorCode, number>> = {};

  /** Counts `code` and sends `payload`, an encoded `error` message, to `client`. */
  send(client: { send(payload: string): void }, code: ErrorCode, payload: string): void {
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
    client.send(payload);
  }
}
