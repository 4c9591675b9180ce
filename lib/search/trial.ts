/**
 * One trial: fit one parameter set on one fold's training part and evaluate it (on the fold's validation part
 * during a search with validation, else on its test part). Runs in a worker thread (`runTrialTask`, through
 * lib/compute/pool.ts) or inline; everything in and out is plain structured-clonable data. Data, splits and
 * side information are cached per thread, so a worker loads each dataset once.
 */
import type { Interactions } from '../data/interactions';
import { loadRatings } from '../data/load';
import { SideInformation } from '../data/side-information';
import { makeSplit, validationSplit } from '../data/split';
import {
  type EarlyStoppingSpec,
  type EpochRecord,
  fitEvaluateRecord,
  metricKey,
} from '../eval/fit-evaluate-record';
import { parseMetrics } from '../eval/names';
import { deriveRunSeeds } from '../models/seeds';
import type { ParamValue } from '../util/params-text';

export type { EpochRecord } from '../eval/fit-evaluate-record';
export type { ParamValue } from '../util/params-text';
export { metricKey };

/** Early stopping of a trial (the watched per-epoch metric, patience, the epoch parameter). */
export type TrialEarlyStopping = EarlyStoppingSpec;

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
  inputs: SideInformation;
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
      inputs: new SideInformation(spec.dataset, all, { dataDir: spec.dataDir ?? undefined, seed: spec.seed }),
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

/** Fits and evaluates one trial (see the module comment) through the one fit → evaluate path. */
export async function runTrial(spec: TrialSpec): Promise<TrialOutcome> {
  const d = data(spec);
  const { train, test } = parts(spec, d);
  const seeds = deriveRunSeeds(spec.seed);
  const r = await fitEvaluateRecord({
    model: spec.model,
    params: spec.params,
    modelSeed: seeds.model,
    train,
    heldOut: test,
    heldOutRole: spec.validation ? 'validation' : 'test',
    inputs: d.inputs,
    metrics: spec.metrics,
    protocols: spec.protocols,
    relevance: spec.relevance,
    evaluationSeed: seeds.evaluation,
    threads: spec.threads,
    earlyStopping: spec.earlyStopping,
  });
  const metrics: Record<string, number> = {};
  for (const [key, v] of Object.entries(r.metrics))
    if (!key.endsWith('/users_without_relevant')) metrics[key] = v;
  const perUser: Record<string, PerUserValues> | null = spec.perUser ? {} : null;
  let counts: Int32Array | null = null;
  for (const res of perUser ? r.results : []) {
    for (const [name, pu] of Object.entries(res.perUser)) {
      let weights: number[] | null = null;
      if (res.protocol === 'rating') {
        counts ??= test.userCounts();
        weights = Array.from(pu.users, (u) => counts![u]!);
      }
      perUser![metricKey(name, res.protocol)] = {
        users: Array.from(pu.users, (u) => train.userIds.id(u)),
        values: Array.from(pu.values),
        weights,
      };
    }
  }
  return {
    metrics,
    epochs: r.epochs,
    bestEpoch: r.bestEpoch,
    stoppedEpoch: r.stoppedEpoch,
    fitSeconds: r.fitSeconds,
    evalSeconds: r.evalSeconds,
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
