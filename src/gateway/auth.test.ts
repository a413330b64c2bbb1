import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { Secret } from '../config/secret.ts';
import { AccountAuth, parseTtl } from './auth.ts';
import { bearerToken } from './auth-verdict.ts';
import { runTokenCommand } from './auth-token-command.ts';

const SECRET = 'auth-secret-for-tests-0123456789abcdef';
const STATIC = 'static-token-0123456789abcdef0123456789';
const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);

function makeAuth(now: { t: number }, secret: string | null = SECRET): AccountAuth {
  return new AccountAuth({
    accounts: ['main', 'dd'],
    secret: secret === null ? undefined : new Secret(secret),
    tokens: [{ token: new Secret(STATIC), account: 'dd' }],
    now: () => now.t,
  });
}

test('a JWT issued for an account is accepted until its exp, then refused as expired', async () => {
  const now = { t: T0 };
  const auth = makeAuth(now);
  const token = await auth.issue('main', 3_600_000);
  assert.deepEqual(await auth.verify(token), { ok: true, account: 'main', expiresAt: T0 + 3_600_000 });
  now.t = T0 + 3_600_000 - 1;
  assert.equal((await auth.verify(token)).ok, true);
  now.t = T0 + 3_600_000;
  const expired = await auth.verify(token);
  assert.equal(expired.ok === false && expired.code, 'AUTH_EXPIRED');
});

test('refusals: missing, malformed, wrongly signed, unsigned, no exp, unknown account, other algorithm', async () => {
  const now = { t: T0 };
  const auth = makeAuth(now);
  const key = new TextEncoder().encode(SECRET);
  const exp = Math.floor(T0 / 1000) + 600;
  const code = async (token: string | undefined): Promise<string> => {
    const v = await auth.verify(token);
    return v.ok ? 'ok' : v.code;
  };
  assert.equal(await code(undefined), 'AUTH_REQUIRED');
  assert.equal(await code(''), 'AUTH_REQUIRED');
  assert.equal(await code('not.a.jwt'), 'AUTH_INVALID');
  assert.equal(await code('x'.repeat(10_000)), 'AUTH_INVALID');
  const other = await makeAuth(now, 'another-secret-of-enough-length-0123456').issue('main', 60_000);
  assert.equal(await code(other), 'AUTH_INVALID');
  const unsigned = new UnsecuredJWT({}).setSubject('main').setExpirationTime(exp).encode();
  assert.equal(await code(unsigned), 'AUTH_INVALID');
  const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('main').sign(key);
  assert.equal(await code(noExp), 'AUTH_INVALID');
  const stranger = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('someone-else')
    .setExpirationTime(exp)
    .sign(key);
  assert.equal(await code(stranger), 'AUTH_INVALID');
  const hs512 = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS512' })
    .setSubject('main')
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(SECRET + SECRET));
  assert.equal(await code(hs512), 'AUTH_INVALID');
  // Refusal texts never repeat the token.
  const v = await auth.verify(other);
  assert.ok(!v.ok && !v.message.includes(other.slice(0, 20)));
});

test('static tokens grant their account and never expire; without a secret only they work', async () => {
  const now = { t: T0 };
  const auth = makeAuth(now, null);
  assert.deepEqual(await auth.verify(STATIC), { ok: true, account: 'dd', expiresAt: undefined });
  now.t += 365 * 86_400_000;
  assert.equal((await auth.verify(STATIC)).ok, true);
  assert.equal((await auth.verify(STATIC + 'x')).ok, false);
  await assert.rejects(auth.issue('main', 60_000), /AUTH_SECRET is not set/);
  const none = new AccountAuth({ accounts: ['main'], now: () => T0 });
  const v = await none.verify(STATIC);
  assert.equal(v.ok === false && v.code, 'ACCOUNTS_UNAVAILABLE');
});

test('issue refuses unknown accounts; parseTtl and bearerToken read what they should', async () => {
  await assert.rejects(makeAuth({ t: T0 }).issue('nobody', 60_000), /unknown account "nobody"/);
  assert.equal(parseTtl('1h'), 3_600_000);
  assert.equal(parseTtl('30m'), 1_800_000);
  assert.equal(parseTtl('7d'), 7 * 86_400_000);
  assert.equal(parseTtl('0s'), undefined);
  assert.equal(parseTtl('1 hour'), undefined);
  assert.equal(bearerToken('Bearer abc.def'), 'abc.def');
  assert.equal(bearerToken('bearer  abc'), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test('tickwire token --account ID --ttl prints a token the gateway accepts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tickwire.json');
  writeFileSync(
    file,
    JSON.stringify({
      accounts: [{ id: 'dd', venue: 'dydx', address: 'dydx1' + 'q'.repeat(38), subaccountNumber: 0 }],
    }),
  );
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    env: { AUTH_SECRET: SECRET },
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    now: () => T0,
  };
  assert.equal(await runTokenCommand(['--account', 'dd', '--ttl', '2h', '--config', file], io), 0);
  const token = (out[0] ?? '').trim();
  const auth = new AccountAuth({ accounts: ['dd'], secret: new Secret(SECRET), now: () => T0 });
  assert.deepEqual(await auth.verify(token), { ok: true, account: 'dd', expiresAt: T0 + 7_200_000 });
  assert.equal(await runTokenCommand(['--account', 'nobody', '--config', file], io), 2);
  assert.match(err.join(''), /unknown account "nobody"/);
  assert.equal(await runTokenCommand(['--account', 'dd', '--ttl', 'soon', '--config', file], io), 2);
  assert.equal(await runTokenCommand(['--config', file], io), 2);
  const noSecret = { ...io, env: {} };
  assert.equal(await runTokenCommand(['--account', 'dd', '--config', file], noSecret), 2);
  assert.match(err.join(''), /AUTH_SECRET is not set/);
  assert.ok(!err.join('').includes(SECRET));
});
