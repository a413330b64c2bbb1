import type { PositionJson } from '../../src/protocol/account-messages.ts';

/**
 * Risk figures of an open position that the account channels do not send but a trader wants at a glance. They are
 * computed here for display only (doubles are fine for a percentage shown with two decimals); the received
 * amounts themselves are always shown as the exact strings that arrived.
 */

/**
 * How far the price may move against the position before liquidation, in percent of the mark price (the entry
 * price when no mark has arrived): `(mark − liquidation) / mark` for a long, `(liquidation − mark) / mark` for a
 * short. Negative means past the liquidation price. Undefined without a liquidation price.
 */
export function liquidationDistancePercent(
  position: Pick<PositionJson, 'side' | 'markPrice' | 'entryPrice' | 'liquidationPrice'>,
): number | undefined {
  if (position.liquidationPrice === undefined) return undefined;
  const reference = Number(position.markPrice ?? position.entryPrice);
  const liquidation = Number(position.liquidationPrice);
  if (!Number.isFinite(reference) || !Number.isFinite(liquidation) || reference <= 0) return undefined;
  const gap = position.side === 'long' ? reference - liquidation : liquidation - reference;
  return (gap / reference) * 100;
}

/** Below this distance the position is shown as in danger. */
export const NEAR_LIQUIDATION_PERCENT = 5;

/** Notional value at the mark (or entry) price: size × price. */
export function notionalValue(position: Pick<PositionJson, 'size' | 'markPrice' | 'entryPrice'>): number {
  return Math.abs(Number(position.size)) * Number(position.markPrice ?? position.entryPrice);
}

/**
 * The leverage to show: the venue's when it sends one, otherwise notional / margin. `undefined` when neither is
 * known (no margin).
 */
export function effectiveLeverage(
  position: Pick<PositionJson, 'leverage' | 'size' | 'markPrice' | 'entryPrice' | 'margin'>,
): string | undefined {
  if (position.leverage !== undefined) return position.leverage + '×';
  const margin = Number(position.margin);
  if (!Number.isFinite(margin) || margin <= 0) return undefined;
  return (notionalValue(position) / margin).toFixed(2) + '×';
}
