import type { Bus } from './bus.ts';

/** In-process Bus: delivers synchronously, in publish order, to the subscribers of a channel. */
export class MemoryBus implements Bus {
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  publish(channel: string, message: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of set) handler(message);
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
      set.delete(entry);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
