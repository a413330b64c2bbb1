import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickwireError } from '../domain/errors.ts';
import { formatLogLine, formatLogRecord, resolveLogFormat } from './log-format.ts';
import { afterLogsWritten, createLogger, isOrdinaryError, type LogDestination } from './logger.ts';

/** A destination that keeps what the logger writes; `isTTY` plays a terminal or a pipe. */
function capture(isTTY: boolean): LogDestination & { text(): string } {
  const chunks: string[] = [];
  return { isTTY, write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}

/** The same instant for every time zone the tests run in: the formatter prints local time. */
const AT = new Date(2024, 9, 24, 14, 2, 7, 311).getTime();

/** An error as Node's fetch reports a refused connection: TypeError "fetch failed", cause ECONNREFUSED. */
function refused(): Error {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  return new TypeError('fetch failed', { cause });
}

describe('log line format', () => {
  it('writes time, level, venue and symbol, message, cause and the other fields on one line', () => {
    const line = formatLogRecord({
      level: 40,
      time: AT,
      pid: 1,
      hostname: 'h',
      name: 'tickwire',
      venue: 'binance',
      symbol: 'BTC/USDT',
      err: { type: 'TickwireError', message: 'HTTP 500\n(after 5 attempts)' },
      attempt: 3,
      url: 'ws://x:1',
      reason: 'closed by server',
      msg: 'backfill failed',
    });
    assert.equal(
      line,
      '14:02:07.311 WARN  binance BTC/USDT: backfill failed — HTTP 500 (after 5 attempts) attempt=3 url=ws://x:1 reason="closed by server"\n',
    );
  });

  it('does not repeat a subject the message already names, nor counters the message states', () => {
    const line = formatLogRecord({
      level: 30,
      time: AT,
      venue: 'binance',
      repeat: { attempts: 12, nextInMs: 15000 },
      alert: { kind: 'x' },
      msg: 'binance: still unreachable (12 attempts, next in 15 s)',
    });
    assert.equal(line, '14:02:07.311 INFO  binance: still unreachable (12 attempts, next in 15 s)\n');
  });

  it('follows an error that has a stack (a bug) with its frames, indented', () => {
    const line = formatLogRecord({
      level: 50,
      time: AT,
      err: {
        type: 'TypeError',
        message: 'x is undefined',
        stack: 'TypeError: x is undefined\n    at f (a.ts:1:2)',
      },
      msg: 'handler threw',
    });
    assert.equal(line, '14:02:07.311 ERROR handler threw — x is undefined\n    at f (a.ts:1:2)\n');
  });

  it('passes a line that is not JSON through', () => {
    assert.equal(formatLogLine('plain text'), 'plain text\n');
  });
});

describe('log format choice', () => {
  it('is text on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    assert.equal(resolveLogFormat('auto', true), 'pretty');
    assert.equal(resolveLogFormat('auto', false), 'json');
    assert.equal(resolveLogFormat('json', true), 'json');
    assert.equal(resolveLogFormat('pretty', false), 'pretty');
  });

  it('createLogger writes text lines to a terminal and JSON to a pipe', () => {
    const terminal = capture(true);
    createLogger({ destination: terminal }).warn({ venue: 'okx' }, 'stream unreachable');
    assert.match(terminal.text(), /^\d\d:\d\d:\d\d\.\d{3} WARN {2}okx: stream unreachable\n$/);

    const pipe = capture(false);
    createLogger({ destination: pipe }).warn({ venue: 'okx' }, 'stream unreachable');
    const record = JSON.parse(pipe.text()) as Record<string, unknown>;
    assert.equal(record['msg'], 'stream unreachable');
    assert.equal(record['venue'], 'okx');

    const forcedJson = capture(true);
    createLogger({ destination: forcedJson, format: 'json' }).info('x');
    assert.equal((JSON.parse(forcedJson.text()) as Record<string, unknown>)['msg'], 'x');
    const forcedText = capture(false);
    createLogger({ destination: forcedText, format: 'pretty' }).info('x');
    assert.match(forcedText.text(), / INFO {2}x\n$/);
  });
});

describe('errors in logs', () => {
  it('keeps no stack for ordinary network failures and Tickwire errors, and keeps it for bugs', () => {
    assert.equal(isOrdinaryError(refused()), true);
    assert.equal(isOrdinaryError(new TickwireError('VENUE_UNREACHABLE', 'no answer')), true);
    assert.equal(isOrdinaryError(new TypeError('x is undefined')), false);

    const out = capture(false);
    const logger = createLogger({ destination: out });
    logger.error({ err: refused() }, 'poll failed');
    logger.error({ err: new TypeError('x is undefined') }, 'handler threw');
    const [network, bug] = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { err: { message: string; stack?: string } });
    assert.equal(network?.err.message, 'fetch failed');
    assert.equal(network?.err.stack, undefined);
    assert.match(bug?.err.stack ?? '', /TypeError: x is undefined\n\s+at /);

    const text = capture(true);
    createLogger({ destination: text }).error({ err: refused(), venue: 'binance' }, 'poll failed');
    assert.equal(text.text().split('\n').length, 2, 'one line, no stack');
  });
});

describe('afterLogsWritten', () => {
  const wait = { stallMs: 60_000, maxMs: 60_000 };

  it('calls back at once for a logger that writes synchronously', () => {
    let called = false;
    afterLogsWritten(createLogger({ destination: capture(false) }), wait, () => (called = true));
    assert.equal(called, true);
  });

  // Level silent: the writer is there but takes no line, so only its drain can end the wait before the test's own
  // timeout (the bounds are a minute). shutdown-logs.integration.test.ts covers a writer with lines in flight.
  it(
    "calls back once the JSON logger's asynchronous stderr writer has written all it holds, also when idle and for a child logger",
    { timeout: 30_000 },
    async () => {
      const logger = createLogger({ format: 'json', level: 'silent' }).child({ role: 'test' });
      await new Promise<void>((resolve) => afterLogsWritten(logger, wait, resolve));
    },
  );
});
