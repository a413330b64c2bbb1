/**
 * The socket bookkeeping every simulated venue's stream server repeats: a no-server WebSocketServer, the set of
 * live connections, the push timers and the listeners to detach on close. Protocol handling stays in the venue.
 */
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

export interface SimSocketHubOptions {
  /** Largest client frame accepted; larger ones close the socket. */
  readonly maxPayloadBytes: number;
  /** Whether `ws` answers pings itself; a venue that simulates its own pong handling turns this off. */
  readonly autoPong?: boolean;
}

export class SimSocketHub<C extends { readonly socket: WebSocket }> {
  readonly wss: WebSocketServer;
  /** Connections accepted and not yet closed; the venue adds and deletes them. */
  readonly connections = new Set<C>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly detach: (() => void)[] = [];

  constructor(options: SimSocketHubOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      clientTracking: false,
      ...(options.autoPong === undefined ? {} : { autoPong: options.autoPong }),
    });
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
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
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
