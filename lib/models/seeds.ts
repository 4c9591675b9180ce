/**
 * The seeds of one run, derived in one place from the one seed a user gives (`--seed`, an experiment's `seed:`,
 * a notebook's argument). A single run (evaluate, train, a notebook fit) uses that seed for everything, so
 * `--seed 7` records `seed = 7` on the model, the split and the evaluation. A search trial passes its identity
 * (what the trial is: dataset, split, model, given params) and gets a model seed derived from it, so trials of
 * different configurations start from different initialisations that do not depend on when they run.
 */
import { hashValue, seedFromHash } from '../util/hash';
import { modelEntry } from './registry';

export interface RunSeeds {
  /** Seeds computed splits (random, k-fold, …) and the loading of synthetic data. */
  split: number;
  /** Seeds the validation part carved from a training part. */
  validation: number;
  /** The model's `seed` parameter, unless the params set one. */
  model: number;
  /** Seeds the evaluation's sampling (sampled negatives). */
  evaluation: number;
}

/**
 * The run's seeds from its one seed. With `trialIdentity` (what a search trial is, as plain data), the model
 * seed is derived from the sha256 of seed and identity; without it, it is the seed itself.
 */
export function deriveRunSeeds(seed: number, trialIdentity?: Record<string, unknown>): RunSeeds {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  return {
    split: seed,
    validation: seed,
    model: trialIdentity === undefined ? seed : seedFromHash(hashValue({ seed, ...trialIdentity })),
    evaluation: seed,
  };
}

/** Params with `seed` set to `modelSeed` when the model has a seed parameter and the params leave it open. */
export function withModelSeed(
  model: string,
  params: Record<string, unknown>,
  modelSeed: number,
): Record<string, unknown> {
  if (!('seed' in modelEntry(model).schema.shape) || params.seed !== undefined) return params;
  return { ...params, seed: modelSeed };
}
