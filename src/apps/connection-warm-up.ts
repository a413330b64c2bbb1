import { MemoryBus } from '../bus/memory-bus.ts';
import { WARM_UP_CONNECTIONS } from '../gateway/gateway.ts';
import type { WarmUpOptions } from '../gateway/warm-up.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';

/**
 * The warm-up of a process that serves clients (`gateway` and `all`): its throwaway gateways run on an in-process
 * bus and an empty memory store of their own. A restarted process is met by its clients reconnecting at once; they
 * find its connection path compiled (src/gateway/warm-up.ts).
 */
export function connectionWarmUp(): WarmUpOptions {
  return {
    connections: WARM_UP_CONNECTIONS,
    bus: () => new MemoryBus(),
    store: () => new MemoryCandleStore(),
  };
}
