import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import { TickwireError } from '../domain/errors.ts';
import { AccountAuth, parseTtl } from './auth.ts';

export const TOKEN_USAGE = `Usage: tickwire token --account ID [--ttl 1h] [--config FILE]

Prints a token for the private channels of one configured account: a JWT signed HS256 with AUTH_SECRET, whose
sub is the account id, valid for --ttl (s, m, h or d; default 1h). docs/PROTOCOL.md, "Authentication".`;

export interface TokenCommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly now?: () => number;
}

/** `tickwire token`: prints one token on stdout; exit code 0, or 2 with the reason on stderr. */
export async function runTokenCommand(argv: readonly string[], io: TokenCommandIo): Promise<number> {
  const fail = (why: string): number => {
    io.stderr.write(`tickwire token: ${why}\n\n${TOKEN_USAGE}\n`);
    return 2;
  };
  let values: { account?: string; ttl?: string; config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        account: { type: 'string' },
        ttl: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (values.help) {
    io.stdout.write(TOKEN_USAGE + '\n');
    return 0;
  }
  if (values.account === undefined) return fail('--account is required');
  const ttlMs = parseTtl(values.ttl ?? '1h');
  if (ttlMs === undefined)
    return fail(`--ttl must look like 30m, 1h or 7d, got ${JSON.stringify(values.ttl)}`);
  let auth: AccountAuth;
  try {
    auth = AccountAuth.fromConfig(loadConfig(io.env, values.config), io.now ?? Date.now);
  } catch (err) {
    return fail(err instanceof TickwireError ? err.message : String(err));
  }
  try {
    io.stdout.write((await auth.issue(values.account, ttlMs)) + '\n');
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
