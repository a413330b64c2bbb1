import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnBudget } from './turn-budget.ts';

/**
 * The loop's next check phase, where the budget's turn ends. A test's own code stands for what the loop ran before
 * it in the same iteration (timers, socket reads), without the loop polling in between.
 */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A budget whose time moves only as tasks say they took it. */
function budgetOf(budgetMs: number): { turns: TurnBudget; took: (ms: number) => void } {
  let now = 1_000;
  return { turns: new TurnBudget({ budgetMs, now: () => now }), took: (ms) => (now += ms) };
}

describe('TurnBudget', () => {
  it('runs tasks at once while the turn has time left', () => {
    const { turns } = budgetOf(10);
    const ran: number[] = [];
    for (let i = 0; i < 50; i++) turns.run({}, () => ran.push(i));
    assert.deepEqual(
      ran,
      Array.from({ length: 50 }, (_, i) => i),
      'tasks that take no time never wait',
    );
    assert.deepEqual(turns.stats(), { waiting: 0, deferred: 0 });
  });

  it('queues tasks once the turn has spent its budget and runs them in later turns, in order, a budget at a time', async () => {
    const { turns, took } = budgetOf(10);
    const a = {};
    const b = {};
    const ran: string[] = [];
    const task = (name: string) => () => {
      ran.push(name);
      took(4);
    };
    for (let i = 0; i < 9; i++) turns.run(i % 2 === 0 ? a : b, task(`t${i}`));
    // 0, 4 and 8 ms spent before each of the first three: the fourth finds 12 ms spent and waits.
    assert.deepEqual(ran, ['t0', 't1', 't2']);
    assert.deepEqual(turns.stats(), { waiting: 6, deferred: 6 });
    await nextTurn();
    assert.equal(ran.length, 3, "this iteration's budget is spent: its check phase runs nothing");
    await nextTurn();
    assert.deepEqual(
      ran,
      ['t0', 't1', 't2', 't3', 't4', 't5'],
      "the next iteration's check phase runs a budget",
    );
    // A task arriving while others wait goes behind them, whoever it belongs to.
    turns.run(a, task('late'));
    assert.equal(ran.length, 6);
    await nextTurn();
    assert.deepEqual(ran.slice(6), ['t6', 't7', 't8']);
    await nextTurn();
    assert.deepEqual(ran.slice(9), ['late']);
    assert.deepEqual(turns.stats(), { waiting: 0, deferred: 7 });
  });

  it('gives a fresh budget to the next turn once nothing waits', async () => {
    const { turns, took } = budgetOf(10);
    const ran: number[] = [];
    turns.run({}, () => took(15));
    turns.run({}, () => ran.push(1));
    assert.equal(ran.length, 0, 'the turn is spent');
    await nextTurn();
    await nextTurn();
    assert.deepEqual(ran, [1]);
    await nextTurn();
    turns.run({}, () => ran.push(2));
    assert.deepEqual(ran, [1, 2], 'a new turn runs at once');
  });

  it('flushes one owner’s waiting tasks in order and leaves the others waiting', async () => {
    const { turns, took } = budgetOf(1);
    const a = {};
    const b = {};
    const ran: string[] = [];
    turns.run(a, () => {
      ran.push('a0');
      took(2);
    });
    turns.run(b, () => ran.push('b1'));
    turns.run(a, () => ran.push('a2'));
    turns.run(b, () => ran.push('b3'));
    turns.run(a, () => ran.push('a4'));
    turns.flush(a);
    assert.deepEqual(ran, ['a0', 'a2', 'a4']);
    assert.equal(turns.stats().waiting, 2);
    turns.flush({});
    assert.equal(turns.stats().waiting, 2, 'an owner with nothing waiting flushes nothing');
    await nextTurn();
    await nextTurn();
    assert.deepEqual(ran, ['a0', 'a2', 'a4', 'b1', 'b3']);
  });

  it('lets an awaited input go on at once with time left, in a later turn behind the waiting ones otherwise', async () => {
    const { turns, took } = budgetOf(10);
    const order: string[] = [];
    await turns.turn({});
    order.push('at once');
    turns.run({}, () => took(12));
    turns.run({}, () => order.push('frame'));
    const answer = turns.turn({}).then(() => order.push('answer'));
    await Promise.resolve();
    assert.deepEqual(order, ['at once'], 'the turn is spent: both wait');
    await nextTurn();
    await answer;
    assert.deepEqual(order, ['at once', 'frame', 'answer']);
  });

  it('releases awaited turns one at a time, each once the one before has gone on, a budget at a time', async () => {
    const { turns, took } = budgetOf(10);
    turns.run({}, () => took(12));
    const went: number[] = [];
    // REST answers waiting for the budget; each one's processing takes 4 ms once it goes on.
    const answers = Array.from({ length: 6 }, async (_, i) => {
      await turns.turn({});
      went.push(i);
      took(4);
    });
    await Promise.resolve();
    assert.deepEqual(went, [], 'the turn is spent: all wait');
    await nextTurn();
    await nextTurn();
    // 0, 4 and 8 ms spent before each of the first three: the fourth finds 12 ms spent and waits.
    assert.deepEqual(went, [0, 1, 2]);
    await nextTurn();
    assert.deepEqual(went, [0, 1, 2, 3, 4, 5]);
    await Promise.all(answers);
    assert.deepEqual(turns.stats(), { waiting: 0, deferred: 6 });
  });

  it('leaves waiting tasks to the next check phase when the tasks before this one spent the budget', async () => {
    const { turns, took } = budgetOf(10);
    const ran: string[] = [];
    // Before the check phase (socket reads in the poll phase): 13 ms of tasks, the next ones wait.
    turns.run({}, () => took(6));
    turns.run({}, () => took(7));
    for (const name of ['a', 'b', 'c', 'd']) {
      turns.run({}, () => {
        ran.push(name);
        took(3);
      });
    }
    assert.deepEqual(ran, []);
    await nextTurn();
    assert.deepEqual(ran, [], 'the check phase that follows them without a poll runs nothing');
    await nextTurn();
    assert.deepEqual(
      ran,
      ['a', 'b', 'c', 'd'],
      'the next one runs a whole budget: 0, 3, 6 and 9 ms spent before each',
    );
    assert.deepEqual(turns.stats(), { waiting: 0, deferred: 4 });
  });

  it('runs a long loop in slices, each a task of the budget, every index once and in order', async () => {
    const { turns, took } = budgetOf(10);
    const slices: [number, number][] = [];
    const done = turns.inSlices({}, 25, 10, (start, end) => {
      slices.push([start, end]);
      took(6);
    });
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(
      slices,
      [
        [0, 10],
        [10, 20],
      ],
      'the third slice finds 12 ms spent and waits',
    );
    await nextTurn();
    await nextTurn();
    await done;
    assert.deepEqual(slices, [
      [0, 10],
      [10, 20],
      [20, 25],
    ]);
    assert.deepEqual(turns.stats(), { waiting: 0, deferred: 1 });
  });

  it('refuses a budget that is not positive', () => {
    assert.throws(() => new TurnBudget({ budgetMs: 0 }), /turn budget must be positive, got 0/);
    assert.throws(() => new TurnBudget({ budgetMs: Number.NaN }), /turn budget must be positive/);
  });
});
