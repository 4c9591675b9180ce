import { ratingsFileDigest } from '../data/digest';
import type { Interactions } from '../data/interactions';
import { loadRatings } from '../data/load';
import { SideInformation } from '../data/side-information';
import { makeSplit, type Split } from '../data/split';
import { deriveRunSeeds, type RunSeeds } from '../models/seeds';
import type { MlflowClient } from '../tracking/mlflow-client';
import type { RunSource } from '../tracking/run';

/** The settings every single-run workflow (evaluate, train, a comparison) takes besides its own. */
export interface RunSettings {
  /** The run's one seed (split, validation part, model, evaluation; default 42). */
  seed?: number;
  dataDir?: string;
  threads?: number;
  /** Log to this MLflow server (null or omitted: no tracking). */
  tracking?: MlflowClient | null;
  experiment?: string;
  source?: RunSource;
  sourceName?: string;
}

/** What a single run (evaluate, train, a comparison) works on, loaded once from its dataset, split and seed. */
export interface RunData {
  /** The run's one seed and the seeds derived from it (lib/models/seeds.ts). */
  seed: number;
  seeds: RunSeeds;
  /** Every rating of the dataset (its id maps define the item indices). */
  all: Interactions;
  /** The split, or null when the run fits on every rating. */
  split: Split | null;
  /** The movie catalogue, loaded only when a model needs it. */
  side: SideInformation;
  /** The ratings file and its sha256 (null for synthetic data). */
  ratingsFile: string | null;
  ratingsSha256: string | null;
}

/** Loads the ratings, makes the split (when one is named) and prepares side information, all seeded once. */
export async function loadRunData(
  dataset: string,
  split: string | null,
  options: { seed?: number; dataDir?: string },
): Promise<RunData> {
  const seed = options.seed ?? 42;
  const seeds = deriveRunSeeds(seed);
  const { dataDir } = options;
  const all = loadRatings(dataset, { dataDir, seed: seeds.split });
  const parts = split ? makeSplit(all, split, dataset, { seed: seeds.split, dataDir }) : null;
  const side = new SideInformation(dataset, all, { dataDir, seed: seeds.split });
  const { sha256, file } = await ratingsFileDigest(dataset, dataDir);
  return { seed, seeds, all, split: parts, side, ratingsFile: file, ratingsSha256: sha256 };
}
