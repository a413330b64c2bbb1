import type { ConnectionStatus } from '../../src/client/types.ts';
import { el, setAttr, setText } from './dom.ts';
import { localClock, utcTitle } from './format.ts';

/**
 * The connection status indicator and the page's staleness. The client library's states (connecting, connected,
 * disconnected, error) become what a trader needs to read: connected, reconnecting (an attempt is running or
 * scheduled, or data comes by REST polling meanwhile), disconnected (closed, nothing scheduled) or error (the last
 * attempt failed). Once the page has been connected, losing the connection marks the whole page stale: the last
 * data stays on screen, greyed, under a banner, until the client has reconnected and caught up.
 */

export type IndicatorState = 'connected' | 'reconnecting' | 'disconnected' | 'error';

export interface Indicator {
  readonly state: IndicatorState;
  readonly label: string;
}

export function indicatorOf(status: ConnectionStatus, everConnected: boolean): Indicator {
  if (status.state === 'connected' && status.transport === 'websocket')
    return { state: 'connected', label: 'connected' };
  if (status.transport === 'polling')
    return { state: 'reconnecting', label: 'polling (REST), reconnecting…' };
  switch (status.state) {
    case 'connecting':
      return { state: 'reconnecting', label: everConnected ? 'reconnecting…' : 'connecting…' };
    case 'error':
      return { state: 'error', label: `error: ${status.error?.code ?? 'connection failed'}` };
    case 'disconnected':
      return status.retryAt !== undefined
        ? { state: 'reconnecting', label: 'reconnecting…' }
        : { state: 'disconnected', label: 'disconnected' };
    default:
      return { state: 'connected', label: 'connected' };
  }
}

/** Whether the page shows old data: it had a live connection and does not now. */
export function isStale(status: ConnectionStatus, everConnected: boolean): boolean {
  return everConnected && !(status.state === 'connected' && status.transport === 'websocket');
}

function detailOf(status: ConnectionStatus, now: number): string {
  const parts: string[] = [`transport: ${status.transport}`];
  if (status.attempt > 0) parts.push(`failed attempts: ${status.attempt}`);
  if (status.retryAt !== undefined)
    parts.push(
      `next attempt ${localClock(status.retryAt)} (in ${Math.max(0, Math.round((status.retryAt - now) / 1000))} s)`,
    );
  if (status.error) parts.push(`last error: ${status.error.code} ${status.error.message}`);
  return parts.join(' · ');
}

export class ConnectionStatusView {
  readonly indicator: HTMLElement;
  readonly banner: HTMLElement;
  private readonly label = el('span', { class: 'status-label' });
  private readonly bannerText = el('span');
  private everConnected = false;
  private lostAt: number | undefined;

  constructor(
    private readonly body: HTMLElement,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.indicator = el(
      'div',
      {
        class: 'connection-status',
        testid: 'connection-status',
        attrs: { 'data-state': 'reconnecting', role: 'status' },
      },
      el('span', { class: 'status-dot', attrs: { 'aria-hidden': 'true' } }),
      this.label,
    );
    setText(this.label, 'connecting…');
    this.banner = el(
      'div',
      { class: 'stale-banner', testid: 'stale-banner', attrs: { role: 'alert' } },
      this.bannerText,
    );
    this.banner.hidden = true;
  }

  show(status: ConnectionStatus): void {
    const indicator = indicatorOf(status, this.everConnected);
    const stale = isStale(status, this.everConnected);
    if (indicator.state === 'connected') this.everConnected = true;
    setAttr(this.indicator, 'data-state', indicator.state);
    setText(this.label, indicator.label);
    this.indicator.title = detailOf(status, this.now());

    if (stale && this.lostAt === undefined) this.lostAt = this.now();
    if (!stale) this.lostAt = undefined;
    this.banner.hidden = !stale;
    setAttr(this.body, 'data-stale', stale ? 'true' : 'false');
    if (this.lostAt !== undefined) {
      this.bannerText.title = utcTitle(this.lostAt);
      setText(
        this.bannerText,
        `Connection lost at ${localClock(this.lostAt)}: showing the last data received (stale); ` +
          `${indicator.label}; the page catches up once it reconnects.`,
      );
    }
  }
}
