/**
 * One trial: fit one parameter set on one fold's training part and evaluate it (on the fold's validation part
 * during a search with validation, else on its test part). Runs in a worker thread (`runTrialTask`, through
 * lib/compute/pool.ts) or inline; everything in and out is plain structured-clonable data. Data, splits and
 * side information are cached per thread, so a worker loads each dataset once.
 */
import type { Interactions } from '../data/interactions';
import { loadRatings } from '../data/load';
import { makeSplit, validationSplit } from '../data/split';
import { mlflowMetricKey, parseMetrics } from '../eval/names';
import { evaluateModel } from '../eval/protocols';
import type { EpochReport } from '../models/recommender';
import { createModel, modelEntry } from '../models/registry';
import { AbortedError, ConfigError } from '../util/errors';
import { ModelInputs, withDatasetParams } from '../workflows/model-inputs';
import { EarlyStopper } from './early-stopping';

export type ParamValue = number | string | boolean;

export interface TrialEarlyStopping {
  metric: string;
  goal: 'min' | 'max';
  patience: number;
  minDelta: number;
  /** The model parameter holding the epoch count ('epochs' / 'iterations'). */
  epochParam: string;
}

/** Everything a worker needs to run one trial. */
export interface TrialSpec {
  dataset: string;
  dataDir: string | null;
  /** The experiment seed: seeds computed splits and validation parts. */
  seed: number;
  split: string;
  /** Validation part carved from the split's training part, or null (evaluate on the test part). */
  validation: string | null;
  model: string;
  /** Resolved hyperparameters (including the derived model seed and any epoch budget). */
  params: Record<string, ParamValue>;
  metrics: string[];
  protocols: string[];
  relevance: number | null;
  earlyStopping: TrialEarlyStopping | null;
  /** Threads the model and the ranking protocol may use inside this trial. */
  threads: number;
  /** Return per-user metric values (for confidence intervals and paired tests in reports). */
  perUser: boolean;
}

export interface EpochRecord {
  epoch: number;
  /** ms since the epoch, when the epoch ended. */
  timestamp: number;
  values: Record<string, number>;
}

/** Per-user values of one metric: MovieLens user ids, values, and (rating metrics) held-out ratings per user. */
export interface PerUserValues {
  users: number[];
  values: number[];
  weights: number[] | null;
}

export interface TrialOutcome {
  /** Final metrics by MLflow key: `rmse`, `full/ndcg_at_10`, `sampled-100/hr_at_10`, … */
  metrics: Record<string, number>;
  epochs: EpochRecord[];
  /** With early stopping: the epoch kept (the model was refitted with that many), and where training stopped. */
  bestEpoch: number | null;
  stoppedEpoch: number | null;
  fitSeconds: number;
  evalSeconds: number;
  trainRatings: number;
  evalRatings: number;
  perUser: Record<string, PerUserValues> | null;
}

/** The MLflow key of a metric under a protocol: rating metrics plain, ranking ones `<protocol>/<name>`. */
export function metricKey(metric: string, protocol: string): string {
  return protocol === 'rating' ? metric : mlflowMetricKey(metric, protocol);
}

/** Keys of the metrics a trial of a model reports, in config order (rating metrics only for rating models). */
export function metricKeysFor(
  task: 'rating' | 'ranking',
  metrics: readonly string[],
  protocols: readonly string[],
): string[] {
  const specs = parseMetrics(metrics);
  const keys: string[] = [];
  for (const s of specs) {
    if (s.family === 'rating') {
      if (task === 'rating') keys.push(s.name);
    } else {
      for (const p of protocols) {
        if (p !== 'full' && s.family === 'beyond') continue;
        keys.push(metricKey(s.name, p));
      }
    }
  }
  return keys;
}

// ---- per-thread caches -------------------------------------------------------------------------------------

interface DataEntry {
  all: Interactions;
  inputs: ModelInputs;
  splits: Map<string, { train: Interactions; test: Interactions }>;
}

const cache = new Map<string, DataEntry>();

function data(spec: TrialSpec): DataEntry {
  const key = `${spec.dataset}\u0000${spec.dataDir ?? ''}\u0000${spec.seed}`;
  let entry = cache.get(key);
  if (!entry) {
    const all = loadRatings(spec.dataset, { dataDir: spec.dataDir ?? undefined, seed: spec.seed });
    entry = {
      all,
      inputs: new ModelInputs(spec.dataset, all, { dataDir: spec.dataDir ?? undefined, seed: spec.seed }),
      splits: new Map(),
    };
    // Keep at most two datasets per thread.
    if (cache.size >= 2) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
  }
  return entry;
}

function parts(spec: TrialSpec, entry: DataEntry): { train: Interactions; test: Interactions } {
  const key = `${spec.split}\u0000${spec.validation ?? ''}`;
  let p = entry.splits.get(key);
  if (!p) {
    const split = makeSplit(entry.all, spec.split, spec.dataset, {
      seed: spec.seed,
      dataDir: spec.dataDir ?? undefined,
    });
    if (spec.validation) {
      const v = validationSplit(split.train, { split: spec.validation, seed: spec.seed });
      p = { train: v.train, test: v.validation };
    } else p = { train: split.train, test: split.test };
    entry.splits.set(key, p);
  }
  return p;
}

// ---- the trial ----------------------------------------------------------------------------------------------

function epochValues(r: EpochReport): Record<string, number> {
  const v: Record<string, number> = { epoch_seconds: r.seconds };
  if (r.trainRmse !== undefined) v.train_rmse = r.trainRmse;
  if (r.validationRmse !== undefined) v.validation_rmse = r.validationRmse;
  if (r.loss !== undefined) v.loss = r.loss;
  for (const [k, x] of Object.entries(r.metrics ?? {}))
    v[k.replace(/@/g, '_at_').replace(/[^\w./ :-]/g, '_')] = x;
  return v;
}

/** Fits and evaluates one trial (see the module comment). */
export async function runTrial(spec: TrialSpec): Promise<TrialOutcome> {
  const entry = modelEntry(spec.model);
  const d = data(spec);
  const { train, test } = parts(spec, d);
  const dataDir = spec.dataDir ?? undefined;
  const build = (params: Record<string, unknown>) => {
    const model = createModel(spec.model, withDatasetParams(spec.model, params, spec.dataset, dataDir));
    d.inputs.give(model);
    return model;
  };
  const metricNames = parseMetrics(spec.metrics)
    .filter((s) => entry.task === 'rating' || s.family !== 'rating')
    .map((s) => s.name);
  const hasRanking = parseMetrics(metricNames).some((s) => s.family !== 'rating');

  const es = spec.earlyStopping;
  const stopper = es ? new EarlyStopper(es.goal, es.patience, es.minDelta) : null;
  const controller = new AbortController();
  const epochs: EpochRecord[] = [];
  let missing: string[] | null = null;
  let model = build(spec.params);
  const started = performance.now();
  try {
    await model.fit(train, {
      threads: spec.threads,
      validation: test,
      signal: stopper ? controller.signal : undefined,
      onEpoch: (r) => {
        const values = epochValues(r);
        epochs.push({ epoch: r.epoch, timestamp: Date.now(), values });
        if (!stopper || controller.signal.aborted) return;
        const v = values[es!.metric];
        if (v === undefined) {
          missing = Object.keys(values);
          controller.abort();
        } else if (stopper.observe(r.epoch, v)) controller.abort();
      },
    });
  } catch (err) {
    if (!(err instanceof AbortedError && controller.signal.aborted)) throw err;
  }
  if (missing !== null)
    throw new ConfigError(
      'earlyStopping.metric',
      `${spec.model} does not report ${es!.metric} per epoch; it reports ${(missing as string[]).join(', ')} ` +
        '(add earlyStopping: false to this model or watch one of those)',
    );
  let bestEpoch: number | null = null;
  let stoppedEpoch: number | null = null;
  if (stopper && es) {
    stoppedEpoch = stopper.lastEpoch;
    bestEpoch = stopper.bestEpoch > 0 ? stopper.bestEpoch : stopper.lastEpoch;
    if (!model.fitted || bestEpoch < stopper.lastEpoch) {
      // Refit with the best epoch count: the model scored is exactly the one that epoch produced.
      model = build({ ...spec.params, [es.epochParam]: bestEpoch });
      await model.fit(train, { threads: spec.threads });
    }
  }
  const fitSeconds = (performance.now() - started) / 1000;

  const evalStarted = performance.now();
  const results = await evaluateModel(model, train, test, {
    metrics: metricNames,
    protocols: hasRanking ? spec.protocols : [],
    relevance: spec.relevance,
    seed: spec.seed,
    threads: spec.threads,
    itemGenres: parseMetrics(metricNames).some((s) => s.kind === 'diversity') ? d.inputs.itemGenres() : null,
  });
  const evalSeconds = (performance.now() - evalStarted) / 1000;

  const metrics: Record<string, number> = {};
  const perUser: Record<string, PerUserValues> | null = spec.perUser ? {} : null;
  let counts: Int32Array | null = null;
  for (const r of results) {
    for (const [name, v] of Object.entries(r.metrics)) metrics[metricKey(name, r.protocol)] = v;
    if (r.protocol !== 'rating') metrics[metricKey('users', r.protocol)] = r.users;
    if (!perUser) continue;
    for (const [name, pu] of Object.entries(r.perUser)) {
      let weights: number[] | null = null;
      if (r.protocol === 'rating') {
        counts ??= test.userCounts();
        weights = Array.from(pu.users, (u) => counts![u]!);
      }
      perUser[metricKey(name, r.protocol)] = {
        users: Array.from(pu.users, (u) => train.userIds.id(u)),
        values: Array.from(pu.values),
        weights,
      };
    }
  }
  return {
    metrics,
    epochs,
    bestEpoch,
    stoppedEpoch,
    fitSeconds,
    evalSeconds,
    trainRatings: train.size,
    evalRatings: test.size,
    perUser,
  };
}

/** Worker entry point (lib/compute/pool.ts calls exported functions by name). */
export function runTrialTask(spec: TrialSpec): Promise<TrialOutcome> {
  return runTrial(spec);
}

/** This module's path, for WorkerPool task references. */
export const TRIAL_TASK_MODULE = __filename;
