import type { AccountViewState, View } from '../../src/client/types.ts';
import type { FillJson, OrderJson, PositionJson } from '../../src/protocol/account-messages.ts';
import { el, panelFrame, setAttr, setText, timeElement } from './dom.ts';
import { EquityCurve } from './equity-curve.ts';
import {
  fractionAsPercent,
  localClock,
  localDateTime,
  moneyText,
  percentText,
  priceText,
  PricePrecisions,
  roundDecimal,
  signedMoneyText,
  signOf,
  sizeText,
} from './format.ts';
import { effectiveLeverage, liquidationDistancePercent, NEAR_LIQUIDATION_PERCENT } from './risk.ts';
import { RenderThrottle } from './throttle.ts';

/**
 * The trader's own account, when the page has a token (seed 000's panel): the position badge of the chosen
 * instrument (long, short or flat), the performance figures (total value, daily PnL, win rate, open positions and
 * the rest of the `dashboard` channel), the equity curve, each open position with its PnL and risk (leverage,
 * margin, liquidation price and how far the price is from it), the open orders and the latest fills. Amounts
 * arrive as exact decimal strings and are shown rounded (money to its currency's places, prices to the
 * instrument's price precision, sizes trimmed of trailing zeros), each with the exact value as its title.
 */

export type AccountStatus = 'signed-out' | 'authenticated' | 'error';

const SIGNED_OUT_TEXT = 'Enter an account token above (or open the page with #token=…) to see your account.';

/** Fills shown, newest first. */
const FILL_ROWS = 50;

/** Decimals of the exposure (a ratio of the total value). */
const EXPOSURE_PLACES = 4;

/** A span showing `shown`, with the exact `value` as its title when the two differ. */
function exact(shown: string, value: string | undefined, cls?: string): HTMLElement {
  return el('span', {
    text: shown,
    ...(cls ? { class: cls } : {}),
    ...(value !== undefined && value !== shown ? { title: value } : {}),
  });
}

/** Sets an element's text and its title to the exact value (none when they are the same). */
function setExact(element: HTMLElement, shown: string, value: string | undefined): void {
  setText(element, shown);
  if (value !== undefined && value !== shown) element.title = value;
  else element.removeAttribute('title');
}

export class AccountPanel {
  readonly element: HTMLElement;
  readonly equity = new EquityCurve();
  private readonly status = el('span', {
    class: 'account-status',
    testid: 'account-status',
    attrs: { 'data-state': 'signed-out' },
  });
  private readonly badge = el('span', {
    class: 'position-badge flat',
    testid: 'position-badge',
    text: 'FLAT',
  });
  private readonly figures = el('div', { class: 'account-figures' });
  private readonly totalValue = el('span', { class: 'figure-value', testid: 'total-value', text: '—' });
  private readonly dailyPnl = el('span', { class: 'figure-value', testid: 'daily-pnl', text: '—' });
  private readonly winRate = el('span', { class: 'figure-value', testid: 'win-rate', text: '—' });
  private readonly openPositions = el('span', { class: 'figure-value', testid: 'open-positions', text: '—' });
  private readonly more = el('dl', { class: 'account-more' });
  private readonly positions = el('div', { class: 'account-table positions' });
  private readonly orders = el('div', { class: 'account-table orders' });
  private readonly fills = el('div', { class: 'account-table fills' });
  private readonly details: HTMLElement;
  private readonly note = el('p', { class: 'account-note' });
  private readonly throttle = new RenderThrottle(() => this.draw());
  private stopListening: (() => void) | undefined;
  private state: AccountViewState | undefined;
  private symbol = '';
  private signedOutText = SIGNED_OUT_TEXT;

  /** `prices` gives each instrument's price precision (the page feeds it the market prices it shows). */
  constructor(private readonly prices = new PricePrecisions()) {
    const frame = panelFrame('Account', 'account-panel', 'account');
    frame.header.append(this.badge, this.status);
    const figure = (name: string, value: HTMLElement): HTMLElement =>
      el('div', { class: 'figure' }, el('span', { class: 'figure-name', text: name }), value);
    this.figures.append(
      figure('Total value', this.totalValue),
      figure('Daily PnL', this.dailyPnl),
      figure('Win rate', this.winRate),
      figure('Open positions', this.openPositions),
    );
    this.details = el(
      'div',
      { class: 'account-details' },
      this.figures,
      this.more,
      el('h3', { text: 'Equity' }),
      this.equity.element,
      el('h3', { text: 'Positions' }),
      this.positions,
      el('h3', { text: 'Open orders' }),
      this.orders,
      el('h3', { text: 'Fills' }),
      this.fills,
    );
    frame.body.append(this.note, this.details);
    this.element = frame.section;
    this.throttle.schedule();
  }

  /** The instrument whose position the badge shows. */
  setSymbol(symbol: string): void {
    this.symbol = symbol;
    this.throttle.schedule();
  }

  show(view: View<AccountViewState>): void {
    this.stopListening?.();
    this.state = view.get();
    this.stopListening = view.subscribe((state) => {
      this.state = state;
      this.throttle.schedule();
    });
    this.throttle.schedule();
  }

  /** No token: the figures go, the panel says how to sign in (`reason` when a token was refused or cleared). */
  signOut(reason?: string): void {
    this.stopListening?.();
    this.stopListening = undefined;
    this.state = undefined;
    this.signedOutText = reason ?? SIGNED_OUT_TEXT;
    this.equity.clear();
    this.throttle.schedule();
  }

  private statusOf(state: AccountViewState | undefined): AccountStatus {
    if (!state) return 'signed-out';
    if (state.authenticated) return 'authenticated';
    return state.error ? 'error' : 'signed-out';
  }

  private draw(): void {
    const state = this.state;
    const status = this.statusOf(state);
    setAttr(this.status, 'data-state', status);
    setAttr(this.element, 'data-state', status);
    // The account has a connection of its own: its panel is stale on its own too.
    setAttr(
      this.element,
      'data-stale',
      state && status === 'authenticated' && !state.live ? 'true' : 'false',
    );
    if (status === 'authenticated' && state)
      setText(this.status, `${state.account ?? ''} · ${state.venue ?? ''}`);
    else if (status === 'error') setText(this.status, `refused: ${state?.error?.code ?? 'error'}`);
    else setText(this.status, state ? 'signing in…' : 'signed out');
    if (state?.error) this.status.title = state.error.message;
    this.details.hidden = !state;
    this.note.hidden = !!state && status !== 'error';
    setText(
      this.note,
      status === 'error' ? `The token was refused: ${state?.error?.message ?? ''}` : this.signedOutText,
    );
    if (!state) {
      this.drawBadge([]);
      return;
    }
    for (const f of state.fills) this.prices.note(f.symbol, f.price);
    const positions = [...state.positions.values()];
    this.drawBadge(positions);
    this.drawFigures(state);
    this.drawPositions(positions);
    this.drawOrders([...state.orders.values()]);
    this.drawFills(state.fills);
  }

  /** The account's currency (its PnL and margin are in it). */
  private currency(): string | undefined {
    return this.state?.dashboard?.currency ?? this.state?.summary?.currency;
  }

  private drawBadge(positions: readonly PositionJson[]): void {
    this.badge.hidden = !this.state;
    const mine = positions.filter((p) => p.symbol === this.symbol);
    const sides = [...new Set(mine.map((p) => p.side))];
    const side = sides.length === 0 ? 'flat' : sides.length === 1 ? (sides[0] as string) : 'hedged';
    setText(this.badge, side === 'flat' ? `${this.symbol} FLAT` : `${this.symbol} ${side.toUpperCase()}`);
    this.badge.className = `position-badge ${side}`;
    setAttr(this.badge, 'data-side', side);
  }

  private drawFigures(state: AccountViewState): void {
    const d = state.dashboard;
    const p = state.performance;
    const total = d?.total_value ?? p?.totalValue ?? state.summary?.equity;
    const daily = d?.daily_pnl ?? p?.dailyPnl;
    const currency = d?.currency ?? state.summary?.currency ?? '';
    setExact(
      this.totalValue,
      total === undefined ? '—' : `${moneyText(total, currency)} ${currency}`.trim(),
      total === undefined ? undefined : `${total} ${currency}`.trim(),
    );
    setExact(this.dailyPnl, signedMoneyText(daily, currency), daily);
    setAttr(this.dailyPnl, 'data-sign', signOf(daily));
    setText(this.winRate, fractionAsPercent(d?.win_rate ?? p?.winRate));
    if (p) this.winRate.title = `${p.wins} won · ${p.losses} lost round trips`;
    setText(this.openPositions, String(d?.open_positions ?? p?.openPositions ?? state.positions.size));

    const exposure = d?.exposure ?? p?.exposure;
    const drawdown = d?.max_drawdown ?? p?.maxDrawdown;
    const available = state.summary?.available;
    const money = (value: string | undefined): string => moneyText(value, currency);
    const signedMoney = (value: string | undefined): string => signedMoneyText(value, currency);
    // [name, shown, exact value, signed]
    const rows: [string, string, string | undefined, boolean][] = [
      [
        'Unrealized PnL',
        signedMoney(d?.unrealized_pnl ?? p?.unrealizedPnl),
        d?.unrealized_pnl ?? p?.unrealizedPnl,
        true,
      ],
      [
        'Realized PnL',
        signedMoney(d?.realized_pnl ?? p?.realizedPnl),
        d?.realized_pnl ?? p?.realizedPnl,
        true,
      ],
      ['Fees paid', money(d?.fees_paid ?? p?.feesPaid), d?.fees_paid ?? p?.feesPaid, false],
      ['Exposure', exposure === undefined ? '—' : roundDecimal(exposure, EXPOSURE_PLACES), exposure, false],
      ['Max drawdown', fractionAsPercent(drawdown), drawdown, false],
      ['Available', money(available), available, false],
    ];
    this.more.replaceChildren(
      ...rows.flatMap(([name, shown, value, signed]) => [
        el('dt', { text: name }),
        el('dd', {
          text: shown,
          ...(value !== undefined && value !== shown ? { title: value } : {}),
          attrs: { 'data-sign': signed ? signOf(value) : 'zero' },
        }),
      ]),
    );
  }

  private drawPositions(positions: readonly PositionJson[]): void {
    if (positions.length === 0) {
      this.positions.replaceChildren(el('div', { class: 'empty', text: 'no open positions' }));
      return;
    }
    this.positions.replaceChildren(
      ...positions.map((p) => {
        const distance = liquidationDistancePercent(p);
        const danger = distance !== undefined && distance < NEAR_LIQUIDATION_PERCENT;
        const stat = (name: string, value: string, cls = '', exactValue?: string): HTMLElement =>
          el(
            'span',
            {
              class: `stat ${cls}`.trim(),
              ...(exactValue !== undefined && exactValue !== value ? { title: exactValue } : {}),
            },
            el('span', { class: 'stat-name', text: name }),
            value,
          );
        const places = this.prices.places(p.symbol);
        const currency = this.currency();
        return el(
          'div',
          {
            class: `position-row ${p.side}`,
            testid: 'position-row',
            attrs: { 'data-symbol': p.symbol, 'data-side': p.side },
          },
          el('span', { class: `position-badge ${p.side}`, text: p.side === 'long' ? '▲ LONG' : '▼ SHORT' }),
          el('strong', { text: p.symbol }),
          stat('Size', sizeText(p.size), '', p.size),
          stat('Entry', priceText(p.entryPrice, places), '', p.entryPrice),
          stat('Mark', priceText(p.markPrice, places), '', p.markPrice),
          stat(
            'uPnL',
            signedMoneyText(p.unrealizedPnl, currency),
            `sign-${signOf(p.unrealizedPnl)}`,
            p.unrealizedPnl,
          ),
          stat('rPnL', signedMoneyText(p.realizedPnl, currency), '', p.realizedPnl),
          stat('Leverage', effectiveLeverage(p) ?? '—'),
          stat('Margin', `${moneyText(p.margin, currency)} (${p.marginMode})`, '', p.margin),
          stat('Liq. price', priceText(p.liquidationPrice, places), '', p.liquidationPrice),
          stat('Liq. distance', percentText(distance), danger ? 'danger' : ''),
          timeElement(p.timestamp, localDateTime(p.timestamp, true)),
        );
      }),
    );
  }

  private drawOrders(orders: readonly OrderJson[]): void {
    if (orders.length === 0) {
      this.orders.replaceChildren(el('div', { class: 'empty', text: 'no open orders' }));
      return;
    }
    const sorted = [...orders].sort((a, b) => b.createdAt - a.createdAt);
    this.orders.replaceChildren(
      ...sorted.map((o) =>
        el(
          'div',
          {
            class: `order-row ${o.side}`,
            testid: 'order-row',
            attrs: { 'data-symbol': o.symbol, 'data-side': o.side, 'data-order-id': o.orderId },
          },
          el('span', { class: `side ${o.side}`, text: o.side.toUpperCase() }),
          el('strong', { text: o.symbol }),
          el('span', { text: `${o.type}${o.reduceOnly ? ' · reduce-only' : ''}` }),
          exact(
            `${sizeText(o.filledSize)} / ${sizeText(o.size)} @ ${priceText(o.price, this.prices.places(o.symbol))}`,
            `${o.filledSize} / ${o.size} @ ${o.price ?? '—'}`,
          ),
          el('span', { class: 'dim', text: o.status }),
          timeElement(o.createdAt, localClock(o.createdAt)),
        ),
      ),
    );
  }

  private drawFills(fills: readonly FillJson[]): void {
    if (fills.length === 0) {
      this.fills.replaceChildren(el('div', { class: 'empty', text: 'no fills yet' }));
      return;
    }
    const newest = [...fills].sort((a, b) => b.time - a.time).slice(0, FILL_ROWS);
    this.fills.replaceChildren(
      ...newest.map((f) =>
        el(
          'div',
          {
            class: `fill-row ${f.side}`,
            testid: 'fill-row',
            attrs: { 'data-symbol': f.symbol, 'data-side': f.side, 'data-fill-id': f.fillId },
          },
          el('span', { class: `side ${f.side}`, text: f.side.toUpperCase() }),
          el('strong', { text: f.symbol }),
          exact(
            `${sizeText(f.size)} @ ${priceText(f.price, this.prices.places(f.symbol))}`,
            `${f.size} @ ${f.price}`,
          ),
          exact(
            `fee ${moneyText(f.fee, f.feeCurrency)} ${f.feeCurrency} · ${f.liquidity}${f.liquidation ? ' · liquidation' : ''}`,
            `fee ${f.fee} ${f.feeCurrency}`,
            'dim',
          ),
          exact(
            f.realizedPnl === undefined ? '' : `PnL ${signedMoneyText(f.realizedPnl, this.currency())}`,
            f.realizedPnl === undefined ? undefined : `PnL ${f.realizedPnl}`,
            `sign-${signOf(f.realizedPnl)}`,
          ),
          timeElement(f.time, localDateTime(f.time, true)),
        ),
      ),
    );
  }
}
