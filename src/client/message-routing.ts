/**
 * Which room a gateway message belongs to, by its type and fields (docs/PROTOCOL.md). Messages of a type the
 * client does not know belong to none and are ignored: the protocol grows, and a client must not break on a
 * message it does not know.
 */
import { candleKey } from './candle-room.ts';
import { bookKey, tickerKey, tradesKey } from './market-rooms.ts';
import type { WireMessage } from './room.ts';

export const ALERTS_KEY = 'alerts';
export const ACCOUNT_KEY = 'account';

/** The room key of a data message (`authenticated`, `error`, `pong` and `subscribed` are not data). */
export function roomKeyOf(message: WireMessage): string | undefined {
  const symbol = String(message.symbol);
  switch (message.type) {
    case 'initial':
    case 'update':
    case 'revision':
      return candleKey(symbol, String(message.interval));
    case 'ticker':
      return tickerKey(symbol, typeof message.venue === 'string' ? message.venue : undefined);
    case 'book':
      return bookKey(symbol, String(message.venue));
    case 'trades':
      return tradesKey(symbol, String(message.venue));
    case 'alerts':
    case 'alert':
      return ALERTS_KEY;
    default:
      // Account channel messages (`dashboard_update`, `order_update`, …) carry `channel` and `seq`.
      return typeof message.seq === 'number' && typeof message.channel === 'string' ? ACCOUNT_KEY : undefined;
  }
}

/**
 * The room an `error` is about: a candle subscription (`symbol` and `interval`), a market channel (`channel`,
 * `venue`, `symbol`), the alerts, or the account (an account `channel`, or a token refusal). Undefined: the
 * error is about no room (an invalid message, the message rate, an INVALID_SYMBOL, which names its symbol only in
 * its text).
 */
export function errorRoomKeyOf(message: WireMessage): string | undefined {
  const code = String(message.code);
  const channel = typeof message.channel === 'string' ? message.channel : undefined;
  const symbol = typeof message.symbol === 'string' ? message.symbol : undefined;
  const venue = typeof message.venue === 'string' ? message.venue : undefined;
  if (channel === undefined && symbol !== undefined && typeof message.interval === 'string') {
    return candleKey(symbol, message.interval);
  }
  if (channel === 'alerts') return ALERTS_KEY;
  if (channel === 'ticker' && symbol !== undefined) return tickerKey(symbol, venue);
  if (channel === 'book' && symbol !== undefined && venue !== undefined) return bookKey(symbol, venue);
  if (channel === 'trades' && symbol !== undefined && venue !== undefined) return tradesKey(symbol, venue);
  if (channel !== undefined || code.startsWith('AUTH_') || code.startsWith('ACCOUNT')) return ACCOUNT_KEY;
  return undefined;
}
