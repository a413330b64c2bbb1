/**
 * Bulk work shares the main thread's event loop with timers, client sockets and the fan-out: venue frames (the
 * order-book snapshots of every instrument after a connect, a backlog read after a pause), REST answers, start-up
 * history applied, bars read from the database decoded and encoded for clients. Done in one go, a burst of it holds
 * everything else back for its whole length. A TurnBudget runs such tasks at once while the loop's current turn has
 * spent less than `budgetMs` since its first task; past that, tasks wait in arrival order (across every owner that
 * shares the budget) and run in later turns, `budgetMs` at a time, with timers and sockets served in between.
 *
 * A turn ends at the loop's check phase (`setImmediate`), scheduled only in turns that ran or queued a task. The
 * check phase follows the poll phase's callbacks without the loop polling in between, so the waiting tasks it runs
 * share the budget with the tasks the same iteration ran before it.
 */

/** A task (a frame's processing, a slice of bars), with the owner it belongs to (`flush` runs one owner's tasks). */
interface Waiting {
  readonly owner: object;
  readonly run: () => void;
  /**
   * True for an awaited turn (`turn`): `run` only releases it, and its owner's work goes on in a microtask after
   * `run` returns.
   */
  readonly releases: boolean;
}

export interface TurnBudgetOptions {
  /** Bulk-work time per turn of the event loop, ms (default 10). */
  readonly budgetMs?: number;
  /** Monotonic time, ms (default `performance.now`). The budget is the process's own time, never a test clock. */
  readonly now?: () => number;
}

/** Default bulk-work time per turn: a fifth of the event-loop stall budget (50 ms), leaving room for the rest. */
export const DEFAULT_TURN_BUDGET_MS = 10;

export class TurnBudget {
  private readonly budgetMs: number;
  private readonly now: () => number;
  private readonly waiting: Waiting[] = [];
  /** Start of the current turn's work; undefined until a task runs in it. */
  private turnStart: number | undefined;
  /** True when the current turn began in a check phase (`endTurn`), false when a task began it since. */
  private turnFromCheck = false;
  private turnEndScheduled = false;
  /** Tasks that waited for a later turn since start. */
  private deferredTotal = 0;

  constructor(options: TurnBudgetOptions = {}) {
    const budgetMs = options.budgetMs ?? DEFAULT_TURN_BUDGET_MS;
    if (!(budgetMs > 0)) throw new RangeError(`turn budget must be positive, got ${budgetMs}`);
    this.budgetMs = budgetMs;
    this.now = options.now ?? (() => performance.now());
  }

  /** Runs `task` now when the turn has budget left and nothing waits; otherwise queues it behind the others. */
  run(owner: object, task: () => void): void {
    this.enter(owner, task, false);
  }

  /**
   * Resolves when `owner` may go on under the budget: at once while the turn has time left and nothing waits,
   * in a later turn otherwise. For work that continues after an await: input that arrives as a promise (a REST
   * answer), a slice of a long loop.
   */
  turn(owner: object): Promise<void> {
    return new Promise((resolve) => this.enter(owner, resolve, true));
  }

  /**
   * Runs `slice(start, end)` over [0, `length`), `size` items at a time, each slice once `owner` may go on under the
   * budget (`turn`): a long loop of bulk work (bars decoded or encoded by the thousand) as tasks of the budget.
   */
  async inSlices(
    owner: object,
    length: number,
    size: number,
    slice: (start: number, end: number) => void,
  ): Promise<void> {
    for (let start = 0; start < length; start += size) {
      await this.turn(owner);
      slice(start, Math.min(start + size, length));
    }
  }

  /**
   * Runs `owner`'s waiting tasks now, in order, and drops them from the queue: a connection that closes has
   * every frame it received processed first, as when frames never waited.
   */
  flush(owner: object): void {
    if (this.waiting.length === 0) return;
    const mine: Waiting[] = [];
    for (let i = 0; i < this.waiting.length;) {
      const w = this.waiting[i] as Waiting;
      if (w.owner === owner) {
        mine.push(w);
        this.waiting.splice(i, 1);
      } else i++;
    }
    for (const w of mine) w.run();
  }

  /** Tasks waiting for a later turn now, and in all since start. */
  stats(): { readonly waiting: number; readonly deferred: number } {
    return { waiting: this.waiting.length, deferred: this.deferredTotal };
  }

  private enter(owner: object, task: () => void, releases: boolean): void {
    if (this.waiting.length === 0 && this.spent() < this.budgetMs) {
      this.startTurn();
      task();
      return;
    }
    this.waiting.push({ owner, run: task, releases });
    this.deferredTotal++;
    this.scheduleTurnEnd();
  }

  private spent(): number {
    return this.turnStart === undefined ? 0 : this.now() - this.turnStart;
  }

  private startTurn(): void {
    if (this.turnStart !== undefined) return;
    this.turnStart = this.now();
    this.turnFromCheck = false;
    this.scheduleTurnEnd();
  }

  private scheduleTurnEnd(): void {
    if (this.turnEndScheduled) return;
    this.turnEndScheduled = true;
    setImmediate(this.endTurn);
  }

  /**
   * The check phase: waiting tasks run for what is left of the budget of this iteration of the loop (tasks that
   * began a turn since the last check phase spent part of it), the rest in the next iterations' check phases, a
   * budget at a time.
   */
  private readonly endTurn = (): void => {
    this.turnEndScheduled = false;
    const spentThisIteration = this.turnStart !== undefined && !this.turnFromCheck ? this.spent() : 0;
    this.turnStart = undefined;
    if (this.waiting.length === 0) return;
    if (spentThisIteration >= this.budgetMs) {
      // Spent before the check phase: the loop polls first, the waiting tasks run in the next one.
      this.scheduleTurnEnd();
      return;
    }
    this.turnStart = this.now() - spentThisIteration;
    this.turnFromCheck = true;
    this.scheduleTurnEnd();
    this.runWaiting();
    // The next turn's end, scheduled above, carries on with whatever is left.
  };

  /**
   * Runs waiting tasks while the turn has time left. An awaited turn's owner goes on only after `run` returns (a
   * REST answer parsed, a history applied), so the next task waits for that microtask: each release counts the
   * work of the one before, where releasing every awaited turn at once let all of their work run in one turn.
   */
  private readonly runWaiting = (): void => {
    while (this.waiting.length > 0 && this.spent() < this.budgetMs) {
      const next = this.waiting.shift() as Waiting;
      next.run();
      if (next.releases) {
        queueMicrotask(this.runWaiting);
        return;
      }
    }
  };
}

/**
 * The budget the process's main thread shares: the stream frames and REST answers of every venue, the start-up
 * history applied, and the database reads decoded and encoded for clients count against one turn.
 */
export const mainThreadTurns = new TurnBudget();

/**
 * Socket-write time per turn of the fan-out's ticks: two fifths of the 50 ms stall budget, twice what bulk work gets,
 * as sending is what the loop is for.
 */
const FAN_OUT_TURN_BUDGET_MS = 20;

/**
 * The budget the rooms' ticks release their clients' writes under (src/gateway/tick-writes.ts): apart from the bulk
 * work's, so that a tick never waits behind a database read's encoding, and a tick's writes hold the event loop at
 * most this long per turn.
 */
export const fanOutTurns = new TurnBudget({ budgetMs: FAN_OUT_TURN_BUDGET_MS });

/**
 * The budget client input is handled under (src/gateway/client-connections.ts): WebSocket handshakes and the
 * messages clients send. A reconnect storm (thousands of clients back at once after a restart, each with its
 * subscribes) then holds the event loop at most this long per turn, with the fan-out's ticks, timers and the
 * sockets' reads served between; the rest waits for the next turns, in arrival order.
 */
export const clientInputTurns = new TurnBudget();
