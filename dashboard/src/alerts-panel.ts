import type { AlertsState, View } from '../../src/client/types.ts';
import type { AlertJson } from '../../src/protocol/server-messages.ts';
import { el, panelFrame, setText, timeElement } from './dom.ts';
import { localClock } from './format.ts';
import { RenderThrottle } from './throttle.ts';

/**
 * The alerts feed, newest first: the feed's own alerts (a venue dropped, a failover, a rebuilt book) and, with a
 * token, the account's (an order rejected, a liquidation near). The page may follow alerts over two connections
 * (the market one and the account one); the same alert id shows once.
 */

/** Alerts shown. */
export const FEED_ROWS = 100;

export class AlertsPanel {
  readonly element: HTMLElement;
  private readonly feed = el('ol', { class: 'alerts-feed', testid: 'alerts-feed' });
  private readonly count = el('span', { class: 'panel-origin' });
  private readonly throttle = new RenderThrottle(() => this.draw());
  private readonly bySource = new Map<string, readonly AlertJson[]>();
  private readonly stops = new Map<string, () => void>();

  constructor() {
    const frame = panelFrame('Alerts', 'alerts-panel', 'alerts');
    frame.header.append(this.count);
    frame.body.append(this.feed);
    this.element = frame.section;
    this.throttle.schedule();
  }

  /** Follows one alerts view under a name (`market`, `account`); a second call with the name replaces it. */
  follow(name: string, view: View<AlertsState>): void {
    this.stops.get(name)?.();
    this.bySource.set(name, view.get().alerts);
    this.stops.set(
      name,
      view.subscribe((state) => {
        this.bySource.set(name, state.alerts);
        this.throttle.schedule();
      }),
    );
    this.throttle.schedule();
  }

  /** Stops following a view (the account's, when the token is cleared); its alerts leave the feed. */
  forget(name: string): void {
    this.stops.get(name)?.();
    this.stops.delete(name);
    this.bySource.delete(name);
    this.throttle.schedule();
  }

  private merged(): AlertJson[] {
    const byId = new Map<string, AlertJson>();
    for (const alerts of this.bySource.values()) for (const alert of alerts) byId.set(alert.id, alert);
    return [...byId.values()].sort((a, b) => b.time - a.time);
  }

  private draw(): void {
    const alerts = this.merged();
    setText(this.count, alerts.length === 0 ? '' : String(alerts.length));
    if (alerts.length === 0) {
      this.feed.replaceChildren(el('li', { class: 'empty', text: 'no alerts' }));
      return;
    }
    this.feed.replaceChildren(
      ...alerts.slice(0, FEED_ROWS).map((alert) => {
        const about = [alert.venue, alert.symbol, alert.account]
          .filter((part) => part !== undefined)
          .join(' · ');
        const details = alert.details
          ? Object.entries(alert.details)
              .map(([key, value]) => `${key}: ${String(value)}`)
              .join(', ')
          : '';
        return el(
          'li',
          {
            class: `alert-item severity-${alert.severity}`,
            testid: 'alert-item',
            attrs: { 'data-kind': alert.kind, 'data-severity': alert.severity, 'data-id': alert.id },
            ...(details ? { title: details } : {}),
          },
          el('span', { class: 'alert-severity', text: alert.severity }),
          timeElement(alert.time, localClock(alert.time)),
          el('span', { class: 'alert-kind', text: alert.kind }),
          el('span', { class: 'alert-about', text: about }),
          el('span', { class: 'alert-message', text: alert.message }),
        );
      }),
    );
  }
}
