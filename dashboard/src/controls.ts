import { el } from './dom.ts';

/**
 * What the page shows: the instrument (`symbol-picker`), the venue (`venue-picker`: "all venues" is the
 * composite ticker and the active source's book and trades) and the chart interval (`interval-1m` …
 * `interval-1W`, the chosen one `aria-pressed="true"`).
 */

export const INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1D', '1W'] as const;

export interface Selection {
  readonly symbol: string;
  /** '' = all venues (composite). */
  readonly venue: string;
  readonly interval: string;
}

export class Controls {
  readonly element: HTMLElement;
  private readonly symbolPicker = el('select', {
    class: 'picker',
    testid: 'symbol-picker',
    attrs: { 'aria-label': 'Instrument' },
  });
  private readonly venuePicker = el('select', {
    class: 'picker',
    testid: 'venue-picker',
    attrs: { 'aria-label': 'Venue' },
  });
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private readonly listeners = new Set<(selection: Selection) => void>();
  private current: Selection;

  constructor(initial: Selection) {
    this.current = initial;
    const intervals = el('div', { class: 'intervals', attrs: { role: 'group', 'aria-label': 'Interval' } });
    for (const interval of INTERVALS) {
      const button = el('button', {
        class: 'interval',
        testid: `interval-${interval}`,
        text: interval,
        attrs: { type: 'button', 'aria-pressed': String(interval === initial.interval) },
      });
      button.addEventListener('click', () => this.change({ interval }));
      this.buttons.set(interval, button);
      intervals.append(button);
    }
    this.symbolPicker.addEventListener('change', () => this.change({ symbol: this.symbolPicker.value }));
    this.venuePicker.addEventListener('change', () => this.change({ venue: this.venuePicker.value }));
    this.element = el('div', { class: 'controls' }, this.symbolPicker, this.venuePicker, intervals);
    this.setVenues([]);
  }

  get selection(): Selection {
    return this.current;
  }

  onChange(listener: (selection: Selection) => void): void {
    this.listeners.add(listener);
  }

  /** The configured instruments; keeps the chosen one when it is among them, else takes the first. */
  setSymbols(symbols: readonly string[]): void {
    const chosen = symbols.includes(this.current.symbol) ? this.current.symbol : (symbols[0] ?? '');
    this.symbolPicker.replaceChildren(...symbols.map((s) => el('option', { text: s, attrs: { value: s } })));
    this.symbolPicker.value = chosen;
    if (chosen !== this.current.symbol) this.change({ symbol: chosen });
  }

  /** The chosen instrument's venues; "all venues" stays first. A chosen venue no longer listed falls back to all. */
  setVenues(venues: readonly string[]): void {
    const listed = [...this.venuePicker.options].map((o) => o.value);
    const wanted = ['', ...venues];
    if (listed.length !== wanted.length || listed.some((v, i) => v !== wanted[i])) {
      this.venuePicker.replaceChildren(
        el('option', { text: 'all venues', attrs: { value: '' } }),
        ...venues.map((v) => el('option', { text: v, attrs: { value: v } })),
      );
    }
    const keep = venues.length === 0 || venues.includes(this.current.venue) ? this.current.venue : '';
    if (keep && !venues.includes(keep)) {
      // Venues not known yet (the first poll has not answered): keep the wish from the URL until they are.
      this.venuePicker.append(el('option', { text: keep, attrs: { value: keep } }));
    }
    this.venuePicker.value = keep;
    if (keep !== this.current.venue) this.change({ venue: keep });
  }

  private change(part: Partial<Selection>): void {
    const next = { ...this.current, ...part };
    if (
      next.symbol === this.current.symbol &&
      next.venue === this.current.venue &&
      next.interval === this.current.interval
    )
      return;
    this.current = next;
    for (const [interval, button] of this.buttons)
      button.setAttribute('aria-pressed', String(interval === next.interval));
    if (this.symbolPicker.value !== next.symbol) this.symbolPicker.value = next.symbol;
    if (this.venuePicker.value !== next.venue) this.venuePicker.value = next.venue;
    for (const listener of this.listeners) listener(next);
  }
}
