import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import type { StreamEvent } from '../venue.ts';
import type { ConnectionProtocol, FrameOutcome } from './connection-protocol.ts';
import { ConnectionRunner } from './runner.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const CYCLES = 1000;
const WARMUP = 100;

/** Heap after full collections, and active handles by type (timers, sockets, servers). */
async function settle(): Promise<{ heap: number; resources: Map<string, number> }> {
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  const resources = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) resources.set(kind, (resources.get(kind) ?? 0) + 1);
  return { heap: process.memoryUsage().heapUsed, resources };
}

describe('ConnectionRunner leaves nothing behind', () => {
  const dropping = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const live = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  let refusedUrl = '';
  let droppingUrl = '';
  let liveUrl = '';

  before(async () => {
    await Promise.all([
      new Promise((r) => dropping.once('listening', r)),
      new Promise((r) => live.once('listening', r)),
    ]);
    dropping.on('connection', (socket) => socket.terminate());
    live.on('connection', (socket) => socket.send('{"s":"A"}'));
    droppingUrl = `ws://127.0.0.1:${(dropping.address() as AddressInfo).port}/`;
    liveUrl = `ws://127.0.0.1:${(live.address() as AddressInfo).port}/`;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    refusedUrl = `ws://127.0.0.1:${(probe.address() as AddressInfo).port}/`;
    await new Promise<void>((r) => probe.close(() => r()));
  });

  after(async () => {
    await new Promise((r) => dropping.close(r));
    await new Promise((r) => live.close(r));
  });

  /**
   * One cycle: two refused connects (→ REST polling), one accepted-then-dropped connect, one healthy connect
   * (→ back to the websocket), then close.
   */
  async function cycle(): Promise<number> {
    let attempt = 0;
    const urls = [refusedUrl, refusedUrl, droppingUrl, liveUrl];
    const modes: string[] = [];
    const protocol: ConnectionProtocol = {
      venue: 'binance',
      heartbeat: { kind: 'ws-ping', intervalMs: 10_000 },
      limits: { messagesPerSecond: 1000 },
      url: () => urls[Math.min(attempt++, urls.length - 1)] as string,
      subscriptions: () => ['a'],
      symbols: () => ['A'],
      subscribeFrames: () => ['sub:A'],
      handleFrame: (): FrameOutcome => ({ kind: 'data', symbol: 'A' }),
      poll: () => Promise.resolve(),
    };
    let done: () => void = () => undefined;
    const healthy = new Promise<void>((resolve) => (done = resolve));
    const runner = new ConnectionRunner(
      protocol,
      {
        status: () => undefined,
        event: (e: StreamEvent) => {
          if (e.kind !== 'mode') return;
          modes.push(e.mode);
          if (e.mode === 'websocket') done();
        },
      },
      {
        logger: pino({ level: 'silent' }),
        backoff: { initialMs: 1, maxMs: 2 },
        fallback: { afterFailures: 2, pollIntervalMs: 5, pricePollIntervalMs: 1 },
        staleSymbolMs: 10_000,
        closeTimeoutMs: 100,
      },
    );
    runner.start();
    await healthy;
    await runner.close();
    assert.deepEqual(modes, ['polling', 'websocket']);
    return runner.counters().connects;
  }

  it(`holds heap and handle counts flat over ${CYCLES} connect/fail/fallback cycles`, async () => {
    for (let i = 0; i < WARMUP; i++) await cycle();
    const start = await settle();
    let connects = 0;
    for (let i = 0; i < CYCLES; i++) connects += await cycle();
    const end = await settle();
    assert.ok(connects >= CYCLES * 4, `${connects} connects`);
    assert.deepEqual(
      Object.fromEntries(end.resources),
      Object.fromEntries(start.resources),
      'active handles by type are unchanged',
    );
    const growth = end.heap - start.heap;
    // A leaked runner, socket or timer per cycle would cost far more than 2 KiB each over 1,000 cycles.
    assert.ok(growth < 2 * 1024 * CYCLES, `heap grew by ${Math.round(growth / 1024)} KiB`);
  });
});
