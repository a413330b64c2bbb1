/**
 * The socket bookkeeping every simulated venue's stream server repeats: a no-server WebSocketServer, the set of
 * live connections, the push timers and the listeners to detach on close, and the venue's link latency fault.
 * Protocol handling stays in the venue.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { VenueFaultState } from './faults.ts';

export interface SimSocketHubOptions {
  /** Largest client frame accepted; larger ones close the socket. */
  readonly maxPayloadBytes: number;
  /** Whether `ws` answers pings itself; a venue that simulates its own pong handling turns this off. */
  readonly autoPong?: boolean;
  /** The venue's faults; the hub honours the link latency on every socket it accepts. */
  readonly faults: VenueFaultState;
}

export class SimSocketHub<C extends { readonly socket: WebSocket }> {
  readonly wss: WebSocketServer;
  /** Connections accepted and not yet closed; the venue adds and deletes them. */
  readonly connections = new Set<C>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly detach: (() => void)[] = [];
  private readonly faults: VenueFaultState;
  /** The links of accepted sockets until they close, to release what they hold back when the latency ends. */
  private readonly links = new Set<SlowLink>();

  constructor(options: SimSocketHubOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      clientTracking: false,
      ...(options.autoPong === undefined ? {} : { autoPong: options.autoPong }),
    });
    this.faults = options.faults;
    this.onClose(
      options.faults.onLinkLatency((ms) => {
        if (ms === 0) for (const link of this.links) link.release();
      }),
    );
  }

  /**
   * Completes a WebSocket upgrade and hands the socket to `accept`. Everything written to the connection from
   * here on, the handshake answer included, passes through the venue's link latency.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, accept: (ws: WebSocket) => void): void {
    const link = new SlowLink(socket, () => this.faults.linkLatencyMs);
    this.links.add(link);
    socket.once('close', () => {
      link.discard();
      this.links.delete(link);
    });
    this.wss.handleUpgrade(req, socket, head, accept);
  }

  /** Runs `task` every `ms` until close. */
  every(ms: number, task: () => void): void {
    this.timers.push(setInterval(task, ms));
  }

  /** Calls `off` once on close (market and fault subscriptions). */
  onClose(off: () => void): void {
    this.detach.push(off);
  }

  /** Terminates every connection; returns how many there were. */
  dropConnections(): number {
    const count = this.connections.size;
    for (const conn of [...this.connections]) conn.socket.terminate();
    return count;
  }

  /** Stops the timers, detaches the listeners, terminates the connections and closes the server. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    for (const off of this.detach) off();
    this.detach.length = 0;
    this.dropConnections();
    for (const link of this.links) link.discard();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/**
 * Holds back what is written to one connection by the current latency, in write order. It sits under `ws`, which
 * writes every frame through the socket's `write` (data, its own pongs and close replies alike) and ends it with
 * `end`, so each frame is delayed whole and none overtakes another, with no venue code involved. A destroyed
 * socket drops what is held back, as a cut link would.
 */
class SlowLink {
  private readonly held: { readonly due: number; readonly deliver: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private corked = false;

  constructor(
    private readonly socket: Duplex,
    private readonly latencyMs: () => number,
  ) {
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    const end = socket.end.bind(socket) as (...args: unknown[]) => Duplex;
    socket.write = ((...args: unknown[]) => {
      // A held-back write reports success: the bytes are in flight on the slow link, not refused.
      return this.defer(() => write(...args)) ?? true;
    }) as Duplex['write'];
    socket.end = ((...args: unknown[]) => {
      this.defer(() => end(...args));
      return socket;
    }) as Duplex['end'];
  }

  /** Sends everything held back now, in order (the latency ended). */
  release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.deliver(Number.POSITIVE_INFINITY);
  }

  /** Forgets everything held back (the connection is gone). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held.length = 0;
  }

  /**
   * Corks the socket until the end of this turn of the event loop: a driver tick sends many frames to one
   * connection (every book, ticker and trade of its symbols), and `ws` writes each one on its own, one system call
   * a frame for the simulator and one read for the client; corked, they leave in one write. The frames and their
   * order are unchanged; they leave at the end of the turn instead of at once.
   */
  private corkForThisTurn(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  /** Runs `deliver` now when the link is fast and nothing is held back (returning its result), else holds it. */
  private defer<T>(deliver: () => T): T | undefined {
    const ms = this.latencyMs();
    if (ms <= 0 && this.held.length === 0) {
      this.corkForThisTurn();
      return deliver();
    }
    const last = this.held[this.held.length - 1];
    // Never before an earlier write, even when the latency was lowered in between.
    const due = Math.max(performance.now() + ms, last?.due ?? 0);
    this.held.push({ due, deliver: () => void deliver() });
    if (this.timer === undefined) this.schedule();
    return undefined;
  }

  private schedule(): void {
    const head = this.held[0];
    if (head === undefined) return;
    // Timers may fire a little early; deliver() checks the due time again and re-arms for the rest.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.deliver(performance.now());
      },
      Math.max(1, Math.ceil(head.due - performance.now())),
    );
  }

  private deliver(until: number): void {
    while (this.held.length > 0 && (this.held[0] as { due: number }).due <= until) {
      if (this.socket.destroyed) {
        this.held.length = 0;
        return;
      }
      (this.held.shift() as { deliver: () => void }).deliver();
    }
    if (this.timer === undefined) this.schedule();
  }
}

/** A client frame as text, whatever buffer shape `ws` delivered it in. */
export function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Refuses an upgrade with a bare HTTP status and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
