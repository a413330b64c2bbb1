/**
 * Publish/subscribe between the ingest side (candles) and the gateways.
 * Messages are strings serialized once by the publisher; subscribers decode them once per message.
 */
export interface Bus {
  publish(channel: string, message: string): void;
  /** Returns a function that removes the subscription. */
  subscribe(channel: string, handler: (message: string) => void): () => void;
  close(): Promise<void>;
}

/** Channel that carries every CandleUpdate (see candle-message.ts). */
export const CANDLE_CHANNEL = 'tickwire:candles';
