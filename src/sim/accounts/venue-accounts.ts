/**
 * What a simulated venue's private side exposes to the simulator (and so to tests): its accounts' engines and its
 * account faults. `advanceTo` moves every account to the clock, after the venue's markets.
 */
import type { SimAccount } from './engine.ts';
import type { SimAccountFaults } from './faults.ts';

export interface SimVenueAccounts {
  /** One engine per configured account, in configuration order. */
  readonly accounts: readonly SimAccount[];
  readonly faults: SimAccountFaults;
  advanceTo(nowMs: number): void;
}
