import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogRing } from './log-ring.ts';
import { createLogger, redactUrlPassword, type LogDestination } from './logger.ts';

/** A destination that keeps what the logger writes, as a pipe (JSON lines). */
function capture(): LogDestination & { lines(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  return {
    isTTY: false,
    write: (s: string) => chunks.push(s),
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('LogRing', () => {
  it('keeps the newest warnings and errors with level, time, message and fields, oldest first', () => {
    const ring = new LogRing(3);
    const logger = createLogger({ destination: capture(), recent: ring, level: 'debug' });
    logger.debug('not kept');
    logger.info('not kept either');
    logger.warn({ venue: 'okx', attempt: 1 }, 'first');
    logger.error({ err: new TypeError('boom') }, 'second');
    logger.warn('third');
    logger.fatal('fourth');
    const kept = ring.recent();
    assert.deepEqual(
      kept.map((e) => [e.level, e.msg]),
      [
        ['error', 'second'],
        ['warn', 'third'],
        ['fatal', 'fourth'],
      ],
    );
    assert.equal(typeof kept[0]?.time, 'number');
    assert.equal((kept[0]?.fields['err'] as { message: string }).message, 'boom');
    assert.equal(kept[0]?.fields['name'], 'tickwire');
    assert.deepEqual(
      ring.recent('error').map((e) => e.msg),
      ['second', 'fourth'],
    );
  });

  it('keeps nothing with size 0 and refuses a bad size', () => {
    const ring = new LogRing(0);
    ring.write('{"level":50,"time":1,"msg":"x"}');
    assert.deepEqual(ring.recent(), []);
    assert.throws(() => new LogRing(-1), RangeError);
    assert.throws(() => new LogRing(1.5), RangeError);
  });
});

describe('redaction', () => {
  it('logs credential fields as [Redacted] at any of three levels, in the output and in the ring', () => {
    const out = capture();
    const ring = new LogRing(10);
    const logger = createLogger({ destination: out, recent: ring });
    logger.warn(
      {
        apiKey: 'k-123',
        secret: 's-123',
        passphrase: 'p-123',
        password: 'pw-123',
        token: 't-123',
        venue: { name: 'okx', apiKey: 'k-456', passphrase: 'p-456' },
        req: { headers: { authorization: 'Bearer abc', host: 'h' } },
        redisUrl: 'redis://user:hunter2@cache:6379/0',
        databaseUrl: 'postgres://tickwire:hunter3@db:5432/tickwire',
        upstream: { url: 'wss://stream.example.com/ws' },
      },
      'connecting',
    );
    const [line] = out.lines();
    const text = JSON.stringify(line);
    for (const secret of [
      'k-123',
      's-123',
      'p-123',
      'pw-123',
      't-123',
      'k-456',
      'p-456',
      'abc',
      'hunter2',
      'hunter3',
    ]) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.equal(line?.['apiKey'], '[Redacted]');
    assert.equal(line?.['password'], '[Redacted]');
    assert.deepEqual(line?.['venue'], { name: 'okx', apiKey: '[Redacted]', passphrase: '[Redacted]' });
    assert.deepEqual(line?.['req'], { headers: { authorization: '[Redacted]', host: 'h' } });
    assert.equal(line?.['redisUrl'], 'redis://user:[Redacted]@cache:6379/0');
    assert.equal(line?.['databaseUrl'], 'postgres://tickwire:[Redacted]@db:5432/tickwire');
    assert.deepEqual(
      line?.['upstream'],
      { url: 'wss://stream.example.com/ws' },
      'a URL without password as it is',
    );
    const kept = JSON.stringify(ring.recent());
    assert.ok(!kept.includes('hunter2') && !kept.includes('k-123') && kept.includes('[Redacted]'));
  });

  it('hides only the password of a URL', () => {
    assert.equal(redactUrlPassword('redis://:pw@h:1'), 'redis://:[Redacted]@h:1');
    assert.equal(redactUrlPassword('redis://h:6379'), 'redis://h:6379');
    assert.equal(redactUrlPassword('not a url'), 'not a url');
  });
});
