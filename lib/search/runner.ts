/**
 * The search runner: plans the trials of an experiment config, reuses those already FINISHED in MLflow (by
 * trial hash), runs the others in parallel on worker threads (one per core by default; a trial's model then
 * trains single-threaded), and records everything in MLflow as a parent run with one nested run per trial.
 * With a validation part, the best configuration of each model is then refitted on each split's whole training
 * part and evaluated on its test part ("final" trials). Numbers never depend on scheduling: every trial is
 * seeded from what it is (see ./plan.ts), and results are kept in plan order.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defaultThreads, WorkerPool } from '../compute/pool';
import type { ExperimentConfig } from '../config/schema';
import { datasetDir, resolveDataDir } from '../data/data-dir';
import { parseDatasetName } from '../data/load';
import { type OpenRun, trackOpenRun, untrackOpenRun } from '../tracking/lifecycle';
import type { MlflowClient, MlflowRun } from '../tracking/mlflow-client';
import { type RunContext, type RunSource, startRun } from '../tracking/run';
import { AbortedError, errorMessage } from '../util/errors';
import { sha256FileCached } from '../util/hash';
import { describeParams } from '../util/params-text';
import { type ProgressOutput, progress } from '../util/progress';
import { canonicalJson, sha256Hex } from './hash';
import {
  bestConfig,
  configScores,
  type ParamSet,
  type PlanContext,
  type PlannedTrial,
  planFinal,
  planSearch,
  selectKey,
} from './plan';
import type { ParamValue } from './spaces';
import { TAG, TrialStore } from './store';
import {
  type EpochRecord,
  type PerUserValues,
  runTrial,
  TRIAL_TASK_MODULE,
  type TrialOutcome,
  type TrialSpec,
} from './trial';

export interface ConfigSource {
  /** Path relative to the project root (or absolute), null for in-memory configs. */
  path: string | null;
  text: string;
  sha256: string;
}

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
  /** Called after the trials with the parent run still open (e.g. to log figures to it). */
  beforeEnd?: (result: SearchResult, parent: RunContext) => Promise<void>;
}

export type TrialStatus = 'ran' | 'reused' | 'failed';

export interface TrialResult extends Omit<PlannedTrial, 'spec'> {
  runId: string | null;
  status: TrialStatus;
  /** Final metrics by MLflow key (empty when the trial failed). */
  metrics: Record<string, number>;
  bestEpoch: number | null;
  error: string | null;
  /** The trial's outcome when it ran in this search (epochs, per-user values); null when reused or failed. */
  outcome: TrialOutcome | null;
  spec: PlannedTrial['spec'];
}

export interface BestConfig {
  entry: number;
  label: string;
  model: string;
  config: number | null;
  searched: Record<string, ParamValue>;
  /** Mean selection metric over the configuration's search trials. */
  score: number | null;
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
  counts: { total: number; ran: number; reused: number; failed: number; superseded: number };
  seconds: number;
}

/** sha256 of the dataset's ratings file (null for synthetic data), cached by size and mtime. */
export async function datasetSha256(dataset: string, dataDir?: string): Promise<string | null> {
  const parsed = parseDatasetName(dataset);
  if (parsed.kind === 'synthetic') return null;
  const dir = datasetDir(resolveDataDir(dataDir), parsed.spec.name, parsed.spec.ratingsFile);
  return sha256FileCached(join(dir, parsed.spec.ratingsFile));
}

/** The source record of an in-memory config (its canonical JSON stands in for the file text). */
export function inMemorySource(config: ExperimentConfig): ConfigSource {
  const text = `${canonicalJson(config)}\n`;
  return { path: null, text, sha256: sha256Hex(text) };
}

function trialRunName(t: PlannedTrial): string {
  const which = t.role === 'final' ? 'best' : `#${t.config}`;
  return `${t.label} ${which} ${t.split}${t.validation ? ` [${t.validation}]` : ''}`;
}

function metricsOf(run: MlflowRun): Record<string, number> {
  return Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));
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
  const ctx: PlanContext = { config, datasetSha256: dataSha };
  const { sets, trials: searchPlan } = planSearch(ctx);
  const key = selectKey(config);

  // ---- MLflow: experiment, existing trials, stale runs, the parent run ----
  let store: TrialStore | null = null;
  let superseded = 0;
  if (client) {
    await client.checkServer();
    const experimentId = await client.getOrCreateExperiment(config.mlflow.experiment);
    store = await TrialStore.open(client, experimentId);
    const closed = await store.closeStaleParents(source.sha256);
    if (closed > 0) log(`marked ${closed} search run(s) left RUNNING by dead processes as KILLED`);
  }
  const parent = await startRun(client, {
    experiment: config.mlflow.experiment,
    runName: config.name,
    source: options.runSource ?? 'experiment',
    sourceName: options.sourceName ?? source.path ?? config.name,
    dataset: config.dataset,
    datasetSha256: dataSha ?? undefined,
    seed: config.seed,
    description: config.description ?? undefined,
    tags: {
      [TAG.kind]: 'search',
      [TAG.configSha]: source.sha256,
      [TAG.configPath]: source.path ?? '(in memory)',
      [TAG.configName]: config.name,
      [TAG.pid]: String(process.pid),
      [TAG.host]: hostname(),
    },
    params: searchParams(config),
  });
  const pool: { workers: WorkerPool | null } = { workers: null };
  // On Ctrl-C / SIGTERM no new trial starts. The tracking layer ends the open runs KILLED and then lets the
  // signal end the process; `once` listeners are gone by then, so they do not keep the process alive.
  const interrupted: { signal: NodeJS.Signals | null } = { signal: null };
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted.signal = signal;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await parent.logText(source.text, 'config.yaml');
    const results: TrialResult[] = [];
    const record = (t: PlannedTrial, r: Partial<TrialResult>): TrialResult => {
      const { spec, ...rest } = t;
      const full: TrialResult = {
        ...rest,
        spec,
        runId: null,
        status: 'ran',
        metrics: {},
        bestEpoch: null,
        error: null,
        outcome: null,
        ...r,
      };
      results[t.index] = full;
      return full;
    };

    const reuse = async (plan: PlannedTrial[]): Promise<PlannedTrial[]> => {
      if (!store) return plan;
      if (options.fresh) {
        const n = await store.supersedeAll(new Set(plan.map((t) => t.hash)), 'recomputed by a fresh search');
        superseded += n;
        if (n > 0) log(`fresh search: superseded ${n} earlier trial run(s)`);
        return plan;
      }
      const cleaned = await store.cleanup(new Set(plan.map((t) => t.hash)));
      superseded += cleaned.superseded;
      if (cleaned.superseded > 0)
        log(`superseded ${cleaned.superseded} stale trial run(s) of an interrupted search`);
      if (cleaned.busyElsewhere > 0)
        log(`${cleaned.busyElsewhere} trial(s) are RUNNING in another live process; running them here too`);
      const todo: PlannedTrial[] = [];
      for (const t of plan) {
        const run = store.finished(t.hash);
        if (!run) {
          todo.push(t);
          continue;
        }
        const metrics = metricsOf(run);
        record(t, {
          runId: run.info.run_id,
          status: 'reused',
          metrics,
          bestEpoch: metrics.best_epoch !== undefined && metrics.best_epoch > 0 ? metrics.best_epoch : null,
        });
      }
      return todo;
    };

    const parallelWanted = Math.max(1, options.parallel ?? config.search.parallel ?? defaultThreads());
    const runPhase = async (plan: PlannedTrial[], phase: string): Promise<void> => {
      const todo = await reuse(plan);
      const reused = plan.length - todo.length;
      if (todo.length === 0) {
        if (plan.length > 0) log(`${phase}: all ${plan.length} trial(s) found in MLflow`);
        return;
      }
      const parallel = Math.min(parallelWanted, todo.length);
      const threads = Math.max(1, Math.floor(defaultThreads() / parallel));
      if (!options.inline && !pool.workers) pool.workers = new WorkerPool(parallelWanted);
      const bar = progress({
        total: todo.length,
        label: `${config.name} ${phase}${reused ? ` (${reused} reused)` : ''}`,
        unit: 'trials',
        output: options.progress ?? 'auto',
      });
      let best: { value: number; what: string } | null = null;
      for (const t of plan) if (results[t.index]) noteBest(results[t.index]!);
      function noteBest(r: TrialResult): void {
        const v = r.metrics[key];
        if (v === undefined || !Number.isFinite(v)) return;
        if (!best || (config.select.goal === 'min' ? v < best.value : v > best.value))
          best = { value: v, what: `${r.label} ${describeParams(r.searched)}` };
      }
      const detail = () => {
        const b = best as { value: number; what: string } | null;
        return b ? `best ${config.select.metric} ${b.value.toFixed(4)} (${b.what})` : '';
      };
      let next = 0;
      let failed = 0;
      const slot = async (w: number) => {
        while (next < todo.length) {
          if (options.signal?.aborted || interrupted.signal) return;
          const t = todo[next++]!;
          const r = await executeTrial(t, w, threads);
          if (r === null) return;
          if (r.status === 'failed') failed++;
          else noteBest(r);
          bar.tick(1, detail());
        }
      };
      await Promise.all(Array.from({ length: parallel }, (_, w) => slot(w)));
      bar.done(`${detail()}${failed ? ` · ${failed} failed` : ''}`);
      if (options.signal?.aborted || interrupted.signal)
        throw new AbortedError(`search (${interrupted.signal ?? 'aborted'})`);
    };

    const executeTrial = async (
      t: PlannedTrial,
      worker: number,
      threads: number,
    ): Promise<TrialResult | null> => {
      const creating = parent.startChild(trialRunName(t), {
        tags: trialTags(t, source.sha256),
        params: trialParams(t),
      });
      // A signal while the run is being created must still end it: until it is open (and so known to the
      // tracking layer's signal handler) a guard stands in for it.
      const guard: OpenRun = {
        depth: parent.depth + 1,
        kill: async (signal) => {
          await (await creating.catch(() => null))?.kill(signal);
        },
        saveOnExit: () => {},
      };
      if (client) trackOpenRun(guard);
      let run: RunContext;
      try {
        run = await creating;
      } finally {
        if (client) untrackOpenRun(guard);
      }
      if (interrupted.signal) {
        // The signal came while this run was being created: it never ran.
        await run.end('KILLED', { reason: `received ${interrupted.signal}` }).catch(() => {});
        return null;
      }
      const spec: TrialSpec = { ...t.spec, dataDir: options.dataDir ?? null, threads };
      try {
        const outcome = pool.workers
          ? await pool.workers.run<TrialOutcome>(
              worker,
              { module: TRIAL_TASK_MODULE, fn: 'runTrialTask' },
              spec,
            )
          : await runTrial(spec);
        await logOutcome(run, outcome);
        await run.end('FINISHED');
        return record(t, {
          runId: run.runId,
          status: 'ran',
          metrics: outcome.metrics,
          bestEpoch: outcome.bestEpoch,
          outcome,
        });
      } catch (err) {
        await run.end('FAILED', { error: err }).catch(() => {});
        log(`trial ${trialRunName(t)} failed: ${errorMessage(err).split('\n')[0]}`);
        return record(t, { runId: run.runId, status: 'failed', error: errorMessage(err) });
      }
    };

    await runPhase(searchPlan, 'search');
    const best: BestConfig[] = sets.map((entrySets, e) => {
      const scores = configScores(results, e, key);
      const b = bestConfig(scores, config.select.goal);
      const set: ParamSet | null = b === null ? null : entrySets[b]!;
      return {
        entry: e,
        label: config.models[e]!.label,
        model: config.models[e]!.model,
        config: b,
        searched: set?.searched ?? {},
        score: b === null ? null : (scores.get(b) ?? null),
      };
    });
    if (config.validation !== null) {
      const finalPlan = planFinal(
        ctx,
        sets,
        best.map((b) => b.config),
        searchPlan.map((t) => ({ ...t, bestEpoch: results[t.index]?.bestEpoch ?? null })),
        searchPlan.length,
      );
      await runPhase(finalPlan, 'final');
    }

    const counts = {
      total: results.length,
      ran: results.filter((r) => r.status === 'ran').length,
      reused: results.filter((r) => r.status === 'reused').length,
      failed: results.filter((r) => r.status === 'failed').length,
      superseded,
    };
    await parent.logText(trialsJson(results, source, dataSha), 'trials.json');
    await parent.logText(resultsCsv(results), 'results.csv');
    await parent.logParams(bestParams(best, config));
    // The parent's own metrics: each entry's best mean score, and its per-fold values (search trials).
    for (const b of best) {
      if (b.score === null) continue;
      parent.logMetric(`best/${slug(b.label)}/${key}`, b.score);
      const folds = results.filter(
        (r) => r.entry === b.entry && r.config === b.config && r.role === 'search',
      );
      for (const r of folds)
        if (r.metrics[key] !== undefined)
          parent.logMetric(
            `best/${slug(b.label)}/${slug(r.split)}${r.validation ? `/${slug(r.validation)}` : ''}/${key}`,
            r.metrics[key]!,
          );
    }
    await parent.setTags({
      'reelab.trials.total': String(counts.total),
      'reelab.trials.ran': String(counts.ran),
      'reelab.trials.reused': String(counts.reused),
      'reelab.trials.failed': String(counts.failed),
    });
    const result: SearchResult = {
      config,
      source,
      datasetSha256: dataSha,
      experiment: config.mlflow.experiment,
      experimentId: parent.experimentId,
      parentRunId: parent.runId,
      trials: results,
      best,
      selectKey: key,
      counts,
      seconds: (performance.now() - started) / 1000,
    };
    if (options.beforeEnd) await options.beforeEnd(result, parent);
    await parent.end('FINISHED');
    return result;
  } catch (err) {
    if (parent.isOpen)
      await parent.end(err instanceof AbortedError ? 'KILLED' : 'FAILED', { error: err }).catch(() => {});
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (pool.workers) await pool.workers.close();
  }
}

async function logOutcome(run: RunContext, outcome: TrialOutcome): Promise<void> {
  for (const e of outcome.epochs as EpochRecord[])
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

function trialTags(t: PlannedTrial, configSha: string): Record<string, string> {
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

function trialParams(t: PlannedTrial): Record<string, ParamValue> {
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

function searchParams(config: ExperimentConfig): Record<string, ParamValue> {
  return {
    dataset: config.dataset,
    splits: config.splits.join(','),
    validation: config.validation?.join(',') ?? 'none',
    seed: config.seed,
    metrics: config.metrics.join(','),
    protocols: config.protocols.join(',') || 'none',
    relevance: config.relevance === null ? 'all' : config.relevance,
    select: `${config.select.metric} (${config.select.goal})`,
    strategy: config.search.strategy,
    trials_per_model: config.search.trials ?? 'grid',
    early_stopping: config.earlyStopping
      ? `${config.earlyStopping.metric} ${config.earlyStopping.goal} patience ${config.earlyStopping.patience} minDelta ${config.earlyStopping.minDelta}`
      : 'none',
    models: config.models.map((m) => m.label).join(', '),
  };
}

/** Keys safe in MLflow names: letters, digits, `_ - .`. */
export function slug(label: string): string {
  return label.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '') || 'model';
}

function bestParams(best: BestConfig[], config: ExperimentConfig): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const b of best) {
    const m = config.models[b.entry]!;
    const params = { ...m.params, ...b.searched };
    out[`best.${slug(b.label)}.config`] = b.config === null ? 'none (every configuration failed)' : b.config;
    for (const [k, v] of Object.entries(params))
      out[`best.${slug(b.label)}.${k}`] = typeof v === 'object' ? JSON.stringify(v) : v;
  }
  return out;
}

/** A trial's identity and outcome status, as written to trials.json and read back by reports. */
export interface TrialRecord {
  index: number;
  hash: string;
  role: 'search' | 'final';
  entry: number;
  label: string;
  model: string;
  task: 'rating' | 'ranking';
  config: number;
  split: string;
  validation: string | null;
  searched: Record<string, ParamValue>;
  params: Record<string, ParamValue>;
  runId: string | null;
  status: TrialStatus;
}

/** The TrialRecord fields of a trial (drops everything else it carries). */
export function trialRecord(t: TrialRecord): TrialRecord {
  return {
    index: t.index,
    hash: t.hash,
    role: t.role,
    entry: t.entry,
    label: t.label,
    model: t.model,
    task: t.task,
    config: t.config,
    split: t.split,
    validation: t.validation,
    searched: t.searched,
    params: t.params,
    runId: t.runId,
    status: t.status,
  };
}

/** What the report loader needs to rebuild everything from MLflow: the trials in plan order. */
export interface TrialsFile {
  version: 1;
  configSha256: string;
  datasetSha256: string | null;
  trials: TrialRecord[];
}

function trialsJson(results: TrialResult[], source: ConfigSource, dataSha: string | null): string {
  const file: TrialsFile = {
    version: 1,
    configSha256: source.sha256,
    datasetSha256: dataSha,
    trials: results.map(trialRecord),
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per trial: identity, searched params, every final metric (full precision), run id. */
export function resultsCsv(results: TrialResult[]): string {
  const paramKeys = new Set<string>();
  const metricKeys = new Set<string>();
  for (const r of results) {
    for (const k of Object.keys(r.searched)) paramKeys.add(k);
    for (const k of Object.keys(r.metrics)) metricKeys.add(k);
  }
  const pk = [...paramKeys];
  const mk = [...metricKeys].sort();
  const header = [
    'index',
    'role',
    'label',
    'model',
    'config',
    'split',
    'validation',
    ...pk,
    ...mk,
    'status',
    'run_id',
    'hash',
  ];
  const lines = [header.map(csvCell).join(',')];
  for (const r of results)
    lines.push(
      [
        r.index,
        r.role,
        r.label,
        r.model,
        r.config,
        r.split,
        r.validation ?? '',
        ...pk.map((k) => r.searched[k]),
        ...mk.map((k) => r.metrics[k]),
        r.status,
        r.runId ?? '',
        r.hash,
      ]
        .map(csvCell)
        .join(','),
    );
  return `${lines.join('\n')}\n`;
}
