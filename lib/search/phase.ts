/**
 * One phase of a search (the search trials, then the final refits): reuse what MLflow already has, schedule
 * the rest over the parallel slots, execute each as a child run, show progress with the best score so far.
 * Stops starting trials on an interrupt and then throws an AbortedError (after the running ones finished).
 */
import { defaultThreads } from '../compute/pool';
import type { ProgressOutput } from '../util/progress';
import { type ExecuteContext, executeTrial } from './execute';
import type { PlannedTrial } from './plan';
import { type BestSoFar, PhaseProgress, phaseLabel } from './progress';
import type { TrialResult } from './result';
import { reuseFinished } from './reuse';
import { listStrategy, type Strategy, schedule } from './schedule';
import type { TrialStore } from './store';

export interface PhaseContext {
  /** The search's name (the progress label starts with it). */
  name: string;
  store: TrialStore | null;
  /** Recompute instead of reusing (see ./reuse.ts). */
  fresh: boolean;
  /** Trials at once at most (also the worker count). */
  parallel: number;
  /** Everything executing a trial needs but the per-trial thread count (set per phase). */
  execute: Omit<ExecuteContext, 'threads'>;
  /** A new tracker of the best selection score (one per phase). */
  best: () => BestSoFar;
  progress?: ProgressOutput;
  /** Called with every result (reused, ran or failed) as it is known. */
  record: (r: TrialResult) => void;
  /** What runs next (default: the to-do trials in plan order). */
  strategy?: (todo: PlannedTrial[]) => Strategy<PlannedTrial, TrialResult | null>;
  log: (line: string) => void;
}

/** Runs `plan` as phase `phase` (see the module comment); returns how many earlier runs were superseded. */
export async function runPhase(plan: PlannedTrial[], phase: string, ctx: PhaseContext): Promise<number> {
  const { todo, reused, superseded } = await reuseFinished(ctx.store, plan, {
    fresh: ctx.fresh,
    log: ctx.log,
  });
  for (const r of reused) ctx.record(r);
  if (todo.length === 0) {
    if (plan.length > 0) ctx.log(`${phase}: all ${plan.length} trial(s) found in MLflow`);
    return superseded;
  }
  const slots = Math.min(ctx.parallel, todo.length);
  const execute: ExecuteContext = {
    ...ctx.execute,
    threads: Math.max(1, Math.floor(defaultThreads() / slots)),
  };
  const best = ctx.best();
  for (const r of reused) best.note(r);
  const bar = new PhaseProgress({
    label: phaseLabel(ctx.name, phase, reused.length),
    total: todo.length,
    output: ctx.progress,
    best,
  });
  const strategy = (ctx.strategy ?? listStrategy)(todo);
  await schedule(
    strategy,
    async (t, slot) => {
      const r = await executeTrial(t, slot, execute);
      if (r) {
        ctx.record(r);
        bar.trialDone(r);
      }
      return r;
    },
    { slots, stop: () => execute.guard.interrupted },
  );
  bar.done();
  execute.guard.throwIfInterrupted('search');
  return superseded;
}
