import { createLogger, type Logger } from '../telemetry/logger.ts';
import type { Bus, BusStatus } from './bus.ts';

export interface MemoryBusOptions {
  /** Where a subscriber that throws is reported; a stderr logger by default. */
  readonly logger?: Logger;
}

const UP: BusStatus = Object.freeze({ state: 'up' });

/**
 * In-process Bus: delivers synchronously, in publish order, to the subscribers of a channel. It has no broker to
 * lose, so it is always up and its `onStatus` handlers never fire.
 */
export class MemoryBus implements Bus {
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private logger: Logger | undefined;

  constructor(options: MemoryBusOptions = {}) {
    this.logger = options.logger;
  }

  /** A subscriber that throws is logged; the others still get the message and the publisher never sees it. */
  publish(channel: string, message: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(message);
      } catch (err) {
        // Created on first use: most buses never meet a throwing subscriber.
        this.logger ??= createLogger({ name: 'memory-bus' });
        this.logger.error(
          { err, channel },
          'bus subscriber threw; the other subscribers still got the message',
        );
      }
    }
  }

  subscribe(channel: string, handler: (message: string) => void): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    // Wrap so the same function can be subscribed twice and removed once each.
    const entry = (message: string): void => handler(message);
    set.add(entry);
    return () => {
      if (set.delete(entry) && set.size === 0 && this.handlers.get(channel) === set)
        this.handlers.delete(channel);
    };
  }

  onStatus(_handler: (status: BusStatus) => void): () => void {
    return () => undefined;
  }

  status(): BusStatus {
    return UP;
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
