/**
 * tickwire/client: the client library for Tickwire's gateway (docs/CLIENT.md). Browser-safe: no Node built-ins;
 * on Node 20 pass the ws package's WebSocket.
 */
export { TickwireClient } from './tickwire-client.ts';
export { TickwireHttpError } from './http-api.ts';
export type * from './types.ts';
export type { AlertJson, BarJson, TradeJson } from '../protocol/server-messages.ts';
export type {
  AccountJson,
  DashboardJson,
  FillJson,
  OrderJson,
  PerformanceJson,
  PositionJson,
} from '../protocol/account-messages.ts';
