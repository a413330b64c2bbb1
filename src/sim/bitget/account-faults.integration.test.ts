import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { startSimulator, type Simulator } from '../simulator.ts';
import { waitUntil } from '../test-kit.ts';

// The venue-wide faults of src/sim/faults.ts that act at once (forceRecycle, malformedFrames) reach Bitget's
// private socket as they reach the public one.
const KEY = 'bg_fault_key';
const SECRET = 'fault-secret';
const PASS = 'fault-pass';
const START = Date.UTC(2026, 2, 2, 7, 58, 0);

/** A socket that keeps raw text frames and the close code. */
class RawClient {
  readonly socket: WebSocket;
  readonly texts: string[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (d) => this.texts.push(String(d)));
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.socket.once('close', (code) => resolve(code)));
  }
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await this.closed;
  }
}

describe('Bitget simulator private socket under venue faults', () => {
  let sim: Simulator;
  const clock = START;
  const clients: RawClient[] = [];

  /** A private socket logged in with the configured key. */
  const loggedIn = async (): Promise<RawClient> => {
    const c = new RawClient(sim.urls.bitget.privateWsUrl);
    clients.push(c);
    await c.opened;
    const timestamp = String(Math.floor(clock / 1000));
    const sign = createHmac('sha256', SECRET).update(`${timestamp}GET/user/verify`).digest('base64');
    c.socket.send(
      JSON.stringify({ op: 'login', args: [{ apiKey: KEY, passphrase: PASS, timestamp, sign }] }),
    );
    await waitUntil(() => c.texts.some((t) => t.includes('"event":"login"')));
    return c;
  };

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT'],
      historyDays: 0,
      tradesPerSecond: 5,
      now: () => clock,
      bitget: { accounts: [{ apiKey: KEY, secret: SECRET, passphrase: PASS, trader: false }] },
    });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.close();
  });

  test('malformedFrames sends frames that are no valid message to the private socket', async () => {
    const c = await loggedIn();
    const before = c.texts.length;
    sim.faults.malformedFrames('bitget', 4);
    await waitUntil(() => c.texts.length >= before + 4);
    const sent = c.texts.slice(before, before + 4);
    for (const text of sent) assert.throws(() => JSON.parse(text) as unknown, SyntaxError, text);
    // The socket stays usable afterwards.
    c.socket.send('ping');
    await waitUntil(() => c.texts.slice(before + 4).includes('pong'));
  });

  test('forceRecycle closes the private socket plainly (1000), and a new one logs in', async () => {
    const c = await loggedIn();
    sim.faults.forceRecycle('bitget');
    assert.equal(await c.closed, 1000);
    const again = await loggedIn();
    assert.ok(again.texts.some((t) => t === '{"event":"login","code":0}'));
  });
});
