import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bar } from '../../src/client/types.ts';
import { barTime, planChartUpdate, type ChartChange } from '../../dashboard/src/chart-updates.ts';

function bar(minute: number, close: number): Bar {
  return {
    time: new Date(Date.UTC(2026, 11, 3, 10, minute)).toISOString(),
    open: 100,
    high: 110,
    low: 90,
    close,
    volume: 1,
    quoteVolume: 100,
    trades: 3,
    closed: false,
    sources: ['binance'],
    backfilled: false,
  };
}

/** The chart holds minutes 0..4; the newest is minute 4. */
const shown = new Set([0, 1, 2, 3, 4].map((m) => barTime(bar(m, 0))));
const newest = barTime(bar(4, 0));

describe('chart updates', () => {
  it('moves the newest bar and appends a new one in place', () => {
    const changes: ChartChange[] = [
      { kind: 'update', bar: bar(4, 101) },
      { kind: 'append', bar: bar(5, 102) },
      { kind: 'update', bar: bar(5, 103) },
    ];
    const plan = planChartUpdate(changes, shown, newest, 50);
    assert.equal(plan.redraw, false);
    assert.deepEqual(plan.redraw ? [] : plan.steps.map((s) => [s.bar.close, s.historical]), [
      [101, false],
      [102, false],
      [103, false],
    ]);
  });

  it('replaces a revised past bar in place, by its time', () => {
    const plan = planChartUpdate([{ kind: 'revision', bar: bar(2, 95) }], shown, newest, 50);
    assert.equal(plan.redraw, false);
    if (!plan.redraw) {
      assert.equal(plan.steps[0]?.historical, true);
      assert.equal(plan.steps[0]?.time, barTime(bar(2, 0)));
    }
  });

  it('redraws everything for a past bar the chart does not hold, a reset, or too many changes', () => {
    assert.equal(planChartUpdate([{ kind: 'revision', bar: bar(-5, 1) }], shown, newest, 50).redraw, true);
    assert.equal(planChartUpdate([{ kind: 'reset' }], shown, newest, 50).redraw, true);
    const many: ChartChange[] = Array.from({ length: 51 }, (_, i) => ({ kind: 'update', bar: bar(4, i) }));
    assert.equal(planChartUpdate(many, shown, newest, 50).redraw, true);
  });

  it('lets a bar appended in this draw be revised in the same draw', () => {
    const plan = planChartUpdate(
      [
        { kind: 'append', bar: bar(5, 1) },
        { kind: 'append', bar: bar(6, 2) },
        { kind: 'revision', bar: bar(5, 3) },
      ],
      shown,
      newest,
      50,
    );
    assert.equal(plan.redraw, false);
    if (!plan.redraw)
      assert.deepEqual(
        plan.steps.map((s) => s.historical),
        [false, false, true],
      );
  });
});
