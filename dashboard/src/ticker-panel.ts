import type { TickerState, View } from '../../src/client/types.ts';
import { el, panelFrame, setAttr, setText } from './dom.ts';
import { changePercent, decimalText, localClock, percentText, signOf, utcTitle } from './format.ts';
import { RenderThrottle } from './throttle.ts';

/**
 * The ticker of the chosen instrument: one venue's, or the composite across venues ("all venues"). The last
 * price flashes green or red for a moment when it changes; `data-venue` names the venue it came from (the
 * composite's base venue) and `data-updated` the page's time (ms) of the last change.
 */

/** How long the last price stays highlighted after a change. */
const FLASH_MS = 700;
/** How often the tab's title follows the last price. */
const TITLE_MS = 1000;

export class TickerPanel {
  readonly element: HTMLElement;
  private readonly last = el('span', { class: 'ticker-last', testid: 'ticker-last', text: '—' });
  private readonly change = el('span', { class: 'ticker-change' });
  private readonly stats = el('dl', { class: 'ticker-stats' });
  private readonly origin = el('span', { class: 'ticker-origin' });
  private readonly throttle = new RenderThrottle(() => this.draw());
  private view: View<TickerState | undefined> | undefined;
  private stopListening: (() => void) | undefined;
  private state: TickerState | undefined;
  private shownLast: number | undefined;
  private flashTimer: ReturnType<typeof setTimeout> | undefined;
  private titleTimer: ReturnType<typeof setTimeout> | undefined;

  /** `onLast` hears each new last price as shown (the page puts it in the tab's title). */
  constructor(private readonly onLast: (text: string, symbol: string) => void = () => {}) {
    const frame = panelFrame('Ticker', 'ticker-panel', 'ticker');
    frame.header.append(this.origin);
    frame.body.append(el('div', { class: 'ticker-headline' }, this.last, this.change), this.stats);
    this.element = frame.section;
  }

  show(view: View<TickerState | undefined>): void {
    this.stopListening?.();
    this.view = view;
    this.state = view.get();
    this.shownLast = undefined;
    this.stopListening = view.subscribe((state) => {
      this.state = state;
      this.throttle.schedule();
      this.scheduleTitle();
    });
    this.throttle.schedule();
  }

  private draw(): void {
    const t = this.state;
    if (!this.view || !t) {
      setText(this.last, '—');
      this.last.removeAttribute('data-venue');
      this.stats.replaceChildren();
      setText(this.origin, '');
      return;
    }
    const venue = t.venue ?? t.baseVenue ?? '';
    setText(this.last, decimalText(t.last));
    setAttr(this.last, 'data-venue', venue);
    if (t.time !== undefined) this.last.title = `exchange time ${utcTitle(t.time)}`;
    if (t.last !== undefined && t.last !== this.shownLast) {
      if (this.shownLast !== undefined) this.flash(t.last > this.shownLast ? 'up' : 'down');
      this.shownLast = t.last;
      setAttr(this.last, 'data-updated', String(Date.now()));
    }
    const change = changePercent(t.last, t.open24h);
    setText(this.change, change === undefined ? '' : `${percentText(change)} 24h`);
    setAttr(this.change, 'data-sign', signOf(change));
    setText(
      this.origin,
      t.venue !== undefined
        ? t.venue
        : `composite · ${t.resolution ?? '?'} rule · from ${(t.sources ?? []).join(', ') || 'no fresh venue'}${t.fallback ? ' (fallback)' : ''}`,
    );

    const row = (name: string, value: string, title?: string): HTMLElement[] => [
      el('dt', { text: name }),
      el('dd', { text: value, ...(title ? { title } : {}) }),
    ];
    this.stats.replaceChildren(
      ...row('Bid', `${decimalText(t.bid)} × ${decimalText(t.bidSize)}`),
      ...row('Ask', `${decimalText(t.ask)} × ${decimalText(t.askSize)}`),
      ...row('24h high', decimalText(t.high24h)),
      ...row('24h low', decimalText(t.low24h)),
      ...row('24h volume', decimalText(t.volume24h)),
      ...row('24h quote volume', decimalText(t.quoteVolume24h)),
      ...row(
        'Time',
        t.time === undefined ? '—' : localClock(t.time, true),
        t.time === undefined ? undefined : utcTitle(t.time),
      ),
    );
  }

  /**
   * The title follows on a timer, not on animation frames: a hidden tab gets no frames, and the title is what a
   * trader sees of a hidden tab. Once a second is enough (browsers slow background timers to that anyway).
   */
  private scheduleTitle(): void {
    if (this.titleTimer !== undefined) return;
    this.titleTimer = setTimeout(() => {
      this.titleTimer = undefined;
      const t = this.state;
      if (t?.last !== undefined) this.onLast(decimalText(t.last), t.symbol);
    }, TITLE_MS);
  }

  private flash(direction: 'up' | 'down'): void {
    this.last.classList.remove('flash-up', 'flash-down');
    // Reading the layout restarts the CSS animation when the same class comes back.
    void this.last.offsetWidth;
    this.last.classList.add(`flash-${direction}`);
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => this.last.classList.remove('flash-up', 'flash-down'), FLASH_MS);
  }
}
