import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { serviceSkip, testRedisPrefix, TEST_REDIS_URL } from '../../test/support/services.ts';
import { ALERT_CHANNEL, decodeAlert, publishAlert } from '../bus/alert-message.ts';
import { settle, waitUntil } from '../bus/bus.contract.ts';
import { RedisBus } from '../bus/redis-bus.ts';
import { loadConfig } from '../config/config.ts';
import { newAlert } from '../domain/alert.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { openBus, registerBusMetrics } from './backends.ts';

describe('openBus (tickwire all on Redis)', { skip: await serviceSkip('redis') }, () => {
  it('starts with the alert log’s recent alerts, as a gateway does, and counts them in /metrics', async () => {
    const prefix = testRedisPrefix();
    const config = loadConfig({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix });
    const earlier = await openBus(config, silentLogger());
    const alerts = [
      newAlert({ severity: 'warning', kind: 'source_stale', message: 'before the restart 0' }),
      newAlert({ severity: 'info', kind: 'source_recovered', message: 'before the restart 1' }),
    ];
    for (const alert of alerts) publishAlert(earlier, alert);
    assert.ok(earlier instanceof RedisBus);
    await waitUntil(() => earlier.stats().published === 2, 'the alerts in the log');
    await earlier.close();

    const restarted = await openBus(config, silentLogger());
    const metrics = new Metrics({ role: 'all' });
    registerBusMetrics(metrics, restarted);
    try {
      const got: string[] = [];
      restarted.subscribe(ALERT_CHANNEL, (m) => got.push(decodeAlert(m).id));
      await settle(restarted);
      await waitUntil(() => got.length === 2, 'the alerts from before the restart');
      assert.deepEqual(
        got,
        alerts.map((a) => a.id),
      );
      const text = await metrics.registry.metrics();
      assert.match(text, /^tickwire_bus_backlog_total\{role="all"\} 2$/m);
      assert.match(text, /^tickwire_bus_replayed_total\{role="all"\} 0$/m);
    } finally {
      await restarted.close();
      const raw = new Redis(TEST_REDIS_URL);
      await raw.del(`${prefix}${ALERT_CHANNEL}:log`);
      await raw.quit();
    }
  });
});
