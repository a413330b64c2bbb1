import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { ClientConnection } from './client-connection.ts';

interface Pair {
  readonly server: ClientConnection;
  /** Calls of the server socket's write. */
  readonly writes: () => number;
  /** What each call of the server socket's write was given. */
  readonly written: unknown[];
  readonly received: string[];
  readonly sent: { messagesSent: number; bytesSent: number };
  waitFor(count: number): Promise<void>;
}

/** A ClientConnection over a real WebSocket on loopback, its socket's writes counted. */
async function pair(t: TestContext, deflate: boolean): Promise<Pair> {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: deflate ? { threshold: 0 } : false,
  });
  await once(wss, 'listening');
  const port = (wss.address() as { port: number }).port;
  const accepted = once(wss, 'connection') as Promise<[WebSocket, IncomingMessage]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: deflate });
  t.after(async () => {
    client.terminate();
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await once(client, 'open');
  const [ws, req] = await accepted;
  const socket = req.socket as Socket;
  let writes = 0;
  const written: unknown[] = [];
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    writes++;
    written.push(args[0]);
    return write(...args);
  }) as typeof socket.write;
  const sent = { messagesSent: 0, bytesSent: 0 };
  const server = new ClientConnection(1, ws, socket, '127.0.0.1', {
    maxMessagesPerSecond: 1000,
    maxBufferedBytes: 1 << 30,
    maxQueuedBytes: 1 << 30,
    events: { onSlow: () => assert.fail('not slow'), onConflated: () => undefined },
    sent,
  });
  return {
    server,
    writes: () => writes,
    written,
    received,
    sent,
    waitFor: async (count) => {
      while (received.length < count) await new Promise((resolve) => client.once('message', resolve));
    },
  };
}

const messages = ['{"type":"update","n":1}', '{"type":"update","n":2}', '{"type":"update","n":3}'];

describe('ClientConnection send path', () => {
  it('sends the messages of one cork in one socket write, as frames a ws client reads', async (t) => {
    const p = await pair(t, false);
    const payloads = messages.map((m) => Buffer.from(m));
    assert.equal(p.server.cork(), true);
    for (const b of payloads) p.server.send(b);
    assert.equal(p.writes(), 0, 'held while corked');
    p.server.uncork();
    assert.equal(p.writes(), 1, 'one write for the tick');
    await p.waitFor(3);
    assert.deepEqual(p.received, messages);
    assert.deepEqual(p.sent, { messagesSent: 3, bytesSent: payloads.reduce((s, b) => s + b.length, 0) });
    // Uncorked, a message goes at once.
    p.server.send(payloads[0] as Buffer);
    assert.equal(p.writes(), 2);
    await p.waitFor(4);
    assert.equal(p.received[3], messages[0]);
  });

  it('clients sent the same frames in one tick are written one join of them; other frames, their own', async (t) => {
    const [a, b, c] = [await pair(t, false), await pair(t, false), await pair(t, false)];
    const payloads = messages.map((m) => Buffer.from(m));
    const other = Buffer.from('{"type":"update","n":4}');
    for (const p of [a, b, c]) assert.equal(p.server.cork(), true);
    for (const p of [a, b]) for (const m of payloads) p.server.send(m);
    for (const m of [payloads[0] as Buffer, other, payloads[2] as Buffer]) c.server.send(m);
    for (const p of [a, b, c]) p.server.uncork();
    for (const p of [a, b, c]) assert.equal(p.writes(), 1, 'one write each');
    assert.ok(Buffer.isBuffer(a.written[0]));
    assert.equal(b.written[0], a.written[0], 'the same frames: the same join');
    assert.notEqual(c.written[0], a.written[0], 'other frames: a join of their own');
    await Promise.all([a.waitFor(3), b.waitFor(3), c.waitFor(3)]);
    assert.deepEqual(a.received, messages);
    assert.deepEqual(b.received, messages);
    assert.deepEqual(c.received, [messages[0], '{"type":"update","n":4}', messages[2]]);
  });

  it('corked for one read, the replies of one read leave in one write as soon as the read is handled', async (t) => {
    const p = await pair(t, false);
    p.server.corkForThisRead();
    p.server.corkForThisRead();
    for (const m of messages) p.server.send(m);
    assert.equal(p.writes(), 0, 'held while the read is handled');
    // Room ticks sent meanwhile join the held replies (the cork is already taken).
    assert.equal(p.server.cork(), false);
    p.server.send(Buffer.from(messages[0] as string));
    // At the end of the callback, not of the turn: other sockets' reads in the same turn do not hold them back.
    await new Promise((resolve) => process.nextTick(resolve));
    assert.equal(p.writes(), 1, 'one write for the read');
    await p.waitFor(4);
    assert.deepEqual(p.received, [...messages, messages[0]]);
  });

  it('frames payloads of every length class correctly (7-bit, 16-bit and 64-bit lengths, strings)', async (t) => {
    const p = await pair(t, false);
    const texts = [125, 126, 65_535, 65_536, 100_000].map((n) => `"${'x'.repeat(n - 2)}"`);
    p.server.cork();
    texts.forEach((s, i) => p.server.send(i % 2 === 0 ? Buffer.from(s) : s));
    p.server.uncork();
    await p.waitFor(texts.length);
    assert.deepEqual(
      p.received.map((r) => r.length),
      texts.map((s) => s.length),
    );
    assert.deepEqual(p.received, texts);
  });

  it('a client with permessage-deflate gets its messages through ws, compressed, correct and in order', async (t) => {
    const p = await pair(t, true);
    p.server.cork();
    for (const m of messages) p.server.send(Buffer.from(m));
    p.server.send('x'.repeat(20_000));
    p.server.uncork();
    await p.waitFor(4);
    assert.deepEqual(p.received, [...messages, 'x'.repeat(20_000)]);
    assert.equal(p.sent.messagesSent, 4);
  });
});
