import type { AccountRef } from '../domain/account.ts';
import type {
  AccountChange,
  AccountHub,
  AccountStreamStatus,
  AccountView,
  EquityPoint,
  FillQuery,
} from './contract.ts';
import type { Fill } from '../domain/account.ts';

/** Every part of a view: what a subscriber that joined before the hub opened has not seen yet. */
const ALL_PARTS: AccountChange['parts'] = new Set([
  'summary',
  'balances',
  'positions',
  'orders',
  'fills',
  'performance',
] as const);

/**
 * An AccountHub that exists before the real one. `tickwire all` serves clients while its database opens, and the
 * real hub restores each account's stored fills and equity before its first event, so it opens only after the
 * database. Until then the configured accounts are listed, have no view and no status yet (the channels send
 * empty snapshots and fill them in as changes), history reads wait for the hub, and subscribers are kept: when
 * the hub opens each of them is subscribed through and receives the account's whole view as one change.
 */
export class DeferredAccountHub implements AccountHub {
  private hub: AccountHub | undefined;
  private failure: unknown;
  private readonly waiting = new Set<{
    readonly accountId: string;
    readonly listener: (change: AccountChange) => void;
    unsubscribe?: () => void;
  }>();
  private readonly ready: Promise<AccountHub>;

  /** `opening` resolves with the real hub; a rejection makes history reads reject with it. */
  constructor(
    private readonly refs: readonly AccountRef[],
    opening: Promise<AccountHub>,
  ) {
    this.ready = opening.then(
      (hub) => {
        this.hub = hub;
        for (const entry of this.waiting) {
          entry.unsubscribe = hub.subscribe(entry.accountId, entry.listener);
          const view = hub.view(entry.accountId);
          if (view !== undefined) entry.listener({ view, parts: ALL_PARTS, newFills: [] });
        }
        return hub;
      },
      (err: unknown) => {
        this.failure = err;
        throw err;
      },
    );
    // A failed opening is reported by whoever opened the hub; reads rethrow it.
    this.ready.catch(() => undefined);
  }

  accounts(): readonly AccountRef[] {
    return this.hub?.accounts() ?? this.refs;
  }

  view(accountId: string): AccountView | undefined {
    return this.hub?.view(accountId);
  }

  subscribe(accountId: string, listener: (change: AccountChange) => void): () => void {
    if (this.hub !== undefined) return this.hub.subscribe(accountId, listener);
    const entry: {
      readonly accountId: string;
      readonly listener: (change: AccountChange) => void;
      unsubscribe?: () => void;
    } = { accountId, listener };
    this.waiting.add(entry);
    return () => {
      this.waiting.delete(entry);
      entry.unsubscribe?.();
    };
  }

  status(accountId: string): AccountStreamStatus | undefined {
    return this.hub?.status(accountId);
  }

  async fills(accountId: string, query: FillQuery): Promise<readonly Fill[]> {
    return (await this.opened()).fills(accountId, query);
  }

  async equityCurve(accountId: string, query: FillQuery): Promise<readonly EquityPoint[]> {
    return (await this.opened()).equityCurve(accountId, query);
  }

  private opened(): Promise<AccountHub> {
    if (this.failure !== undefined) return Promise.reject(this.failure as Error);
    return this.ready;
  }
}
