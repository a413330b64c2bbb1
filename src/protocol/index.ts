/**
 * `tickwire/protocol`: the WebSocket API as TypeScript sees it (docs/PROTOCOL.md, docs/ERRORS.md). The messages
 * a client sends and the validator the gateway applies to them, the messages the gateway sends, the bodies of the
 * source-status endpoints, and the error and close codes. The gateway's encoders stay internal.
 */
export type * from './client-messages.ts';
export { CHANNELS, DEFAULT_BOOK_DEPTH, MAX_BOOK_DEPTH, parseClientMessage } from './client-messages.ts';
export type * from './server-messages.ts';
export type * from './source-status.ts';
export { CLOSE_CODES, type CloseCode } from './close-codes.ts';
export { ERROR_CODES, type ErrorCode } from '../domain/errors.ts';
export type * from './account-messages.ts';
export { ACCOUNT_CHANNELS, ACCOUNT_MESSAGE_TYPES } from './account-messages.ts';
