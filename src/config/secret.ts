import { inspect } from 'node:util';

/** What a secret shows wherever it is printed, serialized or logged. */
export const REDACTED_SECRET = '[Redacted]';

/**
 * A credential from the configuration (an exchange API key, secret or passphrase; the token signing secret; a
 * static API token). Its value is read only through `reveal()`: JSON (config dumps, pino logs), `String()`,
 * template strings and `util.inspect` (console.log, error messages) all give `[Redacted]`, so a configuration
 * object can be logged whole without leaking one.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself: for signing and comparing only, never for printing. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED_SECRET;
  }

  toString(): string {
    return REDACTED_SECRET;
  }

  [inspect.custom](): string {
    return REDACTED_SECRET;
  }
}
