/**
 * `tickwire aggregate`: builds candles from a trades file with the same engine as the live path and writes them
 * as Binance-style kline CSV. The input is streamed line by line, so files of any size run in bounded memory.
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { CandleEngine } from '../candles/candle-engine.ts';
import { ReorderWindow } from '../candles/reorder-window.ts';
import type { Candle, CandleUpdate } from '../domain/candle.ts';
import { toPlainString } from '../domain/decimal.ts';
import { isCanonicalSymbol } from '../domain/instrument.ts';
import { INTERVAL_MS, INTERVALS, parseIntervalList, type Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import { decodeTradeJson } from '../domain/trade-json.ts';
import { readLineSpans } from '../util/read-lines.ts';
import {
  AggTradeByteScanner,
  detectDumpFormat,
  isCsvHeader,
  parseAggTradeCsvRow,
  parseAggTradeJsonLine,
  parseTradeCsvRow,
} from '../venues/binance/trade-dump.ts';

export const AGGREGATE_FORMATS = [
  'auto',
  'binance-aggtrades-json',
  'binance-trades-csv',
  'binance-aggtrades-csv',
  'tickwire-json',
] as const;
type InputFormat = Exclude<(typeof AGGREGATE_FORMATS)[number], 'auto'>;

const DEFAULT_SYMBOL = 'UNKNOWN/UNKNOWN';
const DEFAULT_REORDER_WINDOW_S = 300;
const OUTPUT_CHUNK = 1 << 16;

export const AGGREGATE_USAGE = `Usage: tickwire aggregate [options]

Builds OHLCV candles from a file of trades and writes them as CSV.

Options:
  --input FILE         trades file; "-" or absent: standard input
  --output FILE        CSV file to write, put in place only when the run succeeds (a failed run leaves no
                       partial file and an existing FILE untouched); absent: standard output
  --interval LIST      comma-separated intervals among ${INTERVALS.join(', ')} (default 1m)
  --format NAME        input format (default auto: detected from the first non-empty line):
                         binance-aggtrades-json  JSON lines with a, p, q, f, l, T, m (REST or stream)
                         binance-trades-csv      id,price,qty,quoteQty,time,isBuyerMaker[,isBestMatch]
                         binance-aggtrades-csv   aggId,price,qty,firstId,lastId,time,isBuyerMaker[,isBestMatch]
                         tickwire-json           JSON lines of Tickwire trades (src/domain/trade-json.ts)
                       CSV input may have a header line; times may be ms or µs.
  --symbol SYMBOL      canonical symbol (BASE/QUOTE). Default: the symbol of the first tickwire-json trade,
                       else ${DEFAULT_SYMBOL}. tickwire-json trades of another symbol are bad rows.
  --reorder-window S   trades may arrive up to S seconds out of time order (default ${DEFAULT_REORDER_WINDOW_S}); they are
                       sorted within that window, so the output equals that of the sorted input. A trade older
                       than the window is a bad row.
  --skip-bad           skip bad rows and report their count on stderr (default: stop at the first one)
  --header             write a header line first (Binance's own kline files have none)
  -h, --help           this text

Output: one row per bar, oldest first, in Binance kline column order:
  open time (ms), open, high, low, close, volume, close time (open + interval - 1 ms), quote volume,
  trade count, taker buy base volume, taker buy quote volume, ignore (always 0).
Prices and volumes are exact decimals. Minutes without trades are flat bars at the previous close with zero
volume. Every closed bar is written once, then the last (possibly partial) bar of each interval.
With several intervals, each row starts with an extra first column naming its interval; the rows of one
interval are in time order, and intervals interleave as their bars complete.

Exit status: 0 on success, 1 on a bad row or an I/O error, 2 on a usage error.`;

interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** A bad input row: stops the run, or is counted with --skip-bad. */
class BadRow extends Error {}

/** One kline CSV row (with a leading interval column when `prefix`). */
function csvRow(interval: Interval, bar: Candle, prefix: boolean): string {
  const fields = [
    bar.time,
    toPlainString(bar.open),
    toPlainString(bar.high),
    toPlainString(bar.low),
    toPlainString(bar.close),
    toPlainString(bar.volume),
    bar.time + INTERVAL_MS[interval] - 1,
    toPlainString(bar.quoteVolume),
    bar.trades,
    toPlainString(bar.takerBuyVolume),
    toPlainString(bar.takerBuyQuoteVolume),
    '0',
  ].join(',');
  return (prefix ? `${interval},` : '') + fields + '\n';
}

const HEADER =
  'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';

function detectFormat(line: string): InputFormat | undefined {
  const text = line.trim();
  if (text.startsWith('{') && /"venue"\s*:/.test(text) && /"price"\s*:/.test(text)) return 'tickwire-json';
  return detectDumpFormat(text);
}

/** Writes text to a stream, waiting when its buffer is full. */
async function write(out: Writable, text: string): Promise<void> {
  if (text === '' || out.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      out.off('drain', onDrain);
      reject(err);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/**
 * The `--output` file. A regular file (new or existing) is written as a temporary file beside it and renamed over
 * it only once the whole run succeeded, so a failed run leaves no partial file and an existing file untouched.
 * A path that exists and is not a regular file (a pipe, /dev/stdout) is written directly: it cannot be replaced.
 */
interface OutputFile {
  readonly stream: Writable;
  /** Flushes and closes the stream, then puts the file in place. Rejects on a write or rename error. */
  commit(): Promise<void>;
  /** Closes the stream and removes the temporary file; never rejects. */
  discard(): Promise<void>;
}

async function openOutputFile(path: string): Promise<OutputFile> {
  // Through a symbolic link, the file it points to is replaced, not the link.
  const target = await realpath(path).catch(() => path);
  const existing = await stat(target).catch(() => undefined);
  if (existing !== undefined && !existing.isFile()) {
    const handle = await open(target, 'w');
    const stream = handle.createWriteStream();
    return {
      stream,
      commit: () => endStream(stream),
      discard: () => endStream(stream).catch(() => undefined),
    };
  }
  const temporary = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  // 'wx': never reuse a file that is already there.
  const handle = await open(temporary, 'wx');
  const stream = handle.createWriteStream();
  return {
    stream,
    async commit() {
      await endStream(stream);
      if (existing !== undefined) await chmod(temporary, existing.mode & 0o7777);
      await rename(temporary, target);
    },
    async discard() {
      await endStream(stream).catch(() => undefined);
      await rm(temporary, { force: true }).catch(() => undefined);
    },
  };
}

/** Ends a file stream and waits until its file is closed; rejects with the stream's error. */
async function endStream(stream: Writable): Promise<void> {
  if (stream.destroyed) {
    if (stream.errored) throw stream.errored;
    return;
  }
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('close', () => resolve());
    stream.end();
  });
}

/**
 * Runs `tickwire aggregate` with `argv` (the arguments after the role). Resolves with the exit code; never throws
 * for bad input or I/O errors (they are reported on `io.stderr`).
 */
export async function runAggregate(argv: string[], io: Io): Promise<number> {
  const say = (text: string): void => {
    io.stderr.write(`tickwire aggregate: ${text}\n`);
  };
  let values: {
    input?: string;
    output?: string;
    interval?: string;
    format?: string;
    symbol?: string;
    'reorder-window'?: string;
    'skip-bad'?: boolean;
    header?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string' },
        output: { type: 'string' },
        interval: { type: 'string' },
        format: { type: 'string' },
        symbol: { type: 'string' },
        'reorder-window': { type: 'string' },
        'skip-bad': { type: 'boolean' },
        header: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    say(`${(err as Error).message}\n\n${AGGREGATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    await write(io.stdout, AGGREGATE_USAGE + '\n');
    return 0;
  }
  let intervals: Interval[];
  try {
    intervals = parseIntervalList(values.interval ?? '1m');
  } catch (err) {
    say((err as Error).message);
    return 2;
  }
  intervals.sort((a, b) => INTERVAL_MS[a] - INTERVAL_MS[b]);
  const formatOption = values.format ?? 'auto';
  if (!(AGGREGATE_FORMATS as readonly string[]).includes(formatOption)) {
    say(`invalid --format "${formatOption}"; valid: ${AGGREGATE_FORMATS.join(', ')}`);
    return 2;
  }
  if (values.symbol !== undefined && !isCanonicalSymbol(values.symbol)) {
    say(`invalid --symbol "${values.symbol}": expected BASE/QUOTE in upper case, e.g. BTC/USDT`);
    return 2;
  }
  const windowText = values['reorder-window'] ?? String(DEFAULT_REORDER_WINDOW_S);
  const windowS = Number(windowText);
  if (windowText.trim() === '' || !Number.isFinite(windowS) || windowS < 0 || windowS > 7 * 86_400) {
    say(`invalid --reorder-window "${windowText}": seconds between 0 and 604800`);
    return 2;
  }
  const windowMs = windowS * 1000;
  const skipBad = values['skip-bad'] === true;
  const prefix = intervals.length > 1;
  const wanted = new Set<Interval>(intervals);

  let input: Readable;
  let closeInput = async (): Promise<void> => {};
  if (values.input === undefined || values.input === '-') input = io.stdin;
  else {
    try {
      const handle = await open(values.input, 'r');
      input = handle.createReadStream();
      closeInput = () => handle.close().catch(() => undefined);
    } catch (err) {
      say(`cannot read ${values.input}: ${(err as Error).message}`);
      return 1;
    }
  }
  let out: Writable = io.stdout;
  let outputFile: OutputFile | undefined;
  if (values.output !== undefined) {
    try {
      outputFile = await openOutputFile(values.output);
    } catch (err) {
      say(`cannot write ${values.output}: ${(err as Error).message}`);
      await closeInput();
      return 1;
    }
    out = outputFile.stream;
  }

  let buffered = '';
  const largest = intervals[intervals.length - 1]!;
  const engine = new CandleEngine({
    symbol: values.symbol ?? DEFAULT_SYMBOL,
    venues: [],
    closeGraceMs: 0,
    retentionMs: INTERVAL_MS[largest],
    intervals,
    emitLive: false,
    onUpdate: (u: CandleUpdate) => {
      // Input reaches the engine sorted, so bars only ever close: each closed bar is final.
      if (u.state === 'closed' && wanted.has(u.interval)) buffered += csvRow(u.interval, u.bar, prefix);
    },
  });

  let format: InputFormat | undefined = formatOption === 'auto' ? undefined : (formatOption as InputFormat);
  let symbol = values.symbol;
  const reorder = new ReorderWindow(windowMs);
  const apply = (trade: Trade): void => {
    engine.addTrade(trade);
  };
  let lineNo = 0;
  let dataLines = 0;
  let skipped = 0;
  let exitCode = 0;

  const parse = (line: string): Trade | null => {
    if (format === undefined) {
      format = detectFormat(line);
      if (format === undefined) {
        throw new BadRow('cannot detect the input format; pass --format');
      }
    }
    const csv = format === 'binance-trades-csv' || format === 'binance-aggtrades-csv';
    if (csv && isCsvHeader(line)) {
      if (dataLines > 0) throw new BadRow('unexpected header line after data (or a non-numeric id)');
      return null;
    }
    try {
      switch (format) {
        case 'binance-aggtrades-json':
          return parseAggTradeJsonLine(line, symbol ?? DEFAULT_SYMBOL);
        case 'binance-trades-csv':
          return parseTradeCsvRow(line, symbol ?? DEFAULT_SYMBOL);
        case 'binance-aggtrades-csv':
          return parseAggTradeCsvRow(line, symbol ?? DEFAULT_SYMBOL);
        case 'tickwire-json': {
          const t = decodeTradeJson(line);
          symbol ??= t.symbol;
          if (t.symbol !== symbol) throw new BadRow(`trade of ${t.symbol} in a run for ${symbol}`);
          return t;
        }
      }
    } catch (err) {
      throw err instanceof BadRow ? err : new BadRow((err as Error).message);
    }
  };

  /** Throws when a trade at `time` cannot be put in order any more. */
  const checkTime = (time: number): void => {
    if (!Number.isSafeInteger(time) || time < 0) throw new BadRow('trade time is not a valid time');
    if (!reorder.accepts(time)) {
      throw new BadRow(
        `trade at ${new Date(time).toISOString()} is more than ${windowS} s older than a trade ` +
          `already read (${new Date(reorder.latest).toISOString()}); sort the input or raise --reorder-window`,
      );
    }
  };
  // Binance aggTrade lines of the exact shape go from their bytes to the window as numbers; any other line
  // (and every line of other formats) is decoded and read as text, with the same results and errors.
  const scanner = new AggTradeByteScanner();

  try {
    if (values.header) buffered += (prefix ? 'interval,' : '') + HEADER + '\n';
    reading: for await (const spans of readLineSpans(input)) {
      const bytes = spans.bytes;
      for (let i = 0; i < spans.count; i++) {
        lineNo++;
        try {
          if (format === 'binance-aggtrades-json' && scanner.scan(bytes, spans.start(i), spans.end(i))) {
            dataLines++;
            checkTime(scanner.time);
            reorder.pushNumbers(scanner, 'binance', symbol ?? DEFAULT_SYMBOL, apply);
            continue;
          }
          const line = spans.text(i);
          if (line.trim() === '') continue;
          const trade = parse(line);
          if (trade === null) continue;
          dataLines++;
          checkTime(trade.time);
          reorder.push(trade, apply);
        } catch (err) {
          if (!(err instanceof BadRow)) throw err;
          if (!skipBad) {
            say(`line ${lineNo}: ${err.message}`);
            exitCode = 1;
            break reading;
          }
          skipped++;
        }
      }
      if (buffered.length >= OUTPUT_CHUNK) {
        const text = buffered;
        buffered = '';
        await write(out, text);
      }
    }
    if (exitCode === 0) {
      reorder.drain(apply);
      for (const interval of intervals) {
        const last = engine.live(interval);
        if (last !== undefined) buffered += csvRow(interval, last, prefix);
      }
    }
    await write(out, buffered);
    buffered = '';
    if (skipBad) say(`skipped ${skipped} bad row${skipped === 1 ? '' : 's'}`);
  } catch (err) {
    say(`${(err as Error).message}`);
    exitCode = 1;
  } finally {
    await closeInput();
  }
  if (outputFile !== undefined) {
    if (exitCode !== 0) await outputFile.discard();
    else {
      try {
        await outputFile.commit();
      } catch (err) {
        say(`cannot write ${values.output}: ${(err as Error).message}`);
        await outputFile.discard();
        exitCode = 1;
      }
    }
  }
  return exitCode;
}
