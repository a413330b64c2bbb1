import { TurnBudget } from './turn-budget.ts';

/** A budget no task ever waits for: a test's steps then do not depend on how fast the machine is. */
export function unlimitedTurns(): TurnBudget {
  return new TurnBudget({ budgetMs: Number.POSITIVE_INFINITY });
}

/**
 * A budget that every `turn()` finds spent, as on a machine where each slice of work takes a whole budget: each
 * slice after the first runs in a check phase of its own, with the loop's other work between. `turns` counts the
 * calls.
 */
export class SlicingTurns extends TurnBudget {
  turns = 0;
  private readonly time: { now: number };

  constructor() {
    const time = { now: 0 };
    super({ budgetMs: 1, now: () => time.now });
    this.time = time;
  }

  override turn(owner: object): Promise<void> {
    this.turns++;
    this.time.now += 1;
    return super.turn(owner);
  }
}

/**
 * Runs `work` and counts the loop's check phases (a `setImmediate` each) that pass before it settles: how many
 * times other work could run in between.
 */
export async function checkPhasesDuring<T>(work: () => Promise<T>): Promise<{ result: T; phases: number }> {
  let phases = 0;
  let done = false;
  const tick = (): void => {
    if (done) return;
    phases++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await work(), phases };
  } finally {
    done = true;
  }
}
