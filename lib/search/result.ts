/**
 * What a search knows about each trial once it is done (ran here, reused from MLflow, or failed), and the
 * counts and best configurations computed from those results.
 */
import type { ExperimentConfig } from '../config/schema';
import type { ParamValue } from '../util/params-text';
import { bestConfig, configScores, type ParamSet, type PlannedTrial } from './plan';
import type { TrialOutcome } from './trial';

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

/** A planned trial's result: the trial's identity plus `r` (defaults: ran, no run, no metrics). */
export function trialResult(t: PlannedTrial, r: Partial<TrialResult>): TrialResult {
  const { spec, ...rest } = t;
  return {
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

/** Each model entry's best configuration by the mean of `key` over its search trials. */
export function chooseBest(
  config: ExperimentConfig,
  sets: ParamSet[][],
  results: readonly TrialResult[],
  key: string,
): BestConfig[] {
  return sets.map((entrySets, e) => {
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
}

export interface SearchCounts {
  total: number;
  ran: number;
  reused: number;
  failed: number;
  superseded: number;
}

export function countResults(results: readonly TrialResult[], superseded: number): SearchCounts {
  return {
    total: results.length,
    ran: results.filter((r) => r.status === 'ran').length,
    reused: results.filter((r) => r.status === 'reused').length,
    failed: results.filter((r) => r.status === 'failed').length,
    superseded,
  };
}
