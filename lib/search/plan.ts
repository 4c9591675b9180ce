/**
 * From a validated experiment config to the trials to run: parameter sets per model entry (grid or random
 * search), resolved parameters (schema defaults, derived seeds), and each trial's identity hash.
 *
 * A trial's hash covers everything that decides its numbers: dataset (name and ratings sha256), split,
 * validation part, experiment seed, model, resolved params, metrics, protocols, relevance and early stopping.
 * Re-running a config finds finished trials by this hash (MLflow tag `reelab.trial.hash`) and reuses them.
 * Model seeds that the config leaves open are derived from the experiment seed and the trial's data/model/params
 * (never from the order trials happen to run in), so a parameter set gets the same initialisation on every run.
 */

import { epochParamOf, LOCAL_PARAMS } from '../config/models';
import type { ExperimentConfig, ModelConfig, ParamInput } from '../config/schema';
import { expandGrid, type NamedSpace, type ParamValue, parseSpace, sampleRandom } from '../config/spaces';
import { parseMetric } from '../eval/names';
import { type ModelEntry, modelEntry } from '../models/registry';
import { deriveRunSeeds } from '../models/seeds';
import { hashValue, seedFromHash } from '../util/hash';
import { numericCodeHash } from './code-hash';
import { metricKey, metricKeysFor, type TrialEarlyStopping, type TrialSpec } from './trial';

export const TRIAL_HASH_SCHEME = 'reelab-trial/2';

/** One configuration of one model entry. */
export interface ParamSet {
  entry: number;
  label: string;
  model: string;
  /** Index among the entry's configurations (plan order). */
  config: number;
  /** The searched values only. */
  searched: Record<string, ParamValue>;
  /** Fixed params plus searched values, as the config gives them (no defaults). */
  given: Record<string, ParamInput>;
}

export type TrialRole = 'search' | 'final';

/** What a trial is: its place in the plan and its parameters (also what trials.json records of it). */
export interface TrialIdentity {
  /** Position in the plan (search trials first, then final trials). */
  index: number;
  hash: string;
  role: TrialRole;
  entry: number;
  label: string;
  model: string;
  task: 'rating' | 'ranking';
  config: number;
  split: string;
  validation: string | null;
  searched: Record<string, ParamValue>;
  /** Resolved params: defaults applied, derived seed, epoch budget (final trials after early stopping). */
  params: Record<string, ParamValue>;
}

/** A trial to run (or to find in MLflow). */
export interface PlannedTrial extends TrialIdentity {
  /** The TrialSpec without machine-local settings (dataDir, threads). */
  spec: Omit<TrialSpec, 'dataDir' | 'threads'>;
}

/** The configurations of one model entry: the grid, or `trials` random draws seeded by the experiment seed. */
export function paramSets(config: ExperimentConfig, entryIndex: number): ParamSet[] {
  const m = config.models[entryIndex]!;
  const spaces: NamedSpace[] = Object.entries(m.space).map(([name, raw]) => {
    const parsed = parseSpace(raw);
    if (!parsed.space)
      throw new RangeError(`models[${entryIndex}].space.${name}: ${parsed.problems[0]?.message}`);
    return { name, space: parsed.space };
  });
  const configs =
    config.search.strategy === 'random' && spaces.length > 0
      ? sampleRandom(
          spaces,
          config.search.trials ?? 1,
          seedFromHash(hashValue({ seed: config.seed, entry: entryIndex, label: m.label })),
        )
      : expandGrid(spaces);
  return configs.map((searched, i) => ({
    entry: entryIndex,
    label: m.label,
    model: m.model,
    config: i,
    searched,
    given: { ...m.params, ...searched },
  }));
}

/** Schema defaults applied; local params (dataDir) left out; undefined optional params dropped. */
export function resolveParams(
  entry: ModelEntry,
  given: Record<string, ParamInput>,
  _dataset: string,
): Record<string, ParamValue> {
  const parsed = entry.schema.parse(given) as Record<string, unknown>;
  const out: Record<string, ParamValue> = {};
  for (const key of Object.keys(parsed).sort()) {
    const v = parsed[key];
    if (LOCAL_PARAMS.includes(key) || v === undefined || v === null) continue;
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    else out[key] = JSON.stringify(v);
  }
  return out;
}

export interface PlanContext {
  config: ExperimentConfig;
  /** sha256 of the ratings file (null for synthetic data). */
  datasetSha256: string | null;
}

function earlyStoppingFor(
  config: ExperimentConfig,
  m: ModelConfig,
  entry: ModelEntry,
): TrialEarlyStopping | null {
  const es = config.earlyStopping;
  const epochParam = epochParamOf(entry);
  if (!es || !m.earlyStopping || epochParam === null || config.validation === null) return null;
  return { ...es, epochParam };
}

/** Builds one trial: resolves params, derives the model seed, computes the hash. */
export function planTrial(
  ctx: PlanContext,
  set: ParamSet,
  role: TrialRole,
  split: string,
  validation: string | null,
  index: number,
  override: Record<string, ParamValue> = {},
): PlannedTrial {
  const { config } = ctx;
  const m = config.models[set.entry]!;
  const entry = modelEntry(m.model);
  const given = { ...set.given, ...override };
  const params = resolveParams(entry, given, config.dataset);
  if ('seed' in entry.schema.shape && given.seed === undefined) {
    // Derived from what the parameter set is, never from when it runs; validation left out so that a final
    // trial starts from the same initialisation as the search trials that chose it.
    params.seed = deriveRunSeeds(config.seed, {
      dataset: config.dataset,
      split,
      model: m.model,
      given: set.given,
    }).model;
  }
  const earlyStopping = validation !== null ? earlyStoppingFor(config, m, entry) : null;
  const metrics = config.metrics.filter(
    (name) => metricKeysFor(entry.task, [name], config.protocols).length > 0,
  );
  const ranking = metricKeysFor(entry.task, metrics, config.protocols).some((k) => k.includes('/'));
  const spec: PlannedTrial['spec'] = {
    dataset: config.dataset,
    seed: config.seed,
    split,
    validation,
    model: m.model,
    params,
    metrics,
    protocols: ranking ? config.protocols : [],
    relevance: ranking ? config.relevance : null,
    earlyStopping,
    perUser: validation === null,
  };
  const hash = hashValue({
    scheme: TRIAL_HASH_SCHEME,
    code: numericCodeHash(),
    dataset: config.dataset,
    datasetSha256: ctx.datasetSha256,
    split,
    validation,
    seed: config.seed,
    model: m.model,
    params,
    metrics: spec.metrics,
    protocols: spec.protocols,
    relevance: spec.relevance,
    earlyStopping: earlyStopping
      ? {
          metric: earlyStopping.metric,
          goal: earlyStopping.goal,
          patience: earlyStopping.patience,
          minDelta: earlyStopping.minDelta,
        }
      : null,
  });
  return {
    index,
    hash,
    role,
    entry: set.entry,
    label: set.label,
    model: m.model,
    task: entry.task,
    config: set.config,
    split,
    validation,
    searched: set.searched,
    params,
    spec,
  };
}

/** The search phase: every configuration of every entry on every split (× validation part). */
export function planSearch(ctx: PlanContext): { sets: ParamSet[][]; trials: PlannedTrial[] } {
  const { config } = ctx;
  const sets = config.models.map((_, e) => paramSets(config, e));
  const trials: PlannedTrial[] = [];
  for (const entrySets of sets)
    for (const set of entrySets)
      for (const split of config.splits)
        for (const validation of config.validation ?? [null])
          trials.push(planTrial(ctx, set, 'search', split, validation, trials.length));
  return { sets, trials };
}

/** The key of the selection metric for a model task (first protocol for ranking metrics). */
export function selectKey(config: ExperimentConfig): string {
  const spec = parseMetric(config.select.metric);
  return spec.family === 'rating' ? spec.name : metricKey(spec.name, config.protocols[0] ?? 'full');
}

/** Mean of the selection metric per configuration of an entry; null for configurations with a failed trial. */
export function configScores(
  trials: ReadonlyArray<{
    entry: number;
    config: number;
    role: TrialRole;
    metrics: Record<string, number> | null;
  }>,
  entry: number,
  key: string,
): Map<number, number | null> {
  const sums = new Map<number, { sum: number; n: number; failed: boolean }>();
  for (const t of trials) {
    if (t.entry !== entry || t.role !== 'search') continue;
    const s = sums.get(t.config) ?? { sum: 0, n: 0, failed: false };
    const v = t.metrics?.[key];
    if (v === undefined || !Number.isFinite(v)) s.failed = true;
    else {
      s.sum += v;
      s.n++;
    }
    sums.set(t.config, s);
  }
  const out = new Map<number, number | null>();
  for (const [c, s] of [...sums].sort((a, b) => a[0] - b[0]))
    out.set(c, s.failed || s.n === 0 ? null : s.sum / s.n);
  return out;
}

/** The best configuration by mean score (ties: the lower index); null when every configuration failed. */
export function bestConfig(scores: Map<number, number | null>, goal: 'min' | 'max'): number | null {
  let best: number | null = null;
  let bestScore = 0;
  for (const [c, s] of scores) {
    if (s === null) continue;
    if (best === null || (goal === 'min' ? s < bestScore : s > bestScore)) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}

/**
 * The final phase (only with a validation part): the best configuration of each entry refitted on each
 * split's whole training part and evaluated on its test part; with early stopping, for the epoch count the
 * validation trials of that split chose (their mean best epoch, rounded).
 */
export function planFinal(
  ctx: PlanContext,
  sets: ParamSet[][],
  best: Array<number | null>,
  searchTrials: ReadonlyArray<PlannedTrial & { bestEpoch: number | null }>,
  start: number,
): PlannedTrial[] {
  const out: PlannedTrial[] = [];
  sets.forEach((entrySets, e) => {
    const b = best[e];
    if (b === null || b === undefined) return;
    const set = entrySets[b]!;
    for (const split of ctx.config.splits) {
      const override: Record<string, ParamValue> = {};
      const chosen = searchTrials.filter((t) => t.entry === e && t.config === b && t.split === split);
      const es = chosen[0]?.spec.earlyStopping;
      if (es) {
        const epochs = chosen.map((t) => t.bestEpoch).filter((x): x is number => x !== null && x > 0);
        if (epochs.length > 0)
          override[es.epochParam] = Math.max(
            1,
            Math.round(epochs.reduce((a, x) => a + x, 0) / epochs.length),
          );
      }
      out.push(planTrial(ctx, set, 'final', split, null, start + out.length, override));
    }
  });
  return out;
}
