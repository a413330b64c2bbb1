import { isLogLevelName, type LogRing } from '../telemetry/log-ring.ts';
import type { HttpAnswer } from './source-endpoints.ts';

/** The path of the recent warnings and errors. */
export const LOGS_PATH = '/api/logs';

/**
 * GET /api/logs[?level=warn|error|fatal] — the process's recent warnings and errors (redacted like its log
 * lines), oldest first, newest last: `{"logs": [{"level", "time", "msg", "fields"}]}`. `level` keeps that level
 * and the more severe ones (default warn: everything kept).
 */
export function answerLogsRequest(query: URLSearchParams, ring: LogRing): HttpAnswer {
  const level = query.get('level') ?? 'warn';
  if (!isLogLevelName(level) || !['warn', 'error', 'fatal'].includes(level)) {
    return {
      status: 400,
      body: {
        error: {
          code: 'INVALID_LEVEL',
          message: `Invalid level: ${level.slice(0, 20)}. Use warn, error or fatal`,
        },
      },
    };
  }
  return { status: 200, body: { logs: ring.recent(level) } };
}
