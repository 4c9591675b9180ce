/**
 * The search runner: plans the trials of an experiment config, reuses those already FINISHED in MLflow (by
 * trial hash), runs the others in parallel on worker threads (one per core by default; a trial's model then
 * trains single-threaded), and records everything in MLflow as a parent run with one nested run per trial.
 * With a validation part, the best configuration of each model is then refitted on each split's whole training
 * part and evaluated on its test part ("final" trials). Numbers never depend on scheduling: every trial is
 * seeded from what it is (see ./plan.ts), and results are kept in plan order.
 *
 * The steps live in their own modules: ./tracking.ts (experiment, store, parent run), ./phase.ts (one phase:
 * ./reuse.ts → ./schedule.ts → ./execute.ts, with ./progress.ts), ./signals.ts (the interrupt guard),
 * ./result.ts (results, counts, best configurations) and ./outputs.ts (results files, parent summary).
 */
import { defaultThreads } from '../compute/pool';
import type { ExperimentConfig } from '../config/schema';
import type { MlflowClient } from '../tracking/mlflow-client';
import type { RunContext, RunSource } from '../tracking/run';
import { AbortedError } from '../util/errors';
import type { ProgressOutput } from '../util/progress';
import { type ExecuteContext, inlineExecutor, type TrialExecutor, workerExecutor } from './execute';
import { type SearchSummary, writeSearchSummary } from './outputs';
import { type PhaseContext, runPhase } from './phase';
import { type PlanContext, planFinal, planSearch, selectKey } from './plan';
import { BestSoFar } from './progress';
import { type BestConfig, chooseBest, countResults, type SearchCounts, type TrialResult } from './result';
import { interruptGuard } from './signals';
import { type ConfigSource, datasetSha256, inMemorySource } from './source';
import type { TrialStore } from './store';
import { openSearchTracking } from './tracking';

export { perUserJson } from './execute';
export {
  resultsCsv,
  slug,
  type TrialRecord,
  type TrialsFile,
  trialRecord,
} from './outputs';
export type { BestConfig, TrialResult, TrialStatus } from './result';
export { type ConfigSource, datasetSha256, inMemorySource } from './source';

export interface SearchOptions {
  /** The config file (recorded in MLflow; its text is logged as the parent's `config.yaml`). */
  source?: ConfigSource;
  dataDir?: string;
  /** MLflow client; null or omitted: nothing is tracked and nothing is reused. */
  tracking?: MlflowClient | null;
  /** Trials at once (default: config.search.parallel, else one per core). */
  parallel?: number;
  /** Run trials on the calling thread instead of worker threads. */
  inline?: boolean;
  /**
   * Runs the trials (child processes, a Ray cluster: lib/search/executors); default worker threads, or the
   * calling thread with `inline`. The runner closes it when the search ends.
   */
  executor?: TrialExecutor;
  progress?: ProgressOutput;
  runSource?: RunSource;
  sourceName?: string;
  /**
   * Recompute every trial even when MLflow has it (e.g. after changing a model's code: the trial hash covers
   * the config, not the code); the earlier runs are marked superseded and deleted.
   */
  fresh?: boolean;
  /** Stops scheduling new trials; running ones finish, the parent run ends KILLED. */
  signal?: AbortSignal;
  /** One-line notes (default: stderr). */
  log?: (line: string) => void;
  /** Logs each finished trial's figures to its run (see ExecuteContext.trialFigures). */
  trialFigures?: ExecuteContext['trialFigures'];
  /** Called after the trials with the parent run still open (e.g. to log figures to it). */
  beforeEnd?: (result: SearchResult, parent: RunContext) => Promise<void>;
}

export interface SearchResult {
  config: ExperimentConfig;
  source: ConfigSource;
  datasetSha256: string | null;
  experiment: string;
  experimentId: string | null;
  parentRunId: string | null;
  trials: TrialResult[];
  best: BestConfig[];
  selectKey: string;
  counts: SearchCounts;
  seconds: number;
}

/** Runs (or resumes) the search an experiment config describes. */
export async function runSearch(
  config: ExperimentConfig,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const source = options.source ?? inMemorySource(config);
  const client = options.tracking ?? null;
  const dataSha = await datasetSha256(config.dataset, options.dataDir);
  const planCtx: PlanContext = { config, datasetSha256: dataSha };
  const { sets, trials: searchPlan } = planSearch(planCtx);
  const key = selectKey(config);
  const { runSource, sourceName } = options;
  const tracking = { config, source, datasetSha256: dataSha, runSource, sourceName, log };
  const { store, parent } = await openSearchTracking(client, tracking);
  const parallel = Math.max(1, options.parallel ?? config.search.parallel ?? defaultThreads());
  const executor = options.executor ?? (options.inline ? inlineExecutor() : workerExecutor(parallel));
  const guard = interruptGuard({ abort: options.signal }).install();
  const results: TrialResult[] = [];
  const units = { store, parent, tracked: client !== null, guard, executor, parallel, results, log };
  const phase = phaseContext(config, source, key, options, units);
  try {
    await parent.logText(source.text, 'config.yaml');
    let superseded = await runPhase(searchPlan, 'search', phase);
    const best = chooseBest(config, sets, results, key);
    if (config.validation !== null) {
      const searched = searchPlan.map((t) => ({ ...t, bestEpoch: results[t.index]?.bestEpoch ?? null }));
      const finalPlan = planFinal(
        planCtx,
        sets,
        best.map((b) => b.config),
        searched,
        searchPlan.length,
      );
      superseded += await runPhase(finalPlan, 'final', phase);
    }
    const counts = countResults(results, superseded);
    const summary = { config, source, datasetSha256: dataSha, trials: results, best, selectKey: key, counts };
    await writeSearchSummary(parent, summary);
    const result = searchResult(summary, parent, (performance.now() - started) / 1000);
    if (options.beforeEnd) await options.beforeEnd(result, parent);
    await parent.end('FINISHED');
    return result;
  } catch (err) {
    if (parent.isOpen)
      await parent.end(err instanceof AbortedError ? 'KILLED' : 'FAILED', { error: err }).catch(() => {});
    throw err;
  } finally {
    guard.uninstall();
    await executor.close();
  }
}

/** What the phases of one search share: where results go, how trials run, what progress shows. */
function phaseContext(
  config: ExperimentConfig,
  source: ConfigSource,
  key: string,
  options: SearchOptions,
  units: Pick<ExecuteContext, 'parent' | 'tracked' | 'guard' | 'executor' | 'log'> & {
    store: TrialStore | null;
    parallel: number;
    results: TrialResult[];
  },
): PhaseContext {
  const { store, parallel, results, log, ...execute } = units;
  return {
    name: config.name,
    store,
    fresh: options.fresh === true,
    parallel,
    execute: {
      ...execute,
      log,
      configSha256: source.sha256,
      dataDir: options.dataDir ?? null,
      trialFigures: options.trialFigures,
    },
    best: () => new BestSoFar(key, config.select.metric, config.select.goal),
    progress: options.progress,
    record: (r) => {
      results[r.index] = r;
    },
    log,
  };
}

function searchResult(s: SearchSummary, parent: RunContext, seconds: number): SearchResult {
  return {
    config: s.config,
    source: s.source,
    datasetSha256: s.datasetSha256,
    experiment: s.config.mlflow.experiment,
    experimentId: parent.experimentId,
    parentRunId: parent.runId,
    trials: s.trials,
    best: s.best,
    selectKey: s.selectKey,
    counts: s.counts,
    seconds,
  };
}
