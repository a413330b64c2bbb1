import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SourcesView } from '../protocol/source-status.ts';
import type { CandleStore } from '../store/candle-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { ApiRateLimiter } from './api-rate-limit.ts';
import type { BudgetVerdict } from './history-budget.ts';
import type { LogRing } from '../telemetry/log-ring.ts';
import { answerAccountRequest, isAccountPath, sendAnswer, type AccountHttpOptions } from './account-http.ts';
import { answerHistoryRequest, HISTORY_PATH, type HistoryRules } from './history-endpoint.ts';
import { answerLogsRequest, LOGS_PATH } from './logs-endpoint.ts';
import { answerMarketRequest, MARKET_PATHS, type MarketEndpointsOptions } from './market-endpoints.ts';
import { pathOf, queryOf } from './request-url.ts';
import { answerSourceRequest, SOURCE_PATHS, type HttpAnswer } from './source-endpoints.ts';
import type { StaticFiles } from './static-files.ts';

export interface HttpRoutesOptions {
  /** GET /health: the status and body (src/gateway/health.ts). */
  readonly health: () => HttpAnswer;
  /** GET /health/ws-stats. */
  readonly wsStats: () => unknown;
  /** The feed's status behind /api/websocket/*; without it those answer 503. */
  readonly sources: (() => SourcesView) | undefined;
  /** Served at GET /metrics; without it /metrics is not found. */
  readonly metrics: Metrics | undefined;
  /** GET /api/candles. */
  readonly history: {
    readonly store: CandleStore;
    readonly rules: HistoryRules;
    /** True while the instrument's start-up history is still loading (the answer is marked partial). */
    readonly isLoading: (symbol: string) => boolean;
    /** Charges a valid request's `limit` to its client's history budget (none: no budget). */
    readonly budget?: (req: IncomingMessage, bars: number) => BudgetVerdict;
  };
  /** The recent warnings and errors served at GET /api/logs; without it /api/logs is not found. */
  readonly recentLogs?: LogRing | undefined;
  /** The request limit of every /api/ path, found or not. */
  readonly apiRateLimit: ApiRateLimiter;
  readonly now: () => number;
  readonly logger: Logger;
  /** The account endpoints (src/gateway/account-http.ts), under the same /api/ rate limit. */
  readonly accounts?: AccountHttpOptions;
  /**
   * The built dashboard (src/gateway/static-files.ts): every path outside /api/ that no route takes, GET and
   * HEAD, with no rate limit. Without it such paths are not found.
   */
  readonly staticFiles?: StaticFiles;
  /** GET /api/ticker, /api/book, /api/trades, /api/alerts (src/gateway/market-endpoints.ts). */
  readonly market?: MarketEndpointsOptions;
}

/** One route: the methods it answers (every other gets the one 405 answer) and its handler. */
interface Route {
  readonly methods: ReadonlySet<string>;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

const GET_HEAD: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * The gateway's HTTP side as one router: /health, /health/ws-stats, /api/candles, the source status endpoints
 * (/api/websocket/health, /sources, /active-source), /metrics and the dashboard's files. Every /api/ request
 * passes the API rate limit first; an unknown path is 404, a known one asked with another method 405, each
 * answered in one place.
 */
export function httpRoutes(o: HttpRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = new Map<string, Route>();
  routes.set('/health', {
    methods: GET_HEAD,
    handle: (_req, res) => {
      const answer = o.health();
      sendJson(res, answer.status, answer.body);
    },
  });
  routes.set('/health/ws-stats', {
    methods: GET_HEAD,
    handle: (_req, res) => sendJson(res, 200, o.wsStats()),
  });
  for (const path of SOURCE_PATHS) {
    routes.set(path, {
      methods: GET_HEAD,
      handle: (req, res) => {
        const answer = answerSourceRequest(path, queryOf(req.url), o.sources, (err) =>
          o.logger.warn({ err, path }, 'gateway: source status provider failed'),
        );
        sendJson(res, answer.status, answer.body);
      },
    });
  }
  routes.set(HISTORY_PATH, {
    methods: GET_HEAD,
    handle: (req, res) => {
      const { store, rules, isLoading, budget } = o.history;
      const charge = budget && ((bars: number) => budget(req, bars));
      void answerHistoryRequest(queryOf(req.url), store, rules, o.now(), isLoading, charge).then((answer) => {
        if (answer.status >= 500) o.logger.warn({ url: req.url }, 'gateway: history request failed');
        for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
        sendText(res, answer.status, answer.body);
      });
    },
  });
  const { market } = o;
  if (market) {
    for (const path of MARKET_PATHS) {
      routes.set(path, {
        methods: GET_HEAD,
        handle: (req, res) => {
          const answer = answerMarketRequest(path, queryOf(req.url), market);
          if (answer.text === undefined) {
            res.writeHead(answer.status);
            res.end();
          } else sendText(res, answer.status, answer.text);
        },
      });
    }
  }
  const { recentLogs } = o;
  if (recentLogs) {
    routes.set(LOGS_PATH, {
      methods: GET_HEAD,
      handle: (req, res) => {
        const answer = answerLogsRequest(queryOf(req.url), recentLogs);
        sendJson(res, answer.status, answer.body);
      },
    });
  }
  const { metrics } = o;
  if (metrics) {
    routes.set('/metrics', {
      methods: GET_HEAD,
      handle: (_req, res) => {
        void metrics.text().then(
          (text) => {
            res.writeHead(200, { 'content-type': metrics.contentType });
            res.end(text);
          },
          (err: unknown) => {
            o.logger.warn({ err }, 'gateway: metrics failed');
            sendJson(res, 500, { error: 'metrics unavailable' });
          },
        );
      },
    });
  }

  const serve = (req: IncomingMessage, res: ServerResponse, path: string, account: boolean): void => {
    if (account && o.accounts !== undefined && GET_HEAD.has(req.method ?? '')) {
      void answerAccountRequest(req, path, o.accounts).then(
        (answer) => sendAnswer(res, answer),
        (err: unknown) => {
          o.logger.warn({ err, path }, 'gateway: account request failed');
          sendJson(res, 500, { error: 'account data unavailable' });
        },
      );
      return;
    }
    const route = routes.get(path);
    if (route === undefined) {
      const { staticFiles } = o;
      if (staticFiles === undefined || path.startsWith('/api/')) sendJson(res, 404, { error: 'Not found' });
      else if (GET_HEAD.has(req.method ?? '')) staticFiles(req, res, path);
      else sendMethodNotAllowed(res, GET_HEAD);
      return;
    }
    if (!route.methods.has(req.method ?? '')) {
      sendMethodNotAllowed(res, route.methods);
      return;
    }
    route.handle(req, res);
  };

  return (req, res) => {
    const path = pathOf(req.url);
    const account = o.accounts !== undefined && isAccountPath(path);
    if (!path.startsWith('/api/') && !account) return serve(req, res, path, account);
    // Counted before it is served (the count may be Redis's, shared by every gateway).
    o.apiRateLimit.admit(req, res).then(
      (allowed) => {
        if (allowed) serve(req, res, path, account);
      },
      (err: unknown) => {
        o.logger.error({ err, path }, 'gateway: request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'request failed' });
      },
    );
  };
}

/** 405, with the `Allow` header RFC 9110 requires of it (and the same list in the body). */
function sendMethodNotAllowed(res: ServerResponse, methods: ReadonlySet<string>): void {
  const allow = [...methods].join(', ');
  res.setHeader('allow', allow);
  sendJson(res, 405, { error: 'Method not allowed', allow });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body));
}

/** Sends JSON text as it is. */
function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
