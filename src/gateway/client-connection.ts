import type { Duplex } from 'node:stream';
import { type RawData, WebSocket } from 'ws';
import type { ClientSink } from './channel.ts';
import type { BudgetVerdict, ConnectionBudget, HistoryBudget } from './history-budget.ts';
import { RateLimiter, type RateVerdict } from './rate-limiter.ts';
import { COPY_LIMIT, textFrame, textFrameHeader } from './ws-frame.ts';

const TEXT_FRAME = { binary: false } as const;

/** The frames of the last joined write and their join (see joinFrames). */
let lastJoin: { readonly chunks: readonly Buffer[]; readonly joined: Buffer } | undefined;

/**
 * The frames of one write joined into one Buffer. At a tick, every member of a symbol's rooms is sent the same
 * frames in the same order (a frame is built once per message, ws-frame.ts), and so are the clients of a
 * subscribe burst their `initial`s: the next client whose frames are the very same Buffers is written the same
 * join, so a tick copies its frames once, not once per client. Frames and payloads are never changed once
 * handed to a connection, so the same Buffers are the same bytes.
 */
function joinFrames(chunks: readonly Buffer[], bytes: number): Buffer {
  const last = lastJoin;
  if (last !== undefined && sameBuffers(last.chunks, chunks)) return last.joined;
  const joined = Buffer.concat(chunks, bytes);
  lastJoin = { chunks, joined };
  return joined;
}

function sameBuffers(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One message waiting in a client's send queue. */
interface Queued {
  payload: Buffer | string;
  bytes: number;
  readonly key: string | undefined;
}

/** How one connection reports what its send queue did (the gateway's counters). */
export interface SendQueueEvents {
  /** The client fell behind: its queue or its socket buffer passed the limit. */
  readonly onSlow: (client: ClientConnection) => void;
  /** A queued message was replaced by a newer state of the same bar, ticker or book. */
  readonly onConflated: () => void;
}

/**
 * What every connection of a gateway shares: its limits, where it reports and counts. One object for all of
 * them, so that a connection holds one reference, not a copy of each (an idle connection should cost little).
 */
export interface ConnectionSettings {
  readonly maxMessagesPerSecond: number;
  readonly maxBufferedBytes: number;
  readonly maxQueuedBytes: number;
  readonly events: SendQueueEvents;
  /** Where messages and bytes handed to the socket are counted (the gateway's totals). */
  readonly sent: { messagesSent: number; bytesSent: number };
}

/** A client message as read: its frame's data, and the message limit's verdict on it when it was read. */
export interface ReceivedMessage {
  readonly data: RawData;
  readonly isBinary: boolean;
  readonly verdict: Exclude<RateVerdict, 'ignored'>;
}

/**
 * One client's connection: its heartbeat flag, rate limiter, history budget and send path (its subscriptions
 * are kept by the channels). The rate limiter and the history budget are made on first use: most connections
 * send a few messages at most, and an idle one should cost little memory. Sends the same Buffer it is given (no re-encoding) as a text frame.
 *
 * A client without permessage-deflate gets frames the gateway builds itself, once per message for every client
 * (ws-frame.ts), written to the socket directly: while corked (a batch of room ticks), its frames are gathered
 * and leave in one socket write at `uncork`. ws's own sender writes synchronously when no extension is
 * negotiated, so its control frames (ping, close) and these writes keep their order. A client that negotiated
 * permessage-deflate is sent through `ws.send`, which compresses and frames per client.
 *
 * While the socket takes writes, a message goes straight to it. Once the socket is backed up (the client reads
 * slower than we send: Node's writable buffer is past its high-water mark), messages wait in a bounded send queue
 * above it, which the socket's `drain` empties. In the queue a message with a conflation key (the state of one
 * bar, ticker or book) replaces the queued one of the same key in place; trades, alerts, `initial` and replies
 * are never replaced. A client whose queue passes `maxQueuedBytes`, or whose socket buffer passes
 * `maxBufferedBytes`, is slow: `onSlow` closes it (4008). No other client waits for a slow one: a send never
 * blocks, and a backed-up client costs only its own queue.
 */
export class ClientConnection implements ClientSink {
  /** Cleared at each heartbeat ping, set by the pong. */
  alive = true;
  /** Set once the gateway decided to close it; nothing more is sent or read. */
  closing = false;
  /** Messages read and not handled yet: they wait for their turn (src/gateway/client-connections.ts). */
  input: ReceivedMessage[] | undefined = undefined;
  private corked = false;
  /** No extension negotiated: frames go straight to the socket (see above). */
  private readonly direct: boolean;
  /** Frames gathered while corked (direct clients). */
  private gathered: Buffer[] | undefined;
  private gatheredBytes = 0;
  /** Made on first use: most clients never back up, and an idle connection should cost little memory. */
  private queue: Queued[] | undefined;
  /** Index of the queue's oldest entry (entries before it were sent). */
  private head = 0;
  private queuedByKey: Map<string, Queued> | undefined;
  private queuedBytes = 0;
  private waitingForDrain = false;
  private limiter: RateLimiter | undefined;
  /** This connection's history budget, once it asked for history. */
  private historyBudget: ConnectionBudget | undefined;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    /** The client address it is counted under (connections per address, history budget). */
    readonly address: string,
    private readonly settings: ConnectionSettings,
  ) {
    this.direct = ws.extensions === '';
  }

  /** The message limit's verdict on one message read at `now` (src/gateway/rate-limiter.ts). */
  hitRateLimit(now: number, stalledMs: number): RateVerdict {
    this.limiter ??= new RateLimiter(this.settings.maxMessagesPerSecond);
    return this.limiter.hit(now, stalledMs);
  }

  /**
   * Charges `bars` of history to this connection and its address. The connection's bucket is made on the first
   * charge: a bucket starts full, so one made now is the same as one made at connect.
   */
  chargeHistory(budget: HistoryBudget, bars: number): BudgetVerdict {
    this.historyBudget ??= budget.forConnection(this.address);
    return this.historyBudget.charge(bars);
  }

  /** Bytes waiting in the send queue (above the socket). */
  get queued(): number {
    return this.queuedBytes;
  }

  send(payload: Buffer | string, conflateKey?: string): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.queue !== undefined || this.socket.writableNeedDrain) {
      this.enqueue(payload, conflateKey);
      return;
    }
    this.write(payload);
    if (!this.corked) this.checkBuffer();
  }

  /**
   * Holds writes until `uncork`, so that a tick's messages from several rooms leave in one socket write.
   * Returns false when already corked.
   */
  cork(): boolean {
    if (this.corked) return false;
    this.corked = true;
    if (!this.direct) this.socket.cork();
    return true;
  }

  /**
   * Holds writes until the messages of this socket read are handled: the replies to them (a client subscribing
   * to seven rooms sends seven frames together) leave in one socket write, not one each. ws emits the messages
   * of one read in one callback, so the write goes at its end (`process.nextTick`), before the reads of other
   * sockets waiting in the same turn are handled: a burst of connecting clients does not hold back each other's
   * replies until the end of the turn.
   */
  corkForThisRead(): void {
    if (this.cork()) process.nextTick(() => this.uncork());
  }

  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    if (this.direct) this.flushGathered();
    else this.socket.uncork();
    this.checkBuffer();
  }

  /** Hands one message to the socket (or to the frames gathered while corked) and counts it. */
  private write(payload: Buffer | string): void {
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    const sent = this.settings.sent;
    sent.messagesSent++;
    sent.bytesSent += bytes;
    if (!this.direct) {
      this.ws.send(payload, TEXT_FRAME);
      return;
    }
    if (bytes >= COPY_LIMIT) {
      // Large (an `initial`): the header goes before the payload, which is not copied into a frame.
      const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
      this.gather(textFrameHeader(bytes));
      this.gather(data);
    } else {
      this.gather(textFrame(payload));
    }
    if (!this.corked) this.flushGathered();
  }

  private gather(chunk: Buffer): void {
    (this.gathered ??= []).push(chunk);
    this.gatheredBytes += chunk.length;
  }

  /** Writes the gathered frames: one small write as one Buffer, large ones as one corked writev. */
  private flushGathered(): void {
    const chunks = this.gathered;
    if (chunks === undefined) return;
    const bytes = this.gatheredBytes;
    this.gathered = undefined;
    this.gatheredBytes = 0;
    // Closed meanwhile (a close frame may be out already): nothing may follow it.
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0] as Buffer);
    } else if (bytes < COPY_LIMIT) {
      this.socket.write(joinFrames(chunks, bytes));
    } else {
      this.socket.cork();
      for (const chunk of chunks) this.socket.write(chunk);
      this.socket.uncork();
    }
  }

  private enqueue(payload: Buffer | string, key: string | undefined): void {
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    const queue = (this.queue ??= []);
    const byKey = (this.queuedByKey ??= new Map());
    const queued = key === undefined ? undefined : byKey.get(key);
    if (queued) {
      this.queuedBytes += bytes - queued.bytes;
      queued.payload = payload;
      queued.bytes = bytes;
      this.settings.events.onConflated();
      return;
    }
    const entry: Queued = { payload, bytes, key };
    queue.push(entry);
    if (key !== undefined) byKey.set(key, entry);
    this.queuedBytes += bytes;
    if (this.queuedBytes > this.settings.maxQueuedBytes) {
      this.settings.events.onSlow(this);
      this.clearQueue();
      return;
    }
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.socket.once('drain', () => this.drain());
    }
  }

  /** Moves queued messages to the socket until it is backed up again (in one write), or the queue is empty. */
  private drain(): void {
    this.waitingForDrain = false;
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) {
      this.clearQueue();
      return;
    }
    const queue = this.queue;
    if (queue === undefined) return;
    const corked = this.cork();
    while (this.head < queue.length && !this.backedUp()) {
      const entry = queue[this.head++] as Queued;
      if (entry.key !== undefined) this.queuedByKey?.delete(entry.key);
      this.queuedBytes -= entry.bytes;
      this.write(entry.payload);
    }
    const emptied = this.head === queue.length;
    if (emptied) {
      this.clearQueue();
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    if (corked) this.uncork();
    if (!emptied && !this.waitingForDrain && !this.closing) {
      this.waitingForDrain = true;
      this.socket.once('drain', () => this.drain());
    }
  }

  /** The socket's buffer, with the frames gathered for it, is past its high-water mark. */
  private backedUp(): boolean {
    const socket = this.socket;
    return (
      socket.writableNeedDrain ||
      (this.gatheredBytes > 0 && socket.writableLength + this.gatheredBytes >= socket.writableHighWaterMark)
    );
  }

  private clearQueue(): void {
    this.queue = undefined;
    this.head = 0;
    this.queuedByKey = undefined;
    this.queuedBytes = 0;
  }

  private checkBuffer(): void {
    if (!this.closing && this.ws.bufferedAmount > this.settings.maxBufferedBytes)
      this.settings.events.onSlow(this);
  }
}
