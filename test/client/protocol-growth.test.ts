import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { TickwireClient } from '../../src/client/tickwire-client.ts';
import { NodeWebSocket, until } from './support.ts';

/**
 * The protocol grows: a newer gateway may send message types and alert kinds this client does not know. No
 * gateway of this version sends them, so a scripted server does, speaking the real wire format around them.
 */
describe('client: messages and alert kinds it does not know', () => {
  it('ignores them and keeps handling the messages it knows', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const received: unknown[] = [];
    server.on('connection', (socket) => {
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { type: string; channel?: string };
        received.push(message);
        if (message.type !== 'subscribe') return;
        if (message.channel === 'alerts') {
          socket.send(JSON.stringify({ type: 'subscribed', channel: 'alerts', minSeverity: 'info' }));
          socket.send(
            JSON.stringify({
              type: 'alerts',
              alerts: [
                {
                  id: 'a1',
                  time: 1,
                  severity: 'info',
                  kind: 'quantum_flux',
                  message: 'a kind from the future',
                },
                {
                  id: 'a2',
                  time: 2,
                  severity: 'warning',
                  kind: 'source_stale',
                  venue: 'okx',
                  message: 'stale',
                },
              ],
            }),
          );
          return;
        }
        socket.send(JSON.stringify({ type: 'welcome_banner', text: 'a message type from the future' }));
        socket.send('not json at all');
        socket.send(
          JSON.stringify({
            type: 'ticker',
            venue: 'okx',
            symbol: 'BTC/USDT',
            last: 1.5,
            time: 3,
            extra: 'x',
          }),
        );
      });
    });
    const port = (server.address() as AddressInfo).port;
    const client = new TickwireClient({
      url: `ws://127.0.0.1:${port}/ws`,
      WebSocket: NodeWebSocket,
      polling: false,
    });
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.code));
    try {
      const ticker = client.ticker({ symbol: 'BTC/USDT', venue: 'okx' });
      const alerts = client.alerts();
      await client.connect();
      await until(() => ticker.get() !== undefined && alerts.get().alerts.length > 0, 'the known messages');
      assert.deepEqual(ticker.get(), { symbol: 'BTC/USDT', venue: 'okx', last: 1.5, time: 3, live: true });
      assert.deepEqual(
        alerts.get().alerts.map((a) => a.id),
        ['a2'],
        'an unknown alert kind is left out',
      );
      assert.equal(client.status.state, 'connected');
      assert.deepEqual(errors, []);
    } finally {
      client.close();
      server.close();
    }
  });
});
