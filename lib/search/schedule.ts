/**
 * Running jobs over a fixed number of parallel slots. Knows nothing of MLflow, models or trials: a *strategy*
 * says which job starts next and hears every result; a *run* function does one job in one slot; a stop
 * condition, checked before every start, ends the scheduling (running jobs finish, nothing new starts).
 *
 * `listStrategy` runs a fixed list in order (grid and random search). Adaptive strategies — successive halving
 * over epochs, a model-based sampler proposing the next configuration from finished ones — implement the same
 * interface: `next()` may answer `WAIT` ("nothing to start until a running job reports") and `report()` feeds
 * them the results.
 */

/** `Strategy.next()`'s answer when nothing can start until a running job reports. */
export const WAIT: unique symbol = Symbol('wait');

/** Decides what runs: asked for the next job whenever a slot is free, told every result. */
export interface Strategy<J, R> {
  /** The next job to start; `WAIT` to wait for a running job's result first; null when there is nothing more. */
  next(): J | typeof WAIT | null;
  /** A finished job's result (called before its slot asks `next()` again). */
  report?(job: J, result: R): void;
}

export interface ScheduleOptions {
  /** Parallel slots (at least 1). Slot numbers 0 … slots-1 are passed to `run`. */
  slots: number;
  /** Checked before every start: true stops scheduling (running jobs still finish). */
  stop?: () => boolean;
}

export interface ScheduleResult<J, R> {
  /** The jobs that ran, in the order they were started (plan order for `listStrategy`). */
  jobs: J[];
  /** Their results, index-aligned with `jobs`. */
  results: R[];
  /** True when the stop condition ended the scheduling. */
  stopped: boolean;
}

/** A strategy running `jobs` in order, each once. */
export function listStrategy<J, R = unknown>(jobs: readonly J[]): Strategy<J, R> {
  let next = 0;
  return { next: () => (next < jobs.length ? jobs[next++]! : null) };
}

/**
 * Runs what `strategy` proposes over `options.slots` slots: each slot asks for a job, runs it, reports the
 * result and asks again, until the strategy has nothing more or the stop condition holds. Resolves when every
 * slot is idle; rejects with the first error `run` throws (jobs already running in other slots are not
 * cancelled). A strategy answering `WAIT` while nothing runs is finished.
 */
export async function schedule<J, R>(
  strategy: Strategy<J, R>,
  run: (job: J, slot: number) => Promise<R>,
  options: ScheduleOptions,
): Promise<ScheduleResult<J, R>> {
  if (!(Number.isInteger(options.slots) && options.slots >= 1))
    throw new RangeError(`slots must be a positive integer, got ${options.slots}`);
  const jobs: J[] = [];
  const results: R[] = [];
  let stopped = false;
  let running = 0;
  let waiting: Array<() => void> = [];
  const wake = () => {
    const w = waiting;
    waiting = [];
    for (const resolve of w) resolve();
  };

  const slot = async (s: number): Promise<void> => {
    for (;;) {
      if (options.stop?.()) {
        stopped = true;
        return;
      }
      const job = strategy.next();
      if (job === null) return;
      if (job === WAIT) {
        if (running === 0) return;
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const i = jobs.length;
      jobs.push(job);
      running++;
      try {
        const result = await run(job, s);
        results[i] = result;
        strategy.report?.(job, result);
      } finally {
        running--;
        wake();
      }
    }
  };

  await Promise.all(Array.from({ length: options.slots }, (_, s) => slot(s)));
  return { jobs, results, stopped };
}
