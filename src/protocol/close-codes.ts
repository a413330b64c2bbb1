/**
 * WebSocket close codes the gateway uses. 1000–1015 are the standard codes of RFC 6455; 4000–4999 are
 * Tickwire's own. docs/ERRORS.md lists them with what a client should do.
 */
export const CLOSE_CODES = {
  /** The server is shutting down; reconnect (to another instance) after a short backoff. */
  GOING_AWAY: 1001,
  /** A text frame was not valid UTF-8 (sent by the WebSocket layer itself). */
  INVALID_PAYLOAD: 1007,
  /** A frame was larger than the gateway's maxPayloadBytes (sent by the WebSocket layer itself). */
  MESSAGE_TOO_BIG: 1009,
  /** The client did not read its messages fast enough; its send buffer passed maxBufferedBytes. */
  SLOW_CONSUMER: 4008,
  /** A token given on the upgrade (`?token=`, or required on /ws/dashboard) is missing, invalid or expired. */
  UNAUTHORIZED: 4401,
  /** The connection's account token expired; get a new one and reconnect (or renew it before, with `auth`). */
  TOKEN_EXPIRED: 4440,
  /** The client kept sending after being rate limited (more than twice maxMessagesPerSecond in one second). */
  FLOODING: 4029,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];
