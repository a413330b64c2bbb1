import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SourcesView } from '../protocol/source-status.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { registerSourceMetrics } from './source-metrics.ts';

const VIEW: SourcesView = {
  instruments: [
    {
      symbol: 'BTC/USDT',
      activeSource: 'okx',
      primary: 'binance',
      sources: [
        {
          exchange: 'binance',
          connected: false,
          latency: null,
          lastUpdate: null,
          messagesReceived: 7,
          errors: 2,
          healthy: false,
        },
        {
          exchange: 'okx',
          connected: true,
          latency: 35,
          lastUpdate: 1,
          messagesReceived: 40,
          errors: 0,
          healthy: true,
        },
      ],
    },
  ],
};

function lines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`));
}

describe('registerSourceMetrics', () => {
  it('reports every source of every instrument at scrape time, and nothing while no feed runs here', async () => {
    const metrics = new Metrics({ role: 'ingest' });
    let view: SourcesView | undefined = undefined;
    registerSourceMetrics(metrics, () => view);
    assert.deepEqual(lines(await metrics.text(), 'tickwire_source_connected'), []);

    view = VIEW;
    const text = await metrics.text();
    const labels = (venue: string) => `{venue="${venue}",symbol="BTC/USDT",role="ingest"}`;
    assert.deepEqual(lines(text, 'tickwire_source_connected'), [
      `tickwire_source_connected${labels('binance')} 0`,
      `tickwire_source_connected${labels('okx')} 1`,
    ]);
    assert.deepEqual(lines(text, 'tickwire_source_active'), [
      `tickwire_source_active${labels('binance')} 0`,
      `tickwire_source_active${labels('okx')} 1`,
    ]);
    assert.deepEqual(
      lines(text, 'tickwire_source_latency_seconds'),
      [`tickwire_source_latency_seconds${labels('okx')} 0.035`],
      'no latency measured: no sample',
    );
    assert.deepEqual(lines(text, 'tickwire_source_latency_ms'), [
      `tickwire_source_latency_ms${labels('okx')} 35`,
    ]);
    assert.deepEqual(lines(text, 'tickwire_source_errors_total'), [
      `tickwire_source_errors_total${labels('binance')} 2`,
      `tickwire_source_errors_total${labels('okx')} 0`,
    ]);
  });
});
