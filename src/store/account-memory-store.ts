import type { Fill } from '../domain/account.ts';
import {
  checkRangeQuery,
  checkStorableFill,
  uniqueFills,
  type AccountRangeQuery,
  type AccountStore,
  type StoredEquityPoint,
} from './account-store.ts';

/**
 * The AccountStore kept in memory: for tests and for a gateway run without a database, where account history
 * lasts as long as the process. Same behaviour as the SQL store (account-store.contract.ts).
 */
export class MemoryAccountStore implements AccountStore {
  private readonly fillsByAccount = new Map<string, Map<string, Fill>>();
  private readonly equityByAccount = new Map<string, Map<number, StoredEquityPoint>>();

  async appendFills(account: string, fills: readonly Fill[]): Promise<number> {
    for (const f of fills) checkStorableFill(account, f);
    let stored = this.fillsByAccount.get(account);
    if (!stored) this.fillsByAccount.set(account, (stored = new Map()));
    let added = 0;
    for (const f of uniqueFills(fills)) {
      if (stored.has(f.fillId)) continue;
      stored.set(f.fillId, f);
      added++;
    }
    return added;
  }

  async appendEquity(account: string, points: readonly StoredEquityPoint[]): Promise<void> {
    for (const p of points) {
      if (!Number.isSafeInteger(p.time))
        throw new RangeError(`equity time is not whole ms: ${String(p.time)}`);
    }
    let stored = this.equityByAccount.get(account);
    if (!stored) this.equityByAccount.set(account, (stored = new Map()));
    for (const p of points) stored.set(p.time, p);
  }

  async fills(account: string, query: AccountRangeQuery): Promise<Fill[]> {
    checkRangeQuery(query);
    const all = [...(this.fillsByAccount.get(account)?.values() ?? [])]
      .filter((f) => inRange(f.time, query))
      .sort((a, b) => a.time - b.time || (a.fillId < b.fillId ? -1 : a.fillId > b.fillId ? 1 : 0));
    return newest(all, query.limit);
  }

  async equity(account: string, query: AccountRangeQuery): Promise<StoredEquityPoint[]> {
    checkRangeQuery(query);
    const all = [...(this.equityByAccount.get(account)?.values() ?? [])]
      .filter((p) => inRange(p.time, query))
      .sort((a, b) => a.time - b.time);
    return newest(all, query.limit);
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}

function inRange(time: number, query: AccountRangeQuery): boolean {
  return (query.from === undefined || time >= query.from) && (query.to === undefined || time < query.to);
}

function newest<T>(sorted: T[], limit: number | undefined): T[] {
  return limit === undefined || sorted.length <= limit ? sorted : sorted.slice(sorted.length - limit);
}
