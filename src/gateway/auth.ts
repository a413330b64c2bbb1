import { createHash, timingSafeEqual } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config/config.ts';
import type { Secret } from '../config/secret.ts';
import { AUTH_TEXTS, type AuthVerdict, type Refusal } from './auth-verdict.ts';

/**
 * Who a client is on the private channels: account tokens (docs/PROTOCOL.md, "Authentication"). A token is either
 * a JWT signed HS256 with `auth.secret` (AUTH_SECRET) whose `sub` is a configured account id and whose `exp` is
 * required, or one of the static API tokens of the configuration (which do not expire). A token grants its own
 * account and nothing else.
 */

export interface AccountAuthOptions {
  /** The configured account ids: a token's `sub` must be one. */
  readonly accounts: readonly string[];
  /** HS256 secret of the JWTs; without it no JWT is accepted or issued. */
  readonly secret?: Secret | undefined;
  /** Static tokens and the account each grants. */
  readonly tokens?: readonly { readonly token: Secret; readonly account: string }[];
  /** The gateway's clock: `exp` is judged against it. */
  readonly now: () => number;
}

const ISSUER = 'tickwire';

/** Longest token read (a JWT of a short account id is about 200 characters): more is refused unread. */
const MAX_TOKEN_LENGTH = 4096;

/** Checks account tokens and issues JWTs. */
export class AccountAuth {
  private readonly accounts: ReadonlySet<string>;
  private readonly key: Uint8Array | undefined;
  /** Static tokens by the SHA-256 of their text: looked up without comparing secrets byte by byte. */
  private readonly staticTokens = new Map<string, { readonly digest: Buffer; readonly account: string }>();

  constructor(private readonly options: AccountAuthOptions) {
    this.accounts = new Set(options.accounts);
    this.key = options.secret && new TextEncoder().encode(options.secret.reveal());
    for (const t of options.tokens ?? []) {
      const digest = sha256(t.token.reveal());
      this.staticTokens.set(digest.toString('hex'), { digest, account: t.account });
    }
  }

  /** From the configuration's `accounts` and `auth`. */
  static fromConfig(config: Pick<Config, 'accounts' | 'auth'>, now: () => number): AccountAuth {
    return new AccountAuth({
      accounts: config.accounts.map((a) => a.id),
      secret: config.auth.secret,
      tokens: config.auth.tokens,
      now,
    });
  }

  /** Whether any token can be accepted at all (an account exists, and a secret or a static token). */
  get enabled(): boolean {
    return this.accounts.size > 0 && (this.key !== undefined || this.staticTokens.size > 0);
  }

  /** Judges a token; never throws, and never puts any part of the token in its answer. */
  async verify(token: string | undefined): Promise<AuthVerdict> {
    if (!this.enabled) return refuse('ACCOUNTS_UNAVAILABLE', AUTH_TEXTS.unavailable);
    if (token === undefined || token === '') return refuse('AUTH_REQUIRED', AUTH_TEXTS.required);
    if (token.length > MAX_TOKEN_LENGTH) return refuse('AUTH_INVALID', AUTH_TEXTS.invalid);
    const digest = sha256(token);
    const known = this.staticTokens.get(digest.toString('hex'));
    if (known !== undefined && timingSafeEqual(known.digest, digest)) {
      return { ok: true, account: known.account, expiresAt: undefined };
    }
    if (this.key === undefined) return refuse('AUTH_INVALID', AUTH_TEXTS.invalid);
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(this.options.now()),
      });
      const account = payload.sub as string;
      if (!this.accounts.has(account)) return refuse('AUTH_INVALID', AUTH_TEXTS.unknownAccount);
      return { ok: true, account, expiresAt: (payload.exp as number) * 1000 };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return refuse('AUTH_EXPIRED', AUTH_TEXTS.expired);
      return refuse('AUTH_INVALID', AUTH_TEXTS.invalid);
    }
  }

  /**
   * A JWT for `account` valid for `ttlMs` from now (HS256, `sub`, `iat`, `exp`, `iss: tickwire`). Throws when
   * there is no secret or the account is not configured.
   */
  async issue(account: string, ttlMs: number): Promise<string> {
    if (this.key === undefined) throw new Error('AUTH_SECRET is not set: no token can be signed');
    if (!this.accounts.has(account)) {
      throw new Error(`unknown account "${account}"; configured: ${[...this.accounts].join(', ') || 'none'}`);
    }
    if (!(Number.isSafeInteger(ttlMs) && ttlMs >= 1000)) throw new Error('the token must live at least 1 s');
    const nowSeconds = Math.floor(this.options.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(account)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + Math.floor(ttlMs / 1000))
      .sign(this.key);
  }
}

function refuse(code: Refusal['code'], message: string): Refusal {
  return { ok: false, code, message };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const TTL_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `1h`, `7d`, `90s` as milliseconds; undefined for anything else. */
export function parseTtl(text: string): number | undefined {
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * (TTL_UNITS[match[2] as string] as number);
  return ms >= 1000 ? ms : undefined;
}
