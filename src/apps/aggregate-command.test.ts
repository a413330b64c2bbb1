import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AGG_TRADES_PATH,
  KLINES_1M_PATH,
  KLINES_5M_PATH,
  type RefBar,
  loadAggTradeLines,
  loadKlines,
  rollUp,
} from '../candles/aggregation-dataset.test-support.ts';
import { eq, parseDecimal, toPlainString } from '../domain/decimal.ts';
import { INTERVAL_MS, type Interval } from '../domain/interval.ts';
import { runAggregate } from './aggregate-command.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], stdinText = ''): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: string[] = [];
  const errs: string[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
  stderr.on('data', (c: Buffer) => errs.push(c.toString()));
  const code = await runAggregate(argv, { stdin: Readable.from([stdinText]), stdout, stderr });
  return { code, stdout: chunks.join(''), stderr: errs.join('') };
}

/** Output rows grouped by interval (first column when several intervals were asked for). */
function parseRows(csv: string, single?: Interval): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  for (const line of csv.split('\n')) {
    if (line === '') continue;
    const cols = line.split(',');
    const interval = single ?? cols.shift()!;
    if (!out.has(interval)) out.set(interval, []);
    out.get(interval)!.push(cols);
  }
  return out;
}

function assertRowsMatch(rows: string[][], want: readonly RefBar[], interval: Interval): void {
  assert.equal(rows.length, want.length, `${interval}: row count`);
  rows.forEach((r, i) => {
    const ref = want[i]!;
    assert.equal(Number(r[0]), ref.time, `${interval} row ${i} time`);
    assert.equal(Number(r[6]), ref.time + INTERVAL_MS[interval] - 1, `${interval} close time`);
    assert.equal(r.length, 12);
    assert.equal(r[11], '0');
    const fields = [ref.open, ref.high, ref.low, ref.close, ref.volume];
    fields.forEach((value, k) => {
      assert.ok(
        eq(parseDecimal(r[k + 1]!), value),
        `${interval} ${ref.time} col ${k + 1}: ${r[k + 1]} != ${toPlainString(value)}`,
      );
    });
  });
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tickwire-aggregate-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tickwire aggregate on the Binance XRP/ETH dataset', () => {
  const official1m = loadKlines(KLINES_1M_PATH);
  const official5m = loadKlines(KLINES_5M_PATH);

  it('reproduces every official 1m and 5m kline and the 1m rollups, from a file to a CSV file', async () => {
    const output = join(dir, 'xrpeth.csv');
    const res = await run([
      '--input',
      AGG_TRADES_PATH,
      '--interval',
      '1m,5m,15m,1h,4h,1D',
      '--output',
      output,
    ]);
    assert.equal(res.stderr, '');
    assert.equal(res.code, 0);
    const rows = parseRows(await readFile(output, 'utf8'));
    assertRowsMatch(rows.get('1m')!, official1m, '1m');
    assertRowsMatch(rows.get('5m')!, official5m, '5m');
    for (const interval of ['15m', '1h', '4h', '1D'] as const) {
      assertRowsMatch(rows.get(interval)!, rollUp(official1m, interval), interval);
    }
    // Trade counts are individual fills: the sum equals last - first individual id + 1 of the dataset.
    const fills = rows.get('1D')!.reduce((n, r) => n + Number(r[8]), 0);
    assert.equal(fills, 15383535 - 15373518 + 1);
  });

  it('writes the same output for trades shuffled within the reorder window as for the sorted file', async () => {
    const lines = loadAggTradeLines();
    const shuffled: string[] = [];
    let seed = 7;
    for (let i = 0; i < lines.length; i += 40) {
      const chunk = lines.slice(i, i + 40);
      for (let k = chunk.length - 1; k > 0; k--) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const j = seed % (k + 1);
        [chunk[k], chunk[j]] = [chunk[j]!, chunk[k]!];
      }
      shuffled.push(...chunk);
    }
    assert.notDeepEqual(shuffled, lines);
    const sorted = await run(['--interval', '1m,1h'], lines.join('\n'));
    const mixed = await run(['--interval', '1m,1h', '--reorder-window', '86400'], shuffled.join('\r\n'));
    assert.equal(sorted.code, 0);
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.equal(mixed.stdout, sorted.stdout);
    assert.equal(parseRows(sorted.stdout).get('1m')!.length, official1m.length);
  });
});

describe('tickwire aggregate input formats', () => {
  // Two trades in 00:00, none in 00:01, one in 00:02 (2024-01-01).
  const T0 = Date.UTC(2024, 0, 1);
  const expected1m = [
    `${T0},100.5,101,100.5,101,3,${T0 + 59_999},302.5,3,2,202,0`,
    `${T0 + 60_000},101,101,101,101,0,${T0 + 119_999},0,0,0,0,0`,
    `${T0 + 120_000},99,99,99,99,1,${T0 + 179_999},99,1,0,0,0`,
  ].join('\n');

  it('reads a Binance trades CSV with a header line', async () => {
    const input = [
      'id,price,qty,quote_qty,time,is_buyer_maker,is_best_match',
      `1,100.50000000,1.00000000,100.5,${T0 + 1000},True,True`,
      `2,101.00000000,2.00000000,202,${T0 + 2000},False,True`,
      `3,99.00000000,1.00000000,99,${T0 + 120_500},True,True`,
      '',
    ].join('\n');
    const res = await run(['--input', '-'], input);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), expected1m.replace(`,3,2,202`, ',2,2,202'));
  });

  it('reads a Binance aggTrades CSV without header with microsecond times', async () => {
    const us = (ms: number): string => `${ms}123`;
    const input = [
      `7,100.5,1,10,10,${us(T0 + 1000)},True,True`,
      `8,101,2,11,12,${us(T0 + 2000)},False,True`,
      `9,99,1,13,13,${us(T0 + 120_500)},True,True`,
    ].join('\n');
    const res = await run(['--format', 'binance-aggtrades-csv'], input);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), expected1m);
  });

  it('reads tickwire-json trades and writes a header line on request', async () => {
    const trade = (id: number, price: string, size: string, side: string, time: number): string =>
      JSON.stringify({ venue: 'okx', symbol: 'BTC/USDT', id: String(id), price, size, side, fills: 1, time });
    const input = [
      trade(1, '100.5', '1', 'sell', T0 + 1000),
      trade(2, '101', '2', 'buy', T0 + 2000),
      trade(3, '99', '1', 'sell', T0 + 120_500),
    ].join('\n');
    const file = join(dir, 'trades.jsonl');
    await writeFile(file, input);
    const res = await run(['--input', file, '--header']);
    assert.equal(res.code, 0, res.stderr);
    const [header, ...rows] = res.stdout.trim().split('\n');
    assert.match(header!, /^open_time,open,high,low,close,volume,close_time,/);
    assert.equal(rows.join('\n'), expected1m.replace(`,3,2,202`, ',2,2,202'));
  });

  it('stops at a bad row with its line number and a non-zero exit code', async () => {
    const input = [`1,100.5,1,100.5,${T0 + 1000},True,True`, '', `2,oops,2,202,${T0 + 2000},False,True`].join(
      '\n',
    );
    const res = await run([], input);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /line 3: column price must be a decimal number, got "oops"/);
  });

  describe('--output', () => {
    const good = `1,100.5,1,100.5,${T0 + 1000},True,True`;
    const bad = [good, `2,oops,2,202,${T0 + 2000},False,True`].join('\n');
    let n = 0;
    /** A directory of its own, so that a leftover temporary file would show. */
    async function freshDir(): Promise<string> {
      const d = join(dir, `out-${n++}`);
      await mkdir(d);
      return d;
    }

    it('leaves no file behind when a bad row stops the run', async () => {
      const d = await freshDir();
      const res = await run(['--output', join(d, 'candles.csv')], bad);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /line 2: column price must be a decimal number/);
      assert.deepEqual(await readdir(d), []);
    });

    it('leaves an existing output file untouched when the run fails', async () => {
      const d = await freshDir();
      const output = join(d, 'candles.csv');
      await writeFile(output, 'previous run\n');
      const res = await run(['--output', output], bad);
      assert.equal(res.code, 1);
      assert.equal(await readFile(output, 'utf8'), 'previous run\n');
      assert.deepEqual(await readdir(d), ['candles.csv']);
    });

    it('replaces an existing output file on success, keeping its permissions', async () => {
      const d = await freshDir();
      const output = join(d, 'candles.csv');
      await writeFile(output, 'previous run\n');
      await chmod(output, 0o640);
      const res = await run(['--output', output], good);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(
        await readFile(output, 'utf8'),
        `${T0},100.5,100.5,100.5,100.5,1,${T0 + 59_999},100.5,1,0,0,0\n`,
      );
      assert.equal((await stat(output)).mode & 0o777, 0o640);
      assert.deepEqual(await readdir(d), ['candles.csv']);
    });

    it('writes directly to a path that is not a regular file', async () => {
      const res = await run(['--output', '/dev/null'], good);
      assert.equal(res.code, 0, res.stderr);
    });

    it('reports an output directory that does not exist', async () => {
      const res = await run(['--output', join(dir, 'missing', 'candles.csv')], good);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /cannot write .*missing\/candles\.csv/);
    });
  });

  it('skips and counts bad rows with --skip-bad', async () => {
    const input = [
      `1,100.5,1,100.5,${T0 + 1000},True,True`,
      `2,101,2,202,${T0 + 2000},False`,
      'garbage',
      `3,101,2,202,${T0 + 2000},False,True,extra`,
      `4,99,1,99,${T0 + 120_500},True,True`,
    ].join('\n');
    const res = await run(['--skip-bad'], input);
    assert.equal(res.code, 0);
    assert.match(res.stderr, /skipped 2 bad rows/);
    assert.equal(res.stdout.trim().split('\n').length, 3);
  });

  it('reports a trade older than the reorder window instead of losing it', async () => {
    const input = [`1,100,1,100,${T0 + 600_000},True,True`, `2,100,1,100,${T0},True,True`].join('\n');
    const res = await run(['--reorder-window', '60'], input);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /line 2: trade at 2024-01-01T00:00:00.000Z is more than 60 s older/);
    const ok = await run(['--reorder-window', '600'], input);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim().split('\n').length, 11);
  });

  it('reads Binance aggTrades JSON lines of any shape alike, and names the line of a bad one', async () => {
    const agg = (a: number, price: string, time: number, m: boolean): string =>
      `{"a":${a},"p":"${price}","q":"1.50000000","f":${a},"l":${a},"T":${time},"m":${m},"M":true}`;
    const lines = [
      agg(1, '100.50000000', T0 + 1000, false),
      agg(2, '101.00000000', T0 + 2000, true),
      agg(3, '99.00000000', T0 + 120_500, false),
    ];
    const exact = await run(['--interval', '1m'], lines.join('\n') + '\n');
    assert.equal(exact.code, 0, exact.stderr);
    assert.equal(exact.stdout.trim().split('\n').length, 3);
    // The same trades written otherwise (spaces, a stream wrapper, a long decimal, CRLF, blank lines).
    const varied = [
      lines[0]!.replace('"a":', '"a": '),
      '',
      `{"stream":"btcusdt@aggTrade","data":${lines[1]!}}`,
      lines[2]!.replace('"99.00000000"', '"99.000000000000000000"'),
    ];
    const other = await run(['--interval', '1m'], varied.join('\r\n'));
    assert.equal(other.code, 0, other.stderr);
    assert.equal(other.stdout, exact.stdout);
    const bad = [lines[0]!, '', agg(2, '0.00000000', T0 + 2000, true), lines[2]!].join('\n');
    const stopped = await run([], bad);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /line 3: field p must be a decimal above zero/);
    const late = await run(['--reorder-window', '60'], [lines[2]!, lines[0]!].join('\n'));
    assert.equal(late.code, 1);
    assert.match(late.stderr, /line 2: trade at 2024-01-01T00:00:01.000Z is more than 60 s older/);
    const skipped = await run(['--skip-bad'], bad);
    assert.equal(skipped.code, 0);
    assert.match(skipped.stderr, /skipped 1 bad row\b/);
  });

  it('rejects tickwire-json trades of another symbol', async () => {
    const t = (symbol: string): string =>
      JSON.stringify({ venue: 'okx', symbol, id: '1', price: '1', size: '1', side: 'buy', time: T0 });
    const res = await run([], [t('BTC/USDT'), t('ETH/USDT')].join('\n'));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /line 2: trade of ETH\/USDT in a run for BTC\/USDT/);
  });

  it('prints usage with --help and exits 2 on a bad option', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--interval LIST/);
    assert.match(help.stdout, /first column naming its interval/);
    assert.equal((await run(['--interval', '2m'])).code, 2);
    assert.equal((await run(['--format', 'xml'])).code, 2);
    assert.equal((await run(['--nope'])).code, 2);
    const missing = await run(['--input', join(dir, 'missing.csv')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read/);
  });
});
