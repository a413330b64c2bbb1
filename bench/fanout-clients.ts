/**
 * Clients of the fan-out benchmark, run in a child process of their own (the parent only measures). Client i
 * subscribes to the seven interval rooms of symbol i mod symbols, or to nothing (idle connections).
 *
 * argv[2] = JSON {url, kind: 'ws' | 'socketio', deflate}. `deflate`: the clients offer permessage-deflate
 * (otherwise they do not).
 *
 * IPC (each command answered once):
 * - {cmd:'connect', first, count, subscribe, batch, timeoutMs, log?} → {connected: {connectMs[], failed, error?,
 *   log?}}: clients `first`..`first+count-1`, `batch` at a time; connectMs from the start of the connection to the
 *   `initial` (Socket.IO: the acknowledgement) of its last subscription, or to the open when not subscribing.
 *   With `log` (BENCH_CONNECT_LOG), `log` holds each successful connect's [start (epoch ms), open, done] (ms
 *   after its start: the handshake's end, the last `initial`), to see when the slow ones happen.
 * - {cmd:'window', mode:'seq', nStart, nEnd} or {cmd:'window', mode:'state', tStart, tEnd} → {window: true}:
 *   what the report counts. `seq`: updates whose sequence (bar.trades) is in [nStart, nEnd), with latency from
 *   the publish time in bar.volume. `state` (a server fed by real data, no sequence): updates received between
 *   the two wall-clock times; a repeat is the same bar state twice in a row in one room.
 * - {cmd:'bytes'} → {bytes}: bytes read from every client's TCP socket so far (NaN where not available).
 * - {cmd:'report'} → {report}; {cmd:'close'} → {closed: true}.
 */
import { io as socketIo, type Socket as SocketIoSocket } from 'socket.io-client';
import WebSocket from 'ws';
import { BENCH_INTERVALS, benchSymbols, nowMs } from './fanout-load.ts';

interface Options {
  readonly url: string;
  readonly kind: 'ws' | 'socketio';
  readonly deflate: boolean;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const symbols = benchSymbols();

/** Latency histogram: bucket b holds values in [1.01^b − 1, 1.01^(b+1) − 1) ms (1% resolution). */
const LOG_STEP = Math.log(1.01);
const histogram = new Map<number, number>();
let latencyMax = 0;

type Window =
  | { readonly mode: 'seq'; readonly nStart: number; readonly nEnd: number }
  | { readonly mode: 'state'; readonly tStart: number; readonly tEnd: number };
let window: Window | undefined;

const totals = { received: 0, duplicates: 0, subscriptions: 0, closedEarly: 0, errors: 0 };
let closeReason: string | undefined;
let errorText: string | undefined;
/** Per update (room and sequence or state): first and last receive time over this process's clients. */
const spread = new Map<string, [number, number]>();

interface Client {
  /** Last sequence (seq mode) or bar state (state mode) seen per interval room. */
  readonly last: (number | string | undefined)[];
  bytes(): number;
  close(): void;
}
const clients: Client[] = [];
let closing = false;
/** Each connect's [start, open, done] while a `connect` command asked for them (BENCH_CONNECT_LOG). */
let connectLog: [number, number, number][] | undefined;

interface BarLike {
  readonly time?: unknown;
  readonly trades?: unknown;
  readonly volume?: unknown;
  readonly close?: unknown;
  readonly high?: unknown;
  readonly low?: unknown;
  readonly closed?: unknown;
}

function onUpdate(client: Client, symbol: string, interval: string, bar: BarLike, at: number): void {
  const w = window;
  if (w === undefined) return;
  const room = BENCH_INTERVALS.indexOf(interval as (typeof BENCH_INTERVALS)[number]);
  if (room < 0) return;
  let key: string;
  if (w.mode === 'seq') {
    const seq = Number(bar.trades);
    if (!(seq >= w.nStart && seq < w.nEnd)) return;
    totals.received++;
    const last = client.last[room] as number | undefined;
    if (last !== undefined && seq <= last) totals.duplicates++;
    else client.last[room] = seq;
    const latency = Math.max(0, at - Number(bar.volume));
    if (latency > latencyMax) latencyMax = latency;
    const b = Math.floor(Math.log1p(latency) / LOG_STEP);
    histogram.set(b, (histogram.get(b) ?? 0) + 1);
    key = `${symbol}:${interval}|${seq}`;
  } else {
    if (at < w.tStart || at >= w.tEnd) return;
    totals.received++;
    // `closed` belongs to the state: a bar's final state (closed: true) after a live one with the same figures
    // is the close the protocol promises, not a duplicate.
    const state = `${String(bar.time)}|${String(bar.trades)}|${String(bar.volume)}|${String(bar.close)}|${String(bar.high)}|${String(bar.low)}|${String(bar.closed)}`;
    if (client.last[room] === state) totals.duplicates++;
    client.last[room] = state;
    key = `${symbol}:${interval}|${state}`;
  }
  const s = spread.get(key);
  if (s === undefined) spread.set(key, [at, at]);
  else if (at > s[1]) s[1] = at;
}

function onError(text: string): void {
  totals.errors++;
  errorText ??= text;
}

interface ServerMessage {
  readonly type?: string;
  readonly symbol?: string;
  readonly interval?: string;
  readonly bar?: BarLike;
  readonly message?: string;
  readonly code?: string;
}

/**
 * A client's connect attempt settles once: `done` records the client and resolves with the connect time, `fail`
 * closes it and rejects; either stops the timeout. `settled` tells the close handlers whether it is over.
 */
function connectAttempt(
  client: Client,
  timeoutMs: number,
  resolve: (ms: number) => void,
  reject: (err: Error) => void,
): { done(): void; fail(err: Error): void; opened(): void; readonly settled: boolean } {
  const started = nowMs();
  let openMs = NaN;
  let settled = false;
  const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const finish = (): boolean => {
    if (settled) return false;
    settled = true;
    clearTimeout(timer);
    return true;
  };
  const fail = (err: Error): void => {
    if (!finish()) return;
    client.close();
    reject(err);
  };
  return {
    done: () => {
      if (!finish()) return;
      clients.push(client);
      const ms = nowMs() - started;
      connectLog?.push([started, openMs, ms]);
      resolve(ms);
    },
    fail,
    opened: () => {
      openMs = nowMs() - started;
    },
    get settled() {
      return settled;
    },
  };
}

/** One plain WebSocket client speaking Tickwire's protocol; resolves with its connect time. */
function connectWs(index: number, subscribe: boolean, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const symbol = symbols[index % symbols.length] as string;
    const ws = new WebSocket(options.url, { perMessageDeflate: options.deflate ? {} : false });
    const client: Client = {
      last: [],
      bytes: () => (ws as unknown as { _socket?: { bytesRead: number } })._socket?.bytesRead ?? NaN,
      close: () => ws.terminate(),
    };
    let pending = subscribe ? BENCH_INTERVALS.length : 0;
    const attempt = connectAttempt(client, timeoutMs, resolve, reject);
    const { done, fail } = attempt;
    ws.on('error', (err) => fail(err));
    ws.on('close', (code, reason) => {
      if (!attempt.settled) return fail(new Error(`closed ${code} ${String(reason)} while connecting`));
      if (!closing) {
        totals.closedEarly++;
        closeReason ??= `${code} ${String(reason)}`;
      }
    });
    ws.on('open', () => {
      attempt.opened();
      if (!subscribe) return done();
      for (const interval of BENCH_INTERVALS)
        ws.send(JSON.stringify({ type: 'subscribe', symbol, interval, initialBars: 0 }));
    });
    ws.on('message', (data) => {
      const at = nowMs();
      const msg = JSON.parse(String(data)) as ServerMessage;
      if (msg.type === 'update' && msg.bar) onUpdate(client, symbol, msg.interval ?? '', msg.bar, at);
      else if (msg.type === 'initial') {
        if (--pending === 0) done();
      } else if (msg.type === 'error') onError(`${msg.code ?? ''} ${msg.message ?? ''}`);
    });
  });
}

/** One Socket.IO client: the event `subscribe` per room, acknowledged; updates as the event `update`. */
function connectSocketIo(index: number, subscribe: boolean, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const symbol = symbols[index % symbols.length] as string;
    const socket: SocketIoSocket = socketIo(options.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    const client: Client = {
      last: [],
      bytes: () => {
        const transport = socket.io.engine?.transport as unknown as
          { ws?: { _socket?: { bytesRead: number } } } | undefined;
        return transport?.ws?._socket?.bytesRead ?? NaN;
      },
      close: () => socket.disconnect(),
    };
    const attempt = connectAttempt(client, timeoutMs, resolve, reject);
    const { done, fail } = attempt;
    socket.on('connect_error', (err) => fail(err));
    socket.on('disconnect', (reason) => {
      if (!attempt.settled) return fail(new Error(`disconnected (${reason}) while connecting`));
      if (!closing) {
        totals.closedEarly++;
        closeReason ??= reason;
      }
    });
    socket.on('update', (msg: ServerMessage) => {
      if (msg.bar) onUpdate(client, symbol, msg.interval ?? '', msg.bar, nowMs());
    });
    socket.on('connect', () => {
      attempt.opened();
      if (!subscribe) return done();
      let pending = BENCH_INTERVALS.length;
      for (const interval of BENCH_INTERVALS)
        socket.emit('subscribe', { type: 'subscribe', symbol, interval }, () => {
          if (--pending === 0) done();
        });
    });
  });
}

async function connect(
  first: number,
  count: number,
  subscribe: boolean,
  batch: number,
  timeoutMs: number,
  log: boolean,
): Promise<{ connectMs: number[]; failed: number; error?: string; log?: [number, number, number][] }> {
  const connectMs: number[] = [];
  connectLog = log ? [] : undefined;
  let failed = 0;
  let error: string | undefined;
  const one = options.kind === 'socketio' ? connectSocketIo : connectWs;
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, j) => one(first + i + j, subscribe, timeoutMs)),
    );
    for (const r of results) {
      if (r.status === 'fulfilled') connectMs.push(r.value);
      else {
        failed++;
        error ??= (r.reason as Error).message;
      }
    }
  }
  if (subscribe) totals.subscriptions += connectMs.length * BENCH_INTERVALS.length;
  const logged = connectLog;
  connectLog = undefined;
  return {
    connectMs,
    failed,
    ...(error !== undefined ? { error } : {}),
    ...(logged !== undefined ? { log: logged } : {}),
  };
}

process.on('message', (msg: Record<string, unknown>) => {
  const reply = (m: object): void => void process.send?.(m);
  switch (msg['cmd']) {
    case 'connect':
      void connect(
        msg['first'] as number,
        msg['count'] as number,
        msg['subscribe'] as boolean,
        msg['batch'] as number,
        msg['timeoutMs'] as number,
        msg['log'] === true,
      ).then((connected) => reply({ connected }));
      break;
    case 'window':
      window = msg as unknown as Window;
      reply({ window: true });
      break;
    case 'bytes':
      reply({ bytes: clients.reduce((sum, c) => sum + c.bytes(), 0) });
      break;
    case 'report':
      reply({
        report: {
          ...totals,
          closeReason,
          errorText,
          latencyMax,
          histogram: [...histogram.entries()],
          spread: [...spread.entries()],
        },
      });
      break;
    case 'close':
      closing = true;
      for (const c of clients) c.close();
      clients.length = 0;
      reply({ closed: true });
      break;
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
