import type { AccountViewState, TickwireClientApi, TickwireClientOptions } from '../../src/client/types.ts';
import type { AccountPanel } from './account-panel.ts';
import type { AlertsPanel } from './alerts-panel.ts';
import type { GatewayHttp } from './api.ts';

/**
 * The account side of the page while a token is given. It runs on a connection of its own, so that a token that
 * is refused or expires never disturbs the market panels, and so that applying another token only restarts the
 * account panels. Its alerts (the account's own, which reach only a connection authenticated for the account)
 * join the alerts feed. The equity curve's stored part is read once the token is accepted and again after each
 * reconnect (the /api/ rate limit counts it); live `performance` updates extend it in between.
 */
export class AccountSession {
  private client: TickwireClientApi | undefined;
  private stops: (() => void)[] = [];
  private lastTotal: string | undefined;
  /** Whether the stored curve has been read since the last (re)connect: once the token is accepted. */
  private curveRead = false;

  constructor(
    private readonly createClient: (options: TickwireClientOptions) => TickwireClientApi,
    private readonly connection: Pick<TickwireClientOptions, 'url' | 'httpUrl'>,
    private readonly http: GatewayHttp,
    private readonly panel: AccountPanel,
    private readonly alerts: AlertsPanel,
  ) {}

  /** Signs in with `token` (ending any previous session); `undefined` signs out. */
  use(token: string | undefined): void {
    this.end();
    if (token === undefined) {
      this.panel.signOut();
      return;
    }
    const client = this.createClient({ ...this.connection, token });
    this.client = client;
    const account = client.account();
    this.panel.show(account);
    this.alerts.follow('account', client.alerts());
    this.curveRead = false;
    this.stops.push(
      account.subscribe((state) => this.onAccount(state, client, token)),
      client.on('state', (status) => {
        // The stored curve covers what happened while the page was away: read it again after a reconnect.
        if (status.state !== 'connected') this.curveRead = false;
      }),
    );
    void client.connect();
  }

  private end(): void {
    for (const stop of this.stops) stop();
    this.stops = [];
    this.client?.close();
    this.client = undefined;
    this.lastTotal = undefined;
    this.alerts.forget('account');
  }

  private onAccount(state: AccountViewState, client: TickwireClientApi, token: string): void {
    if (client !== this.client) return;
    if (!state.authenticated && state.error && /^AUTH_|^ACCOUNT_/.test(state.error.code)) {
      // A refused token stays refused: stop the connection instead of retrying it forever. The panel keeps the
      // refusal on screen until another token is applied.
      for (const stop of this.stops) stop();
      this.stops = [];
      client.close();
      return;
    }
    if (state.authenticated && state.live && !this.curveRead) {
      this.curveRead = true;
      void this.loadCurve(token, client);
    }
    const total = state.performance?.totalValue ?? state.dashboard?.total_value;
    if (total !== undefined && total !== this.lastTotal) {
      this.lastTotal = total;
      this.panel.equity.addLive({ time: Date.now(), equity: total });
    }
  }

  private async loadCurve(token: string, client: TickwireClientApi): Promise<void> {
    try {
      const answer = await this.http.performance(token);
      if (client === this.client) this.panel.equity.setStored(answer.body.equityCurve);
    } catch (error) {
      if (client === this.client)
        this.panel.equity.element.title = `stored curve unavailable: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}
