import { AccountHub } from '../account/account-hub.ts';
import type { AccountHub as AccountHubView, AccountSource } from '../account/contract.ts';
import { DeferredAccountHub } from '../account/deferred-account-hub.ts';
import type { Bus } from '../bus/bus.ts';
import { publishAlert } from '../bus/alert-message.ts';
import { bitgetCredentials, type AccountConfig, type Config } from '../config/config.ts';
import { ALERT_LOG_LEVEL } from '../domain/alert.ts';
import { parseDecimal } from '../domain/decimal.ts';
import { TickwireError } from '../domain/errors.ts';
import type { AccountStore } from '../store/account-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock } from '../util/clock.ts';
import { VENUE_REGISTRY } from '../venues/registry.ts';

/** The configured accounts, running: the hub the gateway serves, and how to stop them. */
export interface RunningAccounts {
  readonly hub: AccountHubView;
  /** Resolves once every account's stored history is restored and its source started; rejects if it cannot. */
  readonly opened: Promise<void>;
  close(): Promise<void>;
}

/** The settings a venue's account factory reads (secrets revealed here, for the venue client only). */
function accountSettings(account: AccountConfig): Readonly<Record<string, string | number>> {
  return account.venue === 'bitget'
    ? bitgetCredentials(account)
    : { address: account.address, subaccountNumber: account.subaccountNumber };
}

/**
 * Follows the configured accounts (`config.accounts`): one source per account from its venue's adapter, an
 * account state each, their fills and equity stored beside the candles, account alerts logged and published on
 * the bus (they reach only connections of their account). The hub is usable at once: it opens once `store`
 * resolves (the database is open), restoring stored performance before the first event. Undefined when no
 * account is configured. Throws TickwireError CONFIG_INVALID for an account its venue cannot follow.
 */
export function startAccounts(
  config: Config,
  logger: Logger,
  deps: {
    readonly bus: Bus;
    readonly clock: Clock;
    readonly store: () => Promise<AccountStore>;
  },
): RunningAccounts | undefined {
  if (config.accounts.length === 0) return undefined;
  const sources: AccountSource[] = config.accounts.map((account) => {
    const venue = VENUE_REGISTRY[account.venue];
    if (venue.createAccountSource === undefined)
      throw new TickwireError('CONFIG_INVALID', `accounts: ${account.venue} accounts are not supported`);
    return venue.createAccountSource({
      account: { id: account.id, venue: account.venue },
      settings: accountSettings(account),
      ...config.urls[account.venue],
      logger,
      clock: deps.clock,
    });
  });
  const startedAt = deps.clock.now();
  let stopped = false;
  let running: AccountHub | undefined;
  const opening = deps.store().then(async (store) => {
    if (stopped) throw new Error('accounts: stopped before the database opened');
    const opened = await AccountHub.open({
      sources,
      store,
      clock: deps.clock,
      logger,
      fillsSince: startedAt,
      liquidationAlertDistance: parseDecimal(config.accountAlerts.liquidationDistance),
      onAlert: (alert) => {
        logger[ALERT_LOG_LEVEL[alert.severity]]({ alert }, alert.message);
        publishAlert(deps.bus, alert);
      },
    });
    // Stopped while restoring: the sources have just started; stop them again.
    if (stopped) {
      await opened.close();
      throw new Error('accounts: stopped while opening');
    }
    return (running = opened);
  });
  const hub = new DeferredAccountHub(
    sources.map((s) => s.account),
    opening,
  );
  const opened = opening.then(
    () => logger.info({ accounts: sources.map((s) => s.account.id) }, 'accounts followed'),
    (err: unknown) => {
      if (!stopped) logger.error({ err }, 'the accounts could not start');
      throw err;
    },
  );
  opened.catch(() => undefined);
  return {
    hub,
    opened,
    async close() {
      // Before the hub opened no source has started (the opening path stops a hub that opens after this).
      stopped = true;
      await running?.close();
    },
  };
}
