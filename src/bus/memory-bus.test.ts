import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { silentLogger } from '../telemetry/logger.ts';
import { runBusContract } from './bus.contract.ts';
import { MemoryBus } from './memory-bus.ts';

runBusContract('MemoryBus', async (count) => {
  const bus = new MemoryBus({ logger: silentLogger() });
  return Array.from({ length: count }, () => bus);
});

describe('MemoryBus', () => {
  it('delivers synchronously, before publish returns', () => {
    const bus = new MemoryBus();
    const got: string[] = [];
    bus.subscribe('c', (m) => got.push(m));
    bus.publish('c', 'now');
    assert.deepEqual(got, ['now']);
  });

  it('logs a subscriber that throws, with its channel', () => {
    const lines: { level: number; msg: string; channel: string; err: { message: string } }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        done();
      },
    });
    const bus = new MemoryBus({ logger: pino(sink) });
    bus.subscribe('c', () => {
      throw new Error('subscriber bug');
    });
    bus.publish('c', 'x');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.level, 50);
    assert.equal(lines[0]?.channel, 'c');
    assert.equal(lines[0]?.err.message, 'subscriber bug');
  });

  it('is always up and never reports a status change', async () => {
    const bus = new MemoryBus();
    const seen: unknown[] = [];
    const off = bus.onStatus((s) => seen.push(s));
    bus.publish('c', 'x');
    await bus.close();
    off();
    assert.deepEqual(bus.status(), { state: 'up' });
    assert.deepEqual(seen, []);
  });
});
