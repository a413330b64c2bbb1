/**
 * What a token check answers (a grant, or a refusal with its documented code and text) and where a request
 * carries its token. Apart from the checks (auth.ts) so that the gateway's account channels use them without
 * loading the JWT library, which only a gateway serving accounts needs (docs/PERFORMANCE.md, "Module loading").
 */
import type { ErrorCode } from '../domain/errors.ts';

/** A token that was accepted: its account, and when it stops being valid (ms UTC; undefined: never). */
export interface Grant {
  readonly ok: true;
  readonly account: string;
  readonly expiresAt: number | undefined;
}

/** A token that was refused, with the documented code (docs/ERRORS.md) and a text with no part of the token. */
export interface Refusal {
  readonly ok: false;
  readonly code: Extract<
    ErrorCode,
    'AUTH_REQUIRED' | 'AUTH_INVALID' | 'AUTH_EXPIRED' | 'ACCOUNTS_UNAVAILABLE'
  >;
  readonly message: string;
}

export type AuthVerdict = Grant | Refusal;

export const AUTH_TEXTS = {
  required: 'Authentication required: this channel is private. Send a token (see docs/PROTOCOL.md).',
  invalid: 'Invalid token.',
  expired: 'Token expired. Get a new one.',
  unknownAccount: 'Invalid token: it names no configured account.',
  unavailable:
    'This gateway serves no accounts: none is configured, or neither AUTH_SECRET nor static tokens are.',
} as const;

/** A token from `Authorization: Bearer <token>`; undefined without one. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
