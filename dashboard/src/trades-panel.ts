import type { TradesState, View } from '../../src/client/types.ts';
import { el, panelFrame, setText, timeElement } from './dom.ts';
import { decimalText, localClock } from './format.ts';
import { RenderThrottle } from './throttle.ts';

/** The trades tape of one venue: newest first, the taker's side in colour, exchange time in the viewer's zone. */

/** Rows shown; the view keeps more. */
export const TAPE_ROWS = 40;

export class TradesPanel {
  readonly element: HTMLElement;
  private readonly tape = el('div', { class: 'trades-tape', testid: 'trades-tape' });
  private readonly origin = el('span', { class: 'panel-origin' });
  private readonly throttle = new RenderThrottle(() => this.draw());
  private stopListening: (() => void) | undefined;
  private state: TradesState | undefined;
  private venueNote = '';

  constructor() {
    const frame = panelFrame('Trades', 'trades-panel', 'trades');
    frame.header.append(this.origin);
    frame.body.append(
      el(
        'div',
        { class: 'trades-head' },
        el('span', { text: 'Price' }),
        el('span', { text: 'Size' }),
        el('span', { text: 'Time' }),
      ),
      this.tape,
    );
    this.element = frame.section;
    this.throttle.schedule();
  }

  show(view: View<TradesState>, venueNote: string): void {
    this.stopListening?.();
    this.state = view.get();
    this.venueNote = venueNote;
    this.stopListening = view.subscribe((state) => {
      this.state = state;
      this.throttle.schedule();
    });
    this.throttle.schedule();
  }

  private draw(): void {
    setText(this.origin, this.venueNote);
    const trades = this.state?.trades ?? [];
    if (trades.length === 0) {
      this.tape.replaceChildren(el('div', { class: 'empty', text: 'waiting for trades…' }));
      return;
    }
    const rows: HTMLElement[] = [];
    for (let i = trades.length - 1; i >= 0 && rows.length < TAPE_ROWS; i--) {
      const trade = trades[i];
      if (!trade) continue;
      rows.push(
        el(
          'div',
          {
            class: `trade-row ${trade.side}`,
            testid: 'trade-row',
            attrs: { 'data-side': trade.side, 'data-id': trade.id },
          },
          el('span', { class: 'price', text: decimalText(trade.price) }),
          el('span', { text: decimalText(trade.size) }),
          timeElement(trade.time, localClock(trade.time, true)),
        ),
      );
    }
    this.tape.replaceChildren(...rows);
  }
}
