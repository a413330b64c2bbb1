import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { ClientSink } from './channel.ts';
import { RateLimiter } from './rate-limiter.ts';

const TEXT_FRAME = { binary: false } as const;

/**
 * One client's connection: its heartbeat flag, rate limiter and send path (its subscriptions are kept by the
 * channels). Sends the same Buffer it is given (no copy, no re-encoding) as a text frame, and reports itself as
 * slow once its buffered bytes pass the limit.
 */
export class ClientConnection implements ClientSink {
  readonly limiter: RateLimiter;
  /** Cleared at each heartbeat ping, set by the pong. */
  alive = true;
  /** Set once the gateway decided to close it; nothing more is sent or read. */
  closing = false;
  private corked = false;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    maxMessagesPerSecond: number,
    private readonly maxBufferedBytes: number,
    private readonly onSlow: (client: ClientConnection) => void,
    /** Where messages and bytes handed to the socket are counted (the gateway's totals). */
    private readonly sent: { messagesSent: number; bytesSent: number } = { messagesSent: 0, bytesSent: 0 },
  ) {
    this.limiter = new RateLimiter(maxMessagesPerSecond);
  }

  send(payload: Buffer | string): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(payload, TEXT_FRAME);
    this.sent.messagesSent++;
    this.sent.bytesSent += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (!this.corked) this.checkBuffer();
  }

  /**
   * Holds writes until `uncork`, so that a tick's messages from several rooms leave in one socket write.
   * Returns false when already corked.
   */
  cork(): boolean {
    if (this.corked) return false;
    this.corked = true;
    this.socket.cork();
    return true;
  }

  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
    this.checkBuffer();
  }

  private checkBuffer(): void {
    if (!this.closing && this.ws.bufferedAmount > this.maxBufferedBytes) this.onSlow(this);
  }
}
