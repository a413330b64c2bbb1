import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { untilStopSignal } from './shutdown.ts';

function setup(): { signals: EventEmitter; exits: number[]; clock: ManualClock; stopped: Promise<string> } {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const clock = new ManualClock(0);
  const stopped = untilStopSignal({
    timeoutMs: 8000,
    logger: silentLogger(),
    signals: signals as unknown as NodeJS.Process,
    exit: (code) => exits.push(code),
    clock,
  });
  return { signals, exits, clock, stopped };
}

describe('untilStopSignal', () => {
  it('resolves on the first SIGTERM or SIGINT and sets no deadline before it', async () => {
    for (const signal of ['SIGTERM', 'SIGINT']) {
      const s = setup();
      assert.equal(s.clock.pending, 0);
      s.signals.emit(signal, signal);
      assert.equal(await s.stopped, signal);
      assert.deepEqual(s.exits, []);
    }
  });

  it('exits at once on a second signal: 143 for SIGTERM, 130 for SIGINT', async () => {
    const term = setup();
    term.signals.emit('SIGTERM', 'SIGTERM');
    await term.stopped;
    term.signals.emit('SIGTERM', 'SIGTERM');
    assert.deepEqual(term.exits, [143]);
    const int = setup();
    int.signals.emit('SIGTERM', 'SIGTERM');
    await int.stopped;
    int.signals.emit('SIGINT', 'SIGINT');
    assert.deepEqual(int.exits, [130]);
  });

  it('exits with 1 when the stop outlives timeoutMs', async () => {
    const s = setup();
    s.signals.emit('SIGINT', 'SIGINT');
    await s.stopped;
    s.clock.advance(7999);
    assert.deepEqual(s.exits, []);
    s.clock.advance(1);
    assert.deepEqual(s.exits, [1]);
  });
});
