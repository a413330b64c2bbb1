/**
 * Fuzzes a real gateway (startGateway over the in-process bus and a memory store, on loopback) with client
 * frames from client-frames.ts, checking each answer against protocol-oracle.ts: every server message is a
 * documented one, every frame gets the documented answer (an `error` with its code, a `pong`, `subscribed`,
 * `initial`, silence, or the documented close), nothing crashes or logs an error, no promise rejection goes
 * unhandled, and a normal client is still served afterwards. Used by `npm run fuzz` and by the test suite.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { CANDLE_CHANNEL } from '../../src/bus/bus.ts';
import { encodeCandleUpdate } from '../../src/bus/candle-message.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import type { Config } from '../../src/config/config.ts';
import { INTERVALS, type Interval } from '../../src/domain/interval.ts';
import { startGateway, type Gateway } from '../../src/gateway/gateway.ts';
import type { SourcesView } from '../../src/protocol/source-status.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { createLogger, type Logger } from '../../src/telemetry/logger.ts';
import { makeBar, makeUpdate, testConfig } from '../gateway/helpers.ts';
import { describeFrame, nextFrame, type FuzzFrame } from './client-frames.ts';
import {
  applyExpectation,
  CLOSE_CODES,
  ConnectionModel,
  expectReply,
  INVALID_UTF8_CLOSE,
  serverMessageProblem,
  type Alternatives,
  type Expectation,
  type ModelRules,
} from './protocol-oracle.ts';
import { Random } from './random.ts';

export const FUZZ_SYMBOLS = ['BTC/USDT', 'ETH/USDT'];
/** Bars of history each (symbol, interval) holds at start, so `initial` carries real bars. */
const HISTORY_BARS = 120;
/** Every how many cases (per lane) the bus carries a candle update. */
const PUBLISH_EVERY = 20;
const ANSWER_TIMEOUT_MS = 15_000;

export interface Finding {
  /** The case number (0-based, over all lanes' sequences), or -1 for what belongs to no case. */
  readonly caseNo: number;
  readonly problem: string;
  /** The frame of the case and the frames sent just before it on the same connection. */
  readonly frames: readonly string[];
}

export interface FuzzRun {
  readonly cases: number;
  readonly seconds: number;
  readonly findings: readonly Finding[];
  /** How many cases expected each kind of answer. */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly reconnects: number;
}

/** The harness around a gateway: it records errors the gateway logs and process-level failures. */
export interface FuzzTarget {
  readonly gateway: Gateway;
  readonly config: Config;
  readonly rules: ModelRules;
  readonly bus: MemoryBus;
  readonly store: MemoryCandleStore;
  /** Error-level log lines and process failures since start. */
  readonly failures: string[];
  close(): Promise<void>;
}

/** A view of the feed in which every source is live and loaded (so no `initial` is partial). */
function liveSources(config: Config): SourcesView {
  return {
    inStartupGrace: false,
    instruments: config.symbols.map((symbol) => ({
      symbol,
      activeSource: config.venues[0] ?? 'binance',
      primary: config.venues[0] ?? 'binance',
      activeSince: 0,
      sources: config.venues.map((exchange) => ({
        exchange,
        connected: true,
        latency: 5,
        lastUpdate: Date.now(),
        messagesReceived: 1,
        errors: 0,
        healthy: true,
      })),
    })),
  };
}

/** A logger that keeps error-level lines (a gateway that logs an error on client input has a bug). */
function recordingLogger(failures: string[]): Logger {
  return createLogger({
    level: 'error',
    format: 'json',
    destination: {
      write: (line: string) => void failures.push(`gateway logged: ${line.trim().slice(0, 2000)}`),
    },
  });
}

/** Starts the gateway under test and installs the process-level traps (uncaught exception, unhandled rejection). */
export async function startFuzzTarget(gatewayLimits: Partial<Config['gateway']> = {}): Promise<FuzzTarget> {
  const config = testConfig(
    {
      // Frames are checked one by one as fast as the gateway answers; the message limit is tested elsewhere.
      maxMessagesPerSecond: 100_000,
      // Low, so that the fuzzer reaches the subscription limit.
      maxSubscriptionsPerConnection: 8,
      apiRateLimit: 1_000_000_000,
      // Every case comes from 127.0.0.1: the per-address history budget would soon answer every history
      // request with HISTORY_BUDGET_EXCEEDED, which the model does not follow (the budget is tested elsewhere).
      historyBarsPerSecondPerIp: 100_000_000,
      historyBurstBarsPerIp: 100_000_000,
      throttleMs: 100,
      ...gatewayLimits,
    },
    FUZZ_SYMBOLS,
  );
  const failures: string[] = [];
  const onRejection = (reason: unknown): void =>
    void failures.push(`unhandled rejection: ${String((reason as Error)?.stack ?? reason)}`);
  const onException = (err: Error): void =>
    void failures.push(`uncaught exception: ${err.stack ?? String(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const bus = new MemoryBus();
  const store = new MemoryCandleStore();
  const start = Math.floor(Date.now() / 60_000) * 60_000 - HISTORY_BARS * 60_000;
  for (const symbol of config.symbols) {
    for (let i = 0; i < HISTORY_BARS; i++) {
      store.put(symbol, '1m', makeBar(start + i * 60_000, (100 + (i % 7)).toFixed(2), 3), ['binance']);
    }
  }
  const gateway = await startGateway({
    config,
    bus,
    store,
    logger: recordingLogger(failures),
    sources: () => liveSources(config),
  });
  const rules: ModelRules = {
    symbols: config.symbols,
    venues: config.venues,
    maxInitialBars: config.gateway.maxInitialBars,
    defaultInitialBars: config.gateway.defaultInitialBars,
    maxBookDepth: 50,
    maxSubscriptions: config.gateway.maxSubscriptionsPerConnection,
  };
  return {
    gateway,
    config,
    rules,
    bus,
    store,
    failures,
    close: async () => {
      await gateway.close();
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** The documented answer to a frame, by its bytes. */
function expectFrame(frame: FuzzFrame, model: ConnectionModel, target: FuzzTarget): Alternatives {
  if (frame.data.length > target.config.gateway.maxPayloadBytes)
    return { expected: { kind: 'close', code: 1009 } };
  if (frame.binary) return { expected: { kind: 'error', codes: new Set(['INVALID_MESSAGE']) } };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(frame.data);
  } catch {
    return { expected: { kind: 'close', code: INVALID_UTF8_CLOSE } };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { expected: { kind: 'error', codes: new Set(['INVALID_MESSAGE']) } };
  }
  return expectReply(value, model, target.rules);
}

interface JsonMessage {
  readonly type?: unknown;
  readonly [key: string]: unknown;
}

/** Whether the synchronous replies of a case are the ones `e` describes. */
function matches(e: Expectation, replies: readonly JsonMessage[]): boolean {
  switch (e.kind) {
    case 'error': {
      if (replies.length !== 1) return false;
      const r = replies[0] as JsonMessage;
      if (r.type !== 'error' || !e.codes.has(r['code'] as string)) return false;
      return Object.entries(e.about ?? {}).every(([k, v]) => r[k] === v);
    }
    case 'pong':
      return replies.length === 1 && replies[0]?.type === 'pong';
    case 'subscribed':
      return replies.length === 1 && sameJson(replies[0], e.message);
    case 'alerts':
      return replies.length === 2 && sameJson(replies[0], e.message) && replies[1]?.type === 'alerts';
    case 'close':
      return false;
    default:
      return replies.length === 0;
  }
}

function sameJson(a: unknown, b: Record<string, unknown>): boolean {
  if (typeof a !== 'object' || a === null) return false;
  const x = a as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(b)]);
  for (const k of keys) if (x[k] !== b[k]) return false;
  return true;
}

function describeExpectation(e: Expectation): string {
  switch (e.kind) {
    case 'error':
      return `error ${[...e.codes].join(' or ')}${e.about ? ' ' + JSON.stringify(e.about) : ''}`;
    case 'close':
      return `close ${e.code}`;
    case 'subscribed':
    case 'alerts':
      return JSON.stringify(e.message);
    case 'initial':
      return `no reply now, then an initial of ${e.key} (≤ ${e.initialBars} bars)`;
    default:
      return e.kind === 'pong' ? 'pong' : 'no reply';
  }
}

/** The case in flight on a lane. */
interface InFlight {
  readonly caseNo: number;
  readonly alternatives: Alternatives;
  readonly pongsNeeded: number;
  readonly replies: JsonMessage[];
  /** Rooms whose `initial` arrived before the closing pong (the history read can beat the ping). */
  readonly initialsSeen: Set<string>;
  done: () => void;
}

/** One client connection sending cases one after the other. */
class Lane {
  private ws!: WebSocket;
  private model = new ConnectionModel();
  private pongs = 0;
  private inFlight: InFlight | undefined;
  /** Candle rooms subscribed whose `initial` has not arrived yet; value: most bars asked for. */
  private readonly awaitingInitial = new Map<string, number>();
  private readonly recent: string[] = [];
  private closed: Promise<number> = Promise.resolve(1000);
  reconnects = 0;

  constructor(
    private readonly target: FuzzTarget,
    private readonly report: (f: Finding) => void,
    private readonly outcomes: Record<string, number>,
  ) {}

  async connect(): Promise<void> {
    this.ws = new WebSocket(this.target.gateway.url);
    this.model = new ConnectionModel();
    this.pongs = 0;
    this.awaitingInitial.clear();
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    this.closed = new Promise((resolve) => this.ws.once('close', (code: number) => resolve(code)));
    await once(this.ws, 'open');
  }

  /** The last frames sent on this connection, newest last. */
  recentFrames(): string[] {
    return [...this.recent];
  }

  private finding(caseNo: number, problem: string): void {
    this.report({ caseNo, problem, frames: [...this.recent] });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const caseNo = this.inFlight?.caseNo ?? -1;
    if (isBinary) return this.finding(caseNo, 'the gateway sent a binary frame');
    let m: JsonMessage;
    try {
      m = JSON.parse(data.toString('utf8')) as JsonMessage;
    } catch {
      return this.finding(
        caseNo,
        `the gateway sent a frame that is not JSON: ${data.toString('utf8').slice(0, 200)}`,
      );
    }
    const problem = serverMessageProblem(m, this.target.rules);
    if (problem)
      this.finding(caseNo, `invalid server message (${problem}): ${JSON.stringify(m).slice(0, 300)}`);
    const flight = this.inFlight;
    switch (m.type) {
      case 'pong':
        this.pongs++;
        if (!flight) return this.finding(caseNo, 'a pong nobody asked for');
        if (this.pongs < flight.pongsNeeded) flight.replies.push(m);
        else this.finish(flight);
        return;
      case 'error':
      case 'subscribed':
      case 'alerts':
        if (!flight) return this.finding(caseNo, `${String(m.type)} outside any case`);
        flight.replies.push(m);
        return;
      case 'initial':
      case 'update':
      case 'revision': {
        const key = `candles:${String(m['symbol'])}:${String(m['interval'])}`;
        const asked = flight?.alternatives;
        const inFlightKey = (e: Expectation | undefined): boolean =>
          (e?.kind === 'initial' || e?.kind === 'unsubscribe') && e.key === key;
        if (
          !this.model.subscriptions.has(key) &&
          !inFlightKey(asked?.expected) &&
          !inFlightKey(asked?.alsoAccepted)
        ) {
          return this.finding(
            caseNo,
            `${String(m.type)} of ${key}, which this connection is not subscribed to`,
          );
        }
        if (m.type === 'initial') {
          const bars = (m['bars'] as unknown[]).length;
          const most = Math.max(this.awaitingInitial.get(key) ?? 0, requestedBars(asked, key));
          if (bars > most)
            this.finding(caseNo, `initial of ${key} with ${bars} bars, more than the ${most} asked for`);
          this.awaitingInitial.delete(key);
          flight?.initialsSeen.add(key);
        }
        return;
      }
      default:
        return;
    }
  }

  /** Judges the case in flight once its closing pong arrived, and applies it to the model. */
  private finish(flight: InFlight): void {
    this.inFlight = undefined;
    const { expected, alsoAccepted } = flight.alternatives;
    let accepted: Expectation | undefined;
    if (matches(expected, flight.replies)) accepted = expected;
    else if (alsoAccepted && matches(alsoAccepted, flight.replies)) accepted = alsoAccepted;
    if (!accepted) {
      const want =
        describeExpectation(expected) + (alsoAccepted ? ` (or ${describeExpectation(alsoAccepted)})` : '');
      const got = flight.replies.map((r) => JSON.stringify(r).slice(0, 200)).join(', ') || 'no reply';
      this.finding(flight.caseNo, `expected ${want}; got ${got}`);
    } else {
      applyExpectation(accepted, this.model);
      if (accepted.kind === 'initial' && !flight.initialsSeen.has(accepted.key)) {
        this.awaitingInitial.set(
          accepted.key,
          Math.max(this.awaitingInitial.get(accepted.key) ?? 0, accepted.initialBars),
        );
      } else if (accepted.kind === 'unsubscribe') this.awaitingInitial.delete(accepted.key);
    }
    flight.done();
  }

  /** Sends one frame and waits for its judgement (or the documented close, after which it reconnects). */
  async run(caseNo: number, frame: FuzzFrame): Promise<void> {
    this.recent.push(`#${caseNo} ${describeFrame(frame)}`);
    if (this.recent.length > 4) this.recent.shift();
    const alternatives = expectFrame(frame, this.model, this.target);
    const kind = alternatives.expected.kind;
    this.outcomes[kind] = (this.outcomes[kind] ?? 0) + 1;
    if (alternatives.expected.kind === 'close') {
      const want = alternatives.expected.code;
      this.send(frame);
      const code = await withTimeout(this.closed, ANSWER_TIMEOUT_MS);
      if (code !== want)
        this.finding(
          caseNo,
          `expected close ${want}; got ${code === undefined ? 'no close' : `close ${code}`}`,
        );
      // The model's close must also be one docs/ERRORS.md lists: the oracle never accepts a code on its own word.
      else if (!CLOSE_CODES.has(code)) this.finding(caseNo, `close ${code} is not in docs/ERRORS.md`);
      await this.reconnect();
      return;
    }
    const answered = new Promise<void>((resolve) => {
      this.inFlight = {
        caseNo,
        alternatives,
        pongsNeeded: this.pongs + (kind === 'pong' ? 2 : 1),
        replies: [],
        initialsSeen: new Set(),
        done: resolve,
      };
    });
    this.send(frame);
    this.ws.send('{"type":"ping"}');
    const result = await Promise.race([
      answered.then(() => 'ok' as const),
      this.closed.then((code) => code),
      delay(ANSWER_TIMEOUT_MS),
    ]);
    if (result !== 'ok') {
      this.inFlight = undefined;
      this.finding(
        caseNo,
        typeof result === 'number' ? `the gateway closed the connection with ${result}` : 'no answer',
      );
      await this.reconnect();
    }
  }

  private send(frame: FuzzFrame): void {
    const parts = splitInto(frame.data, frame.fragments);
    parts.forEach((part, i) => this.ws.send(part, { binary: frame.binary, fin: i === parts.length - 1 }));
  }

  private async reconnect(): Promise<void> {
    this.ws.terminate();
    this.reconnects++;
    await this.connect();
  }

  /** Waits (bounded) for every `initial` still owed, then closes. */
  async finishLane(): Promise<void> {
    const until = Date.now() + ANSWER_TIMEOUT_MS;
    while (this.awaitingInitial.size > 0 && Date.now() < until) await delay(10);
    for (const key of this.awaitingInitial.keys()) this.finding(-1, `no initial for the subscribe of ${key}`);
    this.ws.close();
    await withTimeout(this.closed, ANSWER_TIMEOUT_MS);
  }
}

function requestedBars(asked: Alternatives | undefined, key: string): number {
  let most = 0;
  for (const e of [asked?.expected, asked?.alsoAccepted])
    if (e?.kind === 'initial' && e.key === key) most = Math.max(most, e.initialBars);
  return most;
}

function splitInto(data: Buffer, parts: number): Buffer[] {
  if (parts <= 1 || data.length < 2) return [data];
  const size = Math.ceil(data.length / parts);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, delay(ms)]);
}

/** A client that knows nothing of the fuzzing: subscribe, get `initial` with the bars asked for, ping. */
export async function checkNormalClient(target: FuzzTarget): Promise<string | null> {
  const ws = new WebSocket(target.gateway.url);
  ws.on('error', () => {});
  const messages: JsonMessage[] = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as JsonMessage));
  try {
    const opened = await withTimeout(once(ws, 'open'), ANSWER_TIMEOUT_MS);
    if (!opened) return 'a normal client could not connect';
    ws.send(JSON.stringify({ type: 'subscribe', symbol: FUZZ_SYMBOLS[0], interval: '1m', initialBars: 5 }));
    ws.send(JSON.stringify({ type: 'ping' }));
    const until = Date.now() + ANSWER_TIMEOUT_MS;
    while (
      Date.now() < until &&
      !(messages.some((m) => m.type === 'initial') && messages.some((m) => m.type === 'pong'))
    ) {
      await delay(5);
    }
    const initial = messages.find((m) => m.type === 'initial');
    if (!initial || !messages.some((m) => m.type === 'pong'))
      return 'a normal client got no initial or no pong';
    const problem = serverMessageProblem(initial, target.rules);
    if (problem) return `a normal client got a bad initial: ${problem}`;
    if ((initial['bars'] as unknown[]).length !== 5)
      return `a normal client asked for 5 bars and got ${(initial['bars'] as unknown[]).length}`;
    const health = await fetch(target.gateway.url.replace('ws://', 'http://') + '/health');
    await health.json();
    if (health.status !== 200 && health.status !== 503) return `/health answered ${health.status}`;
    return null;
  } finally {
    ws.terminate();
  }
}

/** A candle update of a random room on the bus, as the ingest side would publish one. */
function publishRandomUpdate(target: FuzzTarget, r: Random): void {
  const symbol = r.pick(target.config.symbols);
  const interval = r.pick(INTERVALS) as Interval;
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const bar = makeBar(minute, (100 + r.int(0, 500) / 100).toFixed(2), r.int(1, 50));
  const update = makeUpdate(bar, r.chance(0.8) ? 'live' : 'closed', symbol, interval);
  target.store.put(symbol, interval, bar, update.sources);
  target.bus.publish(CANDLE_CHANNEL, encodeCandleUpdate(update));
}

export interface GatewayFuzzOptions {
  readonly cases: number;
  readonly seed: number;
  /** Connections sending cases at the same time (default 4). */
  readonly lanes?: number;
  /** Every how many cases a normal client checks the gateway still serves (default: only at the end). */
  readonly normalClientEvery?: number;
  readonly progress?: (done: number) => void;
}

/** Runs `cases` fuzz cases against `target`. Case i of lane l is generated from the seed alone (replayable). */
export async function runGatewayFuzz(target: FuzzTarget, options: GatewayFuzzOptions): Promise<FuzzRun> {
  const started = performance.now();
  const findings: Finding[] = [];
  const outcomes: Record<string, number> = {};
  const laneCount = options.lanes ?? 4;
  const root = new Random(options.seed);
  const lanes = Array.from({ length: laneCount }, () => ({
    lane: new Lane(target, (f) => findings.push(f), outcomes),
    r: root.fork(),
  }));
  const publisher = root.fork();
  const frameRules = {
    symbols: target.config.symbols,
    maxPayloadBytes: target.config.gateway.maxPayloadBytes,
  };
  await Promise.all(lanes.map(({ lane }) => lane.connect()));
  let done = 0;
  await Promise.all(
    lanes.map(async ({ lane, r }, l) => {
      for (let i = l; i < options.cases; i += laneCount) {
        await lane.run(i, nextFrame(r, frameRules));
        done++;
        // An error the gateway logged or a process-level failure: blamed on the frames just sent.
        for (const failure of target.failures.splice(0))
          findings.push({ caseNo: i, problem: failure, frames: lane.recentFrames() });
        if (l === 0 && i % PUBLISH_EVERY === 0) publishRandomUpdate(target, publisher);
        if (l === 0 && options.normalClientEvery && i > 0 && i % options.normalClientEvery < laneCount) {
          const problem = await checkNormalClient(target);
          if (problem) findings.push({ caseNo: i, problem, frames: [] });
        }
        if (done % 5000 === 0) options.progress?.(done);
      }
      await lane.finishLane();
    }),
  );
  const problem = await checkNormalClient(target);
  if (problem) findings.push({ caseNo: -1, problem: `after the run: ${problem}`, frames: [] });
  for (const failure of target.failures.splice(0))
    findings.push({ caseNo: -1, problem: failure, frames: [] });
  return {
    cases: options.cases,
    seconds: (performance.now() - started) / 1000,
    findings,
    outcomes,
    reconnects: lanes.reduce((n, { lane }) => n + lane.reconnects, 0),
  };
}
