/**
 * Reuse of finished trials: given the trials in MLflow (a TrialStore) and a plan, what is already FINISHED
 * (reused as it is, by trial hash), what still has to run, and how many stale runs were superseded on the way
 * (see ./store.ts). A fresh search supersedes every earlier run of the plan and reuses nothing.
 */
import type { MlflowRun } from '../tracking/mlflow-client';
import type { PlannedTrial } from './plan';
import { type TrialResult, trialResult } from './result';
import type { TrialStore } from './store';

export interface ReuseOptions {
  /** Recompute everything: supersede the plan's earlier runs instead of reusing them. */
  fresh?: boolean;
  log?: (line: string) => void;
}

export interface Reuse {
  /** The planned trials still to run, in plan order. */
  todo: PlannedTrial[];
  /** Results of the trials found FINISHED in MLflow (status `reused`), in plan order. */
  reused: TrialResult[];
  /** Earlier runs marked superseded and deleted. */
  superseded: number;
}

function metricsOf(run: MlflowRun): Record<string, number> {
  return Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));
}

/** A trial's result from its FINISHED run in MLflow. */
export function reusedResult(t: PlannedTrial, run: MlflowRun): TrialResult {
  const metrics = metricsOf(run);
  return trialResult(t, {
    runId: run.info.run_id,
    status: 'reused',
    metrics,
    bestEpoch: metrics.best_epoch !== undefined && metrics.best_epoch > 0 ? metrics.best_epoch : null,
  });
}

/** Splits `plan` into reused and to-do trials (see the module comment); no store: everything is to do. */
export async function reuseFinished(
  store: TrialStore | null,
  plan: PlannedTrial[],
  options: ReuseOptions = {},
): Promise<Reuse> {
  const log = options.log ?? (() => {});
  if (!store) return { todo: plan, reused: [], superseded: 0 };
  const hashes = new Set(plan.map((t) => t.hash));
  if (options.fresh) {
    const n = await store.supersedeAll(hashes, 'recomputed by a fresh search');
    if (n > 0) log(`fresh search: superseded ${n} earlier trial run(s)`);
    return { todo: plan, reused: [], superseded: n };
  }
  const cleaned = await store.cleanup(hashes);
  if (cleaned.superseded > 0)
    log(`superseded ${cleaned.superseded} stale trial run(s) of an interrupted search`);
  if (cleaned.busyElsewhere > 0)
    log(`${cleaned.busyElsewhere} trial(s) are RUNNING in another live process; running them here too`);
  const todo: PlannedTrial[] = [];
  const reused: TrialResult[] = [];
  for (const t of plan) {
    const run = store.finished(t.hash);
    if (run) reused.push(reusedResult(t, run));
    else todo.push(t);
  }
  return { todo, reused, superseded: cleaned.superseded };
}
