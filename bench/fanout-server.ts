/**
 * A baseline server of the fan-out benchmark, run as a child process so that its CPU and memory are its own.
 * argv[2] chooses it:
 * - `naive`: the seed document's style: a plain `ws` server that calls JSON.stringify for every client;
 * - `socketio`: Socket.IO 4 rooms (`io.to(room).emit`, the WebSocket transport);
 * - `ws-once`: a plain `ws` server that serializes each room update once and sends the same string to every member.
 * Fed over Redis (argv[3] = Redis URL, argv[4] = channel prefix): each turns every `{symbol, bar}` that
 * fanout-publisher.ts (`plain`) publishes on `<prefix>bench` into its seven room messages, as the gateway receives
 * the same load over Redis from the same publisher: every server's latency includes the same two hops. Without
 * them (`BENCH_FEED=inprocess`), it publishes the load itself (fanout-load.ts), from the moment it starts, whether
 * or not anyone listens. Clients subscribe with Tickwire's messages (`{"type":"subscribe","symbol","interval"}`,
 * answered with an `initial` of no bars; Socket.IO: the event `subscribe`, answered by its acknowledgement) and
 * receive updates in Tickwire's shape.
 *
 * IPC: → {ready, port}; {cmd:'now'} → {now: {t0, n}} (in-process feed only); {cmd:'stop'} exits.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { Server as SocketIoServer } from 'socket.io';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  BENCH_INTERVALS,
  benchBar,
  benchSymbols,
  nowMs,
  PLAIN_CHANNEL,
  startSchedule,
  type BenchBar,
  type PublishSchedule,
} from './fanout-load.ts';

type Kind = 'naive' | 'socketio' | 'ws-once';

const kind = process.argv[2] as Kind;
const [redisUrl, prefix] = process.argv.slice(3);
if (!['naive', 'socketio', 'ws-once'].includes(kind)) {
  console.error(`fanout-server: unknown kind ${String(kind)}`);
  process.exit(2);
}

interface UpdateMessage {
  readonly type: 'update';
  readonly symbol: string;
  readonly interval: string;
  readonly bar: Record<string, unknown>;
}

/** The update in Tickwire's client shape: ISO time, numbers. */
function updateMessage(symbol: string, interval: string, bar: BenchBar): UpdateMessage {
  return {
    type: 'update',
    symbol,
    interval,
    bar: {
      time: new Date(bar.time).toISOString(),
      open: Number(bar.open),
      high: Number(bar.high),
      low: Number(bar.low),
      close: Number(bar.close),
      volume: Number(bar.volume),
      quoteVolume: Number(bar.quoteVolume),
      trades: bar.trades,
      closed: false,
    },
  };
}

interface SubscribeMessage {
  readonly type?: unknown;
  readonly symbol?: unknown;
  readonly interval?: unknown;
}

const http = createServer();
const symbols = benchSymbols();
/** Members of each `${symbol}:${interval}` room (the `ws` servers). */
const rooms = new Map<string, Set<WebSocket>>();
let publishRoom: (symbol: string, interval: string, bar: BenchBar) => void;

if (kind === 'socketio') {
  const io = new SocketIoServer(http, { transports: ['websocket'], serveClient: false });
  io.on('connection', (socket) => {
    socket.on('subscribe', (msg: SubscribeMessage, ack?: (answer: unknown) => void) => {
      const key = `${String(msg.symbol)}:${String(msg.interval)}`;
      void socket.join(key);
      ack?.({ type: 'initial', symbol: msg.symbol, interval: msg.interval, bars: [] });
    });
  });
  publishRoom = (symbol, interval, bar) => {
    io.to(`${symbol}:${interval}`).emit('update', updateMessage(symbol, interval, bar));
  };
} else {
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const joined: Set<WebSocket>[] = [];
    ws.on('message', (data) => {
      let msg: SubscribeMessage;
      try {
        msg = JSON.parse(String(data)) as SubscribeMessage;
      } catch {
        return;
      }
      if (msg.type !== 'subscribe') return;
      const key = `${String(msg.symbol)}:${String(msg.interval)}`;
      let set = rooms.get(key);
      if (!set) rooms.set(key, (set = new Set()));
      set.add(ws);
      joined.push(set);
      ws.send(JSON.stringify({ type: 'initial', symbol: msg.symbol, interval: msg.interval, bars: [] }));
    });
    ws.on('close', () => {
      for (const set of joined) set.delete(ws);
    });
  });
  publishRoom =
    kind === 'naive'
      ? (symbol, interval, bar) => {
          const members = rooms.get(`${symbol}:${interval}`);
          if (!members) return;
          for (const ws of members) ws.send(JSON.stringify(updateMessage(symbol, interval, bar)));
        }
      : (symbol, interval, bar) => {
          const members = rooms.get(`${symbol}:${interval}`);
          if (!members) return;
          const text = JSON.stringify(updateMessage(symbol, interval, bar));
          for (const ws of members) ws.send(text);
        };
}

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
let schedule: PublishSchedule | undefined;
if (redisUrl !== undefined && prefix !== undefined) {
  const sub = new Redis(redisUrl, { lazyConnect: true });
  sub.on('message', (_channel: string, message: string) => {
    const { symbol, bar } = JSON.parse(message) as { symbol: string; bar: BenchBar };
    for (const interval of BENCH_INTERVALS) publishRoom(symbol, interval, bar);
  });
  await sub.connect();
  await sub.subscribe(prefix + PLAIN_CHANNEL);
} else {
  schedule = startSchedule(symbols.length, (n, k) => {
    const symbol = symbols[k] as string;
    const bar = benchBar(n, nowMs());
    for (const interval of BENCH_INTERVALS) publishRoom(symbol, interval, bar);
  });
}
process.send?.({ ready: true, port: (http.address() as { port: number }).port });

process.on('message', (msg: { cmd?: string }) => {
  if (msg.cmd === 'now' && schedule) process.send?.({ now: { t0: schedule.t0, n: schedule.current() } });
  else if (msg.cmd === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
