import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AccountHub } from '../account/account-hub.ts';
import { ScriptedAccountSource } from '../account/account-source.test-support.ts';
import { CLOSE_CODES } from '../protocol/close-codes.ts';
import { MemoryAccountStore } from '../store/account-memory-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { AccountChannels } from './account-channels.ts';
import { accountsConfig, STATIC_TOKEN, T0 } from './account-channels.test-support.ts';
import { AccountAuth } from './auth.ts';
import { ClientErrors } from './client-errors.ts';
import { ParsedSink } from './parsed-sink.test-support.ts';

/** The upgrade request as the account side reads it: its URL only. */
function upgrade(url: string): IncomingMessage {
  return { url, headers: {} } as IncomingMessage;
}

/** Lets the token checks (promises) finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('account channels: sessions', () => {
  const clock = new ManualClock(T0);
  let hub: AccountHub;
  let accounts: AccountChannels;
  const closed: { client: ParsedSink; code: number }[] = [];
  const close = (client: ParsedSink, code: number): void => {
    closed.push({ client, code });
  };

  before(async () => {
    const logger = silentLogger();
    hub = await AccountHub.open({
      sources: [
        new ScriptedAccountSource({ id: 'alpha', venue: 'bitget' }),
        new ScriptedAccountSource({ id: 'beta', venue: 'dydx' }),
      ],
      store: new MemoryAccountStore(),
      clock,
      logger,
    });
    accounts = new AccountChannels({
      hub,
      auth: AccountAuth.fromConfig(accountsConfig(), () => clock.now()),
      clock,
      logger,
      errors: new ClientErrors(),
      throttleMs: 0,
      recentFills: 100,
      joinAlerts: () => {},
    });
  });

  after(async () => {
    accounts.stop();
    await hub.close();
  });

  it('a connection without a token holds no session; its first auth makes one, and it goes with the connection', async () => {
    const client = new ParsedSink();
    accounts.opened(client, upgrade('/ws'), close);
    assert.equal(accounts.sessionCount, 0);

    accounts.subscribe(client, { type: 'account-subscribe', channel: 'orders' });
    assert.deepEqual(
      client.ofType('error').map((m) => m['code']),
      ['AUTH_REQUIRED'],
    );
    assert.equal(accounts.sessionCount, 0);

    accounts.auth(client, { type: 'auth', token: STATIC_TOKEN }, close);
    assert.equal(accounts.sessionCount, 1);
    await settle();
    assert.equal(client.ofType('authenticated')[0]?.['account'], 'beta');
    assert.equal(accounts.accountOf(client), 'beta');

    accounts.leaveAll(client);
    assert.equal(accounts.sessionCount, 0);
    assert.deepEqual(closed, []);
  });

  it('a ?token= on the upgrade makes the session at once; a bad one closes the connection with 4401', async () => {
    const good = new ParsedSink();
    accounts.opened(good, upgrade(`/ws?token=${STATIC_TOKEN}`), close);
    assert.equal(accounts.sessionCount, 1);
    await settle();
    assert.equal(accounts.accountOf(good), 'beta');

    const bad = new ParsedSink();
    accounts.opened(bad, upgrade('/ws?token=not-a-token'), close);
    await settle();
    assert.deepEqual(closed, [{ client: bad, code: CLOSE_CODES.UNAUTHORIZED }]);

    accounts.leaveAll(good);
    accounts.leaveAll(bad);
    assert.equal(accounts.sessionCount, 0);
  });
});
