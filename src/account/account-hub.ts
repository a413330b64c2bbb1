import type { AccountRef, Fill } from '../domain/account.ts';
import type { Alert } from '../domain/alert.ts';
import type { Decimal } from '../domain/decimal.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock } from '../util/clock.ts';
import type { AccountStore } from '../store/account-store.ts';
import { AccountState, type AccountStateOptions } from './account-state.ts';
import type {
  AccountChange,
  AccountHub as AccountHubContract,
  AccountResume,
  AccountSource,
  AccountStreamStatus,
  AccountView,
  EquityPoint,
  FillQuery,
} from './contract.ts';

/**
 * A venue stamps its fills with its own clock (dYdX: the time of the block), which may run behind ours. An account
 * with no stored fill takes up its fills from this long before `fillsSince`: a fill made after the process started
 * but stamped a little earlier, and made before the first subscription (which carries no past fills), still comes
 * over REST. A fill of that minute made before the start is taken up too; repeats are dropped by fill id.
 */
export const FILL_CLOCK_MARGIN_MS = 60_000;

export interface AccountHubOptions {
  /** One source per configured account, built by the wiring from the venue adapters; ids must be unique. */
  readonly sources: readonly AccountSource[];
  readonly store: AccountStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Hears every account alert (with `account` set), to publish on the alerts channel. */
  readonly onAlert?: (alert: Alert) => void;
  readonly liquidationAlertDistance?: Decimal;
  readonly equitySampleMs?: number;
  readonly restoreLimit?: number;
  readonly storeRetryMs?: number;
  /**
   * Where an account with no stored fill takes up its fills (ms UTC, less FILL_CLOCK_MARGIN_MS): the process's
   * start, so that fills made while the database opened are fetched too. Default: when its source starts.
   */
  readonly fillsSince?: number;
}

/**
 * The AccountHub over several accounts: an AccountState each, fed by that account's AccountSource, and the
 * AccountStore behind their history. It knows no venue: the sources are handed in. `open` restores every
 * account's stored history before starting its source, so the first event lands on restored performance.
 */
export class AccountHub implements AccountHubContract {
  private readonly states = new Map<string, AccountState>();
  private readonly sources = new Map<string, AccountSource>();
  private readonly statuses = new Map<string, AccountStreamStatus>();
  private closed: Promise<void> | undefined;

  private constructor(private readonly options: AccountHubOptions) {}

  /** Restores each account's history, then starts its source and its state's timers. */
  static async open(options: AccountHubOptions): Promise<AccountHub> {
    const hub = new AccountHub(options);
    for (const source of options.sources) {
      const id = source.account.id;
      if (hub.states.has(id)) throw new RangeError(`account ${JSON.stringify(id)} is configured twice`);
      const stateOptions: AccountStateOptions = {
        account: source.account,
        clock: options.clock,
        store: options.store,
        logger: options.logger,
        ...(options.onAlert === undefined ? {} : { onAlert: options.onAlert }),
        ...(options.liquidationAlertDistance === undefined
          ? {}
          : { liquidationAlertDistance: options.liquidationAlertDistance }),
        ...(options.equitySampleMs === undefined ? {} : { equitySampleMs: options.equitySampleMs }),
        ...(options.restoreLimit === undefined ? {} : { restoreLimit: options.restoreLimit }),
        ...(options.storeRetryMs === undefined ? {} : { storeRetryMs: options.storeRetryMs }),
      };
      hub.states.set(id, new AccountState(stateOptions));
      hub.sources.set(id, source);
    }
    await Promise.all([...hub.states.values()].map((s) => s.restore()));
    for (const [id, state] of hub.states) {
      const source = hub.sources.get(id) as AccountSource;
      state.start();
      hub.statuses.set(id, source.status());
      source.start(
        {
          event: (event) => {
            try {
              state.apply(event);
            } catch (err) {
              // A malformed event from an adapter must not take the other accounts down.
              options.logger.error(
                { err, account: id, kind: event.kind },
                'account: event could not be applied',
              );
            }
          },
          status: (status) => hub.statuses.set(id, status),
          alert: (alert) => state.alert(alert),
        },
        resumeFrom(
          state.newestFillTime ??
            (options.fillsSince === undefined ? undefined : options.fillsSince - FILL_CLOCK_MARGIN_MS),
        ),
      );
    }
    return hub;
  }

  accounts(): readonly AccountRef[] {
    return [...this.states.values()].map((s) => s.account);
  }

  view(accountId: string): AccountView | undefined {
    return this.states.get(accountId)?.view();
  }

  subscribe(accountId: string, listener: (change: AccountChange) => void): () => void {
    const state = this.states.get(accountId);
    return state ? state.subscribe(listener) : () => undefined;
  }

  status(accountId: string): AccountStreamStatus | undefined {
    // Asked of the source itself: it reports status changes, not every step (a subscription confirmed later).
    return this.sources.get(accountId)?.status() ?? this.statuses.get(accountId);
  }

  /** Stored fills of the account, including those applied a moment ago (pending writes are awaited first). */
  async fills(accountId: string, query: FillQuery): Promise<readonly Fill[]> {
    const state = this.states.get(accountId);
    if (!state) return [];
    await state.flushed();
    return this.options.store.fills(accountId, query);
  }

  async equityCurve(accountId: string, query: FillQuery): Promise<readonly EquityPoint[]> {
    const state = this.states.get(accountId);
    if (!state) return [];
    await state.flushed();
    const points = await this.options.store.equity(accountId, query);
    return points.map((p) => ({ time: p.time, equity: p.equity }));
  }

  /** Closes every source, then stops the states and writes what they still hold. The store stays open. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const results = await Promise.allSettled([...this.sources.values()].map((s) => s.close()));
      for (const r of results) {
        if (r.status === 'rejected')
          this.options.logger.warn({ err: r.reason }, 'account: source close failed');
      }
      await Promise.all([...this.states.values()].map((s) => s.close()));
    })();
    return this.closed;
  }
}

function resumeFrom(fillsSince: number | undefined): AccountResume {
  return fillsSince === undefined ? {} : { fillsSince };
}
