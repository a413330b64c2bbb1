import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TickwireClient } from '../../src/client/tickwire-client.ts';
import type { ClientClock } from '../../src/client/types.ts';
import type { Position } from '../../src/domain/account.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import { positionJson } from '../../src/gateway/account-json.ts';
import {
  STATIC_TOKEN,
  startAccountGateway,
  T0,
  type AccountGateway,
} from '../../src/gateway/account-channels.test-support.ts';
import { lossyWebSocket, until } from './support.ts';

const d = parseDecimal;

function position(symbol: string, size: string, time: number): Position {
  return {
    symbol,
    side: 'long',
    size: d(size),
    entryPrice: d('60000'),
    markPrice: d('60100'),
    marginMode: 'cross',
    unrealizedPnl: d('50'),
    margin: d('1000'),
    timestamp: time,
  };
}

describe('client: account channels (real gateway, real account hub)', () => {
  let g: AccountGateway;
  before(async () => {
    g = await startAccountGateway({ throttleMs: 0 });
  });
  after(() => g.close());

  it('applies deltas by seq, resyncs after a lost one, and renews its token ahead of the expiry', async () => {
    // The client runs on the gateway's clock: the token's expiry and the refresh timer are on one time line.
    const clock: ClientClock = {
      now: () => g.clock.now(),
      setTimeout: (callback, ms) => g.clock.setTimeout(callback, ms),
      clearTimeout: (handle) => g.clock.clearTimer(handle as ReturnType<typeof g.clock.setTimeout>),
    };
    let tokens = 0;
    let dropped = 0;
    const sent: string[] = [];
    // The path loses the first change of `positions` (a snapshot always passes).
    const WebSocket = lossyWebSocket((text) => {
      if (dropped > 0 || !text.includes('"positions_update"') || text.includes('"snapshot":true'))
        return false;
      dropped++;
      return true;
    }, sent);
    const client = new TickwireClient({
      url: g.gateway.url + '/ws',
      WebSocket,
      clock,
      token: async () => {
        tokens++;
        return g.auth.issue('alpha', 60_000);
      },
      // Manual time moves in large steps here; the ping has its own test.
      pingIntervalMs: 3_600_000,
      polling: false,
    });
    after(() => client.close());
    const account = client.account();
    await client.connect();
    await until(() => account.get().authenticated && account.get().dashboard !== undefined, 'the snapshots');
    assert.equal(account.get().account, 'alpha');
    assert.equal(account.get().venue, 'bitget');
    assert.equal(account.get().tokenExpiresAt, T0 + 60_000);
    assert.equal(tokens, 1, 'the token function runs before the connection');
    assert.equal(account.get().live, true);

    g.sources.alpha.emit({
      kind: 'positions',
      positions: [position('BTC/USDT', '1', T0)],
      complete: true,
      time: T0,
    });
    await until(() => dropped === 1, 'the lost change');
    g.sources.alpha.emit({
      kind: 'positions',
      positions: [position('BTC/USDT', '2', T0), position('ETH/USDT', '3', T0)],
      complete: true,
      time: T0,
    });
    await until(() => account.get().positions.size === 2, 'the state after the resync');
    assert.ok(
      sent.some((text) => text === JSON.stringify({ type: 'resync', channel: 'positions' })),
      'a seq gap asks for a fresh snapshot',
    );
    const expected = g.hub.view('alpha')?.positions.map(positionJson) ?? [];
    assert.deepEqual([...account.get().positions.values()], expected);
    assert.equal(account.get().positions.get('BTC/USDT:long')?.size, '2');

    g.sources.alpha.emit({
      kind: 'positions',
      positions: [position('ETH/USDT', '4', T0)],
      complete: true,
      time: T0,
    });
    await until(() => account.get().positions.size === 1, 'a removal applied as a delta');
    assert.deepEqual([...account.get().positions.keys()], ['ETH/USDT:long']);

    // 48 s into a 60 s token (a fifth of its life ahead), the client gets a new token and sends `auth`.
    g.clock.advance(48_000);
    await until(() => account.get().tokenExpiresAt === T0 + 108_000, 'the renewed token');
    assert.equal(tokens, 2);
    // Past the first token's expiry the connection stays: a change still arrives on it.
    g.clock.advance(15_000);
    g.sources.alpha.emit({
      kind: 'positions',
      positions: [position('ETH/USDT', '5', T0)],
      complete: true,
      time: T0,
    });
    await until(
      () => account.get().positions.get('ETH/USDT:long')?.size === '5',
      'a change after the old expiry',
    );
    assert.equal(client.status.state, 'connected');
    assert.equal(tokens, 2, 'no reconnect was needed');
  });

  it('says why when there is no token or the gateway refuses it', async () => {
    const anonymous = new TickwireClient({
      url: g.gateway.url,
      WebSocket: lossyWebSocket(() => false, []),
      polling: false,
    });
    const refused = new TickwireClient({
      url: g.gateway.url,
      WebSocket: lossyWebSocket(() => false, []),
      token: 'not-a-token',
      polling: false,
    });
    try {
      assert.equal(anonymous.account().get().error?.code, 'AUTH_REQUIRED');
      const view = refused.account();
      await refused.connect();
      await until(() => view.get().error !== undefined, 'the refusal');
      assert.equal(view.get().error?.code, 'AUTH_INVALID');
      assert.equal(view.get().authenticated, false);
      assert.equal(refused.status.state, 'connected', 'public channels keep working');

      // A view opened after the token was accepted (its room was closed and opened again): authenticated at once.
      const later = new TickwireClient({
        url: g.gateway.url,
        WebSocket: lossyWebSocket(() => false, []),
        token: STATIC_TOKEN,
        polling: false,
      });
      try {
        const first = later.account();
        await later.connect();
        await until(() => first.get().authenticated, 'the token accepted');
        first.close();
        const second = later.account();
        assert.equal(second.get().authenticated, true);
        assert.equal(second.get().account, 'beta');
        await until(() => second.get().dashboard !== undefined, 'the snapshots again');
      } finally {
        later.close();
      }
    } finally {
      anonymous.close();
      refused.close();
    }
  });
});
