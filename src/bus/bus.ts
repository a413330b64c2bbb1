/**
 * Publish/subscribe between the ingest side (candles) and the gateways.
 * Messages are strings serialized once by the publisher; subscribers decode them once per message.
 */
export interface Bus {
  /**
   * Sends `message` to every subscriber of `channel`, in publish order. Synchronous and never blocks: a bus that
   * crosses processes buffers (bounded) while it is down rather than making the publisher wait.
   */
  publish(channel: string, message: string): void;
  /** Returns a function that removes the subscription. */
  subscribe(channel: string, handler: (message: string) => void): () => void;
  /** Calls `handler` on each transition between up and down; returns a function that removes it. */
  onStatus(handler: (status: BusStatus) => void): () => void;
  /** Whether the bus delivers between processes right now. */
  status(): BusStatus;
  close(): Promise<void>;
}

/** A bus is down while it cannot reach its broker; `error` then says why (the last connection error). */
export interface BusStatus {
  readonly state: 'up' | 'down';
  readonly error?: string;
}

/** Channel that carries every CandleUpdate (see candle-message.ts). */
export const CANDLE_CHANNEL = 'tickwire:candles';
