import type { AlertsState, SourceRow, View } from '../../src/client/types.ts';
import type { AlertJson } from '../../src/protocol/server-messages.ts';
import { HttpError, type GatewayHttp } from './api.ts';
import { el, panelFrame, setText, timeElement } from './dom.ts';
import { ageText, localClock, utcTitle } from './format.ts';
import { nextPollDelayMs } from './rate-limit.ts';
import { applySourceAlerts, countFailovers, isSourceAlert } from './sources-state.ts';
import { RenderThrottle } from './throttle.ts';

/**
 * The health of the sources: per instrument its active venue and failovers, per venue its connection, latency,
 * staleness (time since its last update), message and error counts. Rows come from GET /api/websocket/sources,
 * polled every 15 s at most (slower when the /api/ rate limit's headers ask for it), and change at once with the
 * `failover` and `source_*` alerts that arrive between polls. Staleness is the time from a source's last update
 * to the poll that reported it.
 */

/** The fastest poll: 60 polls per 15 minutes, well within the default 100 /api/ requests per window. */
export const SOURCES_POLL_MS = 15_000;
/** A gateway process without a feed answers 503: ask again rarely. */
const NO_FEED_POLL_MS = 60_000;

export class SourcesPanel {
  readonly element: HTMLElement;
  private readonly table = el('div', { class: 'sources-table' });
  private readonly note = el('span', { class: 'panel-origin' });
  private readonly throttle = new RenderThrottle(() => this.draw());
  private readonly listeners = new Set<(rows: readonly SourceRow[]) => void>();
  private polled: readonly SourceRow[] = [];
  private polledAt: number | undefined;
  /** Ids of the alerts the page held when the last poll answered: the poll already reflects them. */
  private alertsAtPoll = new Set<string>();
  private alerts: readonly AlertJson[] = [];
  private current: readonly SourceRow[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextPollAt = 0;
  private polling = false;
  private error: string | undefined;

  constructor(
    private readonly http: GatewayHttp,
    private readonly now: () => number = () => Date.now(),
  ) {
    const frame = panelFrame('Sources', 'sources-panel', 'sources');
    frame.header.append(this.note);
    frame.body.append(this.table);
    this.element = frame.section;
    this.throttle.schedule();
  }

  /** The rows as the page knows them now (last poll plus later alerts). */
  get rows(): readonly SourceRow[] {
    return this.current;
  }

  /** Calls `listener` with the rows after each poll and each alert that changed them. */
  onRows(listener: (rows: readonly SourceRow[]) => void): void {
    this.listeners.add(listener);
  }

  followAlerts(view: View<AlertsState>): void {
    this.acceptAlerts(view.get().alerts);
    view.subscribe((state) => this.acceptAlerts(state.alerts));
  }

  /** Polls now, or as soon as the pace allows (after a reconnect: catch up). */
  pollSoon(): void {
    this.schedule(Math.max(0, this.nextPollAt - this.now()));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    let delay = SOURCES_POLL_MS;
    try {
      const answer = await this.http.sources();
      this.polled = answer.body;
      this.polledAt = this.now();
      this.alertsAtPoll = new Set(this.alerts.map((alert) => alert.id));
      this.error = undefined;
      delay = nextPollDelayMs(SOURCES_POLL_MS, answer.limit);
    } catch (error) {
      if (error instanceof HttpError) {
        this.error = `${error.code}: ${error.message}`;
        delay = error.status === 503 ? NO_FEED_POLL_MS : nextPollDelayMs(SOURCES_POLL_MS, error.limit);
      } else {
        this.error = error instanceof Error ? error.message : String(error);
      }
    } finally {
      this.polling = false;
    }
    this.nextPollAt = this.now() + delay;
    this.schedule(delay);
    this.recompute();
  }

  private acceptAlerts(alerts: readonly AlertJson[]): void {
    this.alerts = alerts;
    if (alerts.some((alert) => isSourceAlert(alert) && !this.alertsAtPoll.has(alert.id))) this.recompute();
    else this.throttle.schedule();
  }

  private recompute(): void {
    const fresh = this.alerts.filter((alert) => !this.alertsAtPoll.has(alert.id));
    const next = applySourceAlerts(this.polled, fresh);
    const changed = next !== this.current;
    this.current = next;
    if (changed) for (const listener of this.listeners) listener(next);
    this.throttle.schedule();
  }

  private draw(): void {
    const polledAt = this.polledAt;
    if (this.error) setText(this.note, `last poll failed: ${this.error}`);
    else setText(this.note, this.polledAt === undefined ? 'loading…' : `polled ${localClock(this.polledAt)}`);
    if (this.polledAt !== undefined) this.note.title = utcTitle(this.polledAt);
    if (this.current.length === 0) {
      this.table.replaceChildren(
        el('div', { class: 'empty', text: this.error ?? 'waiting for the source status…' }),
      );
      return;
    }
    const failovers = countFailovers(this.alerts);
    const symbols = [...new Set(this.current.map((row) => row.symbol))];
    const blocks = symbols.map((symbol) => {
      const rows = this.current.filter((row) => row.symbol === symbol);
      const active = rows.find((row) => row.active)?.exchange;
      const tally = failovers.get(symbol);
      const summary = el(
        'div',
        { class: 'sources-instrument' },
        el('strong', { text: symbol }),
        el('span', { text: `active: ${active ?? 'none'}` }),
        tally
          ? el(
              'span',
              { text: `failovers: ${tally.count} (last ${tally.last}, ` },
              timeElement(tally.lastTime, localClock(tally.lastTime)),
              ')',
            )
          : el('span', { class: 'dim', text: 'failovers: 0' }),
      );
      return el(
        'div',
        { class: 'sources-block' },
        summary,
        ...rows.map((row) => {
          // Staleness as of the poll: the row's lastUpdate is what the gateway knew then.
          const staleness =
            row.lastUpdate === null || polledAt === undefined
              ? 'no update yet'
              : `staleness ${ageText(Math.max(0, polledAt - row.lastUpdate))}`;
          return el(
            'div',
            {
              class: `source-row${row.active ? ' active' : ''}${row.healthy ? ' healthy' : ' unhealthy'}`,
              testid: 'source-row',
              attrs: {
                'data-symbol': row.symbol,
                'data-venue': row.exchange,
                'data-active': String(row.active),
                'data-healthy': String(row.healthy),
              },
            },
            el('span', {
              class: 'source-venue',
              text: row.exchange + (row.primary ? ' ★' : ''),
              title: row.primary ? 'configured primary' : '',
            }),
            el('span', {
              class: 'source-state',
              text: row.healthy ? 'healthy' : (row.reason ?? 'unhealthy'),
            }),
            el('span', { class: 'source-role', text: row.active ? 'active' : '' }),
            el('span', { text: row.latency === null ? 'latency —' : `${row.latency} ms` }),
            el('span', {
              text: staleness,
              ...(row.lastUpdate === null ? {} : { title: `last update ${utcTitle(row.lastUpdate)}` }),
            }),
            el('span', { class: 'dim', text: `${row.messagesReceived} msgs · ${row.errors} errors` }),
          );
        }),
      );
    });
    this.table.replaceChildren(...blocks);
  }
}
