import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { TestClient } from '../../test/gateway/helpers.ts';
import { printableConfig } from '../config/config.ts';
import { LogRing } from '../telemetry/log-ring.ts';
import { createLogger } from '../telemetry/logger.ts';
import { Metrics } from '../telemetry/metrics.ts';
import {
  accountsConfig,
  AUTH_SECRET,
  BITGET_CREDENTIALS,
  STATIC_TOKEN,
  startAccountGateway,
} from './account-channels.test-support.ts';

test('no credential or token appears in logs, errors, client messages, metrics or config dumps', async () => {
  const lines: string[] = [];
  const recentLogs = new LogRing(1000);
  const logger = createLogger({
    level: 'trace',
    format: 'json',
    destination: { write: (s: string) => lines.push(s) },
    recent: recentLogs,
  });
  const metrics = new Metrics({ role: 'gateway' });
  const g = await startAccountGateway({ logger, recentLogs, metrics });
  const seen: string[] = [];
  try {
    const jwt = await g.auth.issue('alpha', 60_000);
    const config = accountsConfig();
    // Everything a log line might be made of: the whole configuration, logged as objects and errors.
    logger.info({ config }, 'config');
    logger.warn({ accounts: config.accounts, auth: config.auth }, 'accounts');
    logger.error(
      { err: new Error(`with ${String(config.auth.secret)}`), credentials: BITGET_CREDENTIALS },
      'e',
    );
    logger.warn({ headers: { 'ACCESS-SIGN': 'sig', 'ACCESS-KEY': BITGET_CREDENTIALS.apiKey } }, 'request');
    seen.push(
      JSON.stringify(printableConfig(config)),
      inspect(config, { depth: 10 }),
      `${String(config.auth.secret)}`,
    );

    const good = await TestClient.connect(`${g.gateway.url}/ws?token=${jwt}`);
    good.send({ type: 'subscribe', channel: 'dashboard' });
    good.send({ type: 'auth', token: STATIC_TOKEN });
    good.send({ type: 'auth', token: AUTH_SECRET });
    await good.roundTrip();
    const bad = await TestClient.connect(`${g.gateway.url}/ws?token=${AUTH_SECRET}`);
    await bad.closed;
    g.sources.alpha.alert({
      severity: 'critical',
      kind: 'account_login_failed',
      venue: 'bitget',
      message: 'bitget login refused (30005)',
    });
    const dash = await TestClient.connect(`${g.gateway.url}/ws/dashboard?token=${jwt}`);
    await dash.roundTrip();
    g.clock.advance(60_000);
    await good.closed;
    for (const c of [good, bad, dash]) seen.push(...c.messages.map((m) => JSON.stringify(m)));
    dash.close();
    for (const path of [
      '/metrics',
      '/api/logs',
      '/health/ws-stats',
      '/api/account/fills',
      '/ws/status/alpha',
    ]) {
      const res = await fetch(`${g.httpUrl}${path}`, { headers: { authorization: `Bearer ${AUTH_SECRET}` } });
      seen.push(await res.text());
    }
    seen.push(...lines);
    const everything = seen.join('\n');
    assert.ok(lines.length > 3 && everything.includes('[Redacted]'), 'the test saw logs with redactions');
    for (const secret of [...Object.values(BITGET_CREDENTIALS), AUTH_SECRET, STATIC_TOKEN]) {
      assert.ok(!everything.includes(secret), `a secret leaked: ${secret.slice(0, 6)}…`);
    }
    assert.ok(!lines.join('\n').includes(jwt), 'a token was logged');
  } finally {
    await g.close();
    metrics.close();
  }
});
