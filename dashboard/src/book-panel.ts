import type { BookState, View } from '../../src/client/types.ts';
import { buildLadder, type LadderLevel } from './book-ladder.ts';
import { el, panelFrame, setText } from './dom.ts';
import { decimalText, localClock, utcTitle } from './format.ts';
import { RenderThrottle } from './throttle.ts';

/**
 * The order book ladder of one venue: asks above (best at the bottom), the spread, bids below (best at the top),
 * each level with a depth bar as wide as the cumulative size up to it, both sides on one scale. Each book message
 * is a whole top-N snapshot, so the ladder is redrawn from the newest one (at most ~10 times a second).
 */

/** Levels shown per side. */
export const BOOK_ROWS = 12;

export class BookPanel {
  readonly element: HTMLElement;
  private readonly ladder = el('div', { class: 'book-ladder', testid: 'book-ladder' });
  private readonly origin = el('span', { class: 'panel-origin' });
  private readonly throttle = new RenderThrottle(() => this.draw());
  private stopListening: (() => void) | undefined;
  private state: BookState | undefined;
  private venueNote = '';

  constructor() {
    const frame = panelFrame('Order book', 'book-panel', 'book');
    frame.header.append(this.origin);
    frame.body.append(
      el(
        'div',
        { class: 'book-head' },
        el('span', { text: 'Price' }),
        el('span', { text: 'Size' }),
        el('span', { text: 'Total' }),
      ),
      this.ladder,
    );
    this.element = frame.section;
    this.throttle.schedule();
  }

  /** `venueNote` says why this venue (the instrument's active source when "all venues" is chosen). */
  show(view: View<BookState | undefined>, venueNote: string): void {
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
    const book = this.state;
    if (!book) {
      setText(this.origin, this.venueNote);
      this.ladder.replaceChildren(el('div', { class: 'empty', text: 'waiting for the book…' }));
      return;
    }
    setText(this.origin, this.venueNote);
    if (book.time !== undefined)
      this.origin.title = `exchange time ${utcTitle(book.time)}${book.seq === undefined ? '' : ` · seq ${book.seq}`}`;
    const ladder = buildLadder(book.bids, book.asks, BOOK_ROWS);
    const row = (side: 'bid' | 'ask', level: LadderLevel): HTMLElement => {
      const bar = el('span', { class: 'depth-bar' });
      bar.style.width = `${(level.depth * 100).toFixed(1)}%`;
      return el(
        'div',
        {
          class: `book-row book-${side}`,
          testid: `book-${side}`,
          attrs: { 'data-price': decimalText(level.price) },
        },
        bar,
        el('span', { class: 'price', text: decimalText(level.price) }),
        el('span', { text: decimalText(level.size) }),
        el('span', { class: 'dim', text: decimalText(Number(level.cumulative.toPrecision(12))) }),
      );
    };
    const spread = el(
      'div',
      { class: 'book-spread' },
      el('span', { text: ladder.spread === undefined ? 'spread —' : `spread ${ladder.spread}` }),
      el('span', {
        class: 'dim',
        text: book.time === undefined ? '' : localClock(book.time, true),
        ...(book.time === undefined ? {} : { title: utcTitle(book.time) }),
      }),
    );
    this.ladder.replaceChildren(
      ...[...ladder.asks].reverse().map((level) => row('ask', level)),
      spread,
      ...ladder.bids.map((level) => row('bid', level)),
    );
  }
}
