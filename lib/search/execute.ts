/**
 * Executing one planned trial as a nested MLflow run: create the child run (signal-safe while it is being
 * created), run the TrialSpec through a TrialExecutor, log the outcome, and end the run FINISHED, FAILED, or
 * KILLED when an interrupt came while it was being created.
 *
 * A TrialExecutor only turns a TrialSpec into a TrialOutcome: on this thread (`inlineExecutor`), on worker
 * threads (`workerExecutor`), and — later — in child processes or on a Ray cluster. It knows nothing of MLflow.
 */
import { hostname } from 'node:os';
import { WorkerPool } from '../compute/pool';
import { type OpenRun, trackOpenRun, untrackOpenRun } from '../tracking/lifecycle';
import type { RunContext } from '../tracking/run';
import { errorMessage } from '../util/errors';
import type { ParamValue } from '../util/params-text';
import type { PlannedTrial } from './plan';
import { type TrialResult, trialResult } from './result';
import type { InterruptGuard } from './signals';
import { TAG } from './store';
import { type PerUserValues, runTrial, TRIAL_TASK_MODULE, type TrialOutcome, type TrialSpec } from './trial';

/** Runs one trial: a TrialSpec in, its TrialOutcome out (rejects when the trial fails). */
export interface TrialExecutor {
  /** `slot` is the scheduler slot running it (0 … slots-1): an executor may pin its work to it. */
  run(spec: TrialSpec, slot: number): Promise<TrialOutcome>;
  /** Releases what the executor holds (workers, processes); idempotent. */
  close(): Promise<void>;
}

/** Runs trials on the calling thread. */
export function inlineExecutor(): TrialExecutor {
  return { run: (spec) => runTrial(spec), close: async () => {} };
}

/**
 * Runs trials on `size` worker threads, slot s on worker s % size. The threads start with the first trial,
 * so a search whose trials are all reused starts none.
 */
export function workerExecutor(size: number): TrialExecutor {
  let pool: WorkerPool | null = null;
  return {
    run(spec, slot) {
      pool ??= new WorkerPool(size);
      return pool.run<TrialOutcome>(slot, { module: TRIAL_TASK_MODULE, fn: 'runTrialTask' }, spec);
    },
    async close() {
      const p = pool;
      pool = null;
      if (p) await p.close();
    },
  };
}

/** What executing trials of one phase needs besides the trial itself. */
export interface ExecuteContext {
  /** The search's parent run: trials are its children. */
  parent: RunContext;
  /** True when runs go to MLflow (a run being created is then ended KILLED by a signal). */
  tracked: boolean;
  /** sha256 of the config file (tagged on every trial run). */
  configSha256: string;
  guard: InterruptGuard;
  executor: TrialExecutor;
  dataDir: string | null;
  /** Threads each trial may use. */
  threads: number;
  log: (line: string) => void;
  /** Logs a finished trial's figures to its run (supplied by the workflow layer, which owns the figures). */
  trialFigures?: (run: RunContext, t: PlannedTrial, outcome: TrialOutcome) => Promise<void>;
}

/**
 * Runs trial `t` in scheduler slot `slot` as a child run of the parent. Returns its result (status `ran` or
 * `failed`), or null when a signal came while its run was being created (the run is then ended KILLED and the
 * trial never ran).
 */
export async function executeTrial(
  t: PlannedTrial,
  slot: number,
  ctx: ExecuteContext,
): Promise<TrialResult | null> {
  const run = await openTrialRun(t, ctx);
  if (ctx.guard.signal) {
    await run.end('KILLED', { reason: `received ${ctx.guard.signal}` }).catch(() => {});
    return null;
  }
  const spec: TrialSpec = { ...t.spec, dataDir: ctx.dataDir, threads: ctx.threads };
  try {
    const outcome = await ctx.executor.run(spec, slot);
    await logOutcome(run, outcome);
    if (ctx.trialFigures) await ctx.trialFigures(run, t, outcome);
    await run.end('FINISHED');
    return trialResult(t, {
      runId: run.runId,
      status: 'ran',
      metrics: outcome.metrics,
      bestEpoch: outcome.bestEpoch,
      outcome,
    });
  } catch (err) {
    await run.end('FAILED', { error: err }).catch(() => {});
    ctx.log(`trial ${trialRunName(t)} failed: ${errorMessage(err).split('\n')[0]}`);
    return trialResult(t, { runId: run.runId, status: 'failed', error: errorMessage(err) });
  }
}

/**
 * Creates the trial's child run. A signal while the run is being created must still end it: until it is open
 * (and so known to the tracking layer's signal handler) a placeholder stands in for it.
 */
async function openTrialRun(t: PlannedTrial, ctx: ExecuteContext): Promise<RunContext> {
  const creating = ctx.parent.startChild(trialRunName(t), {
    tags: trialTags(t, ctx.configSha256),
    params: trialParams(t),
  });
  const placeholder: OpenRun = {
    depth: ctx.parent.depth + 1,
    kill: async (signal) => {
      await (await creating.catch(() => null))?.kill(signal);
    },
    saveOnExit: () => {},
  };
  if (ctx.tracked) trackOpenRun(placeholder);
  try {
    return await creating;
  } finally {
    if (ctx.tracked) untrackOpenRun(placeholder);
  }
}

/** Per-epoch curves, final metrics, timings and sizes, per-user values as `per-user.json`. */
export async function logOutcome(run: RunContext, outcome: TrialOutcome): Promise<void> {
  for (const e of outcome.epochs)
    for (const [k, v] of Object.entries(e.values)) run.logMetric(k, v, e.epoch, e.timestamp);
  const extra: Record<string, number> = {
    fit_seconds: outcome.fitSeconds,
    eval_seconds: outcome.evalSeconds,
    train_ratings: outcome.trainRatings,
    eval_ratings: outcome.evalRatings,
  };
  if (outcome.bestEpoch !== null) extra.best_epoch = outcome.bestEpoch;
  if (outcome.stoppedEpoch !== null) extra.stopped_epoch = outcome.stoppedEpoch;
  await run.logMetrics({ ...outcome.metrics, ...extra });
  if (outcome.perUser) await run.logText(perUserJson(outcome.perUser), 'per-user.json');
}

export function perUserJson(perUser: Record<string, PerUserValues>): string {
  return `${JSON.stringify(perUser)}\n`;
}

/** `svd #3 u1 [random:0.1]`, `svd best u1`. */
export function trialRunName(t: PlannedTrial): string {
  const which = t.role === 'final' ? 'best' : `#${t.config}`;
  return `${t.label} ${which} ${t.split}${t.validation ? ` [${t.validation}]` : ''}`;
}

export function trialTags(t: PlannedTrial, configSha: string): Record<string, string> {
  return {
    [TAG.kind]: 'trial',
    [TAG.hash]: t.hash,
    [TAG.role]: t.role,
    [TAG.label]: t.label,
    [TAG.entry]: String(t.entry),
    [TAG.config]: String(t.config),
    [TAG.split]: t.split,
    [TAG.validation]: t.validation ?? 'none',
    [TAG.pid]: String(process.pid),
    [TAG.host]: hostname(),
    [TAG.configSha]: configSha,
    'reelab.model': t.model,
    'reelab.task': t.task,
    'reelab.trial.searched': JSON.stringify(t.searched),
  };
}

export function trialParams(t: PlannedTrial): Record<string, ParamValue> {
  return {
    ...t.params,
    'trial.split': t.split,
    'trial.validation': t.validation ?? 'none',
    'trial.role': t.role,
    'trial.metrics': t.spec.metrics.join(','),
    'trial.protocols': t.spec.protocols.join(',') || 'none',
    'trial.relevance': t.spec.relevance === null ? 'all' : t.spec.relevance,
    'trial.early_stopping': t.spec.earlyStopping
      ? `${t.spec.earlyStopping.metric} ${t.spec.earlyStopping.goal} patience ${t.spec.earlyStopping.patience} minDelta ${t.spec.earlyStopping.minDelta}`
      : 'none',
  };
}
