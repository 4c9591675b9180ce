import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ratingsFileDigest } from '../data/digest';
import type { Interactions } from '../data/interactions';
import { MLFLOW_DATASET_LIMITS, type MlflowDatasetInput } from './mlflow-client';

/** The input tag MLflow's UI and `mlflow.data` read to tell a run's training data from its evaluation data. */
export const DATASET_CONTEXT_TAG = 'mlflow.data.context';

export interface DatasetPart {
  /** `mlflow.data.context`: "train", "test", "validation", … */
  context: string;
  data: Interactions;
}

export interface DatasetInputOptions {
  /** Dataset name as reelab spells it ("ml-100k", "synthetic:20000"); also the MLflow dataset name. */
  dataset: string;
  /** The ratings file read (null for synthetic data). */
  file: string | null;
  /** sha256 of that file (null for synthetic data). */
  sha256: string | null;
  /** The seed the data was generated / split with. */
  seed: number;
  /** Split whose parts these are (null: `parts` is the whole dataset). */
  split: string | null;
  parts: DatasetPart[];
}

/**
 * The MLflow dataset inputs of a run, one per part (training part, test part), each with its own counts.
 *
 * MLflow keeps one dataset per (experiment, name, digest) and at most 36 characters of digest, so: the whole
 * ratings file is `name` + the first 36 hex digits of its sha256; a part of a split gets a digest of its own,
 * derived from the file's sha256, the split, the seed and the part (two parts with one digest would be one
 * dataset to MLflow, and the second input would be dropped). The full sha256 is in the profile. Synthetic data
 * has no file: its base digest is that of its name and seed.
 */
export function datasetInputs(options: DatasetInputOptions): MlflowDatasetInput[] {
  const base = options.sha256 ?? sha256Hex(`reelab-synthetic\n${options.dataset}\n${options.seed}`);
  const source =
    options.file !== null
      ? { source_type: 'local', source: JSON.stringify({ uri: pathToFileURL(options.file).href }) }
      : {
          source_type: 'code',
          source: JSON.stringify({
            tags: { 'reelab.dataset': options.dataset, 'reelab.seed': String(options.seed) },
          }),
        };
  return options.parts.map((part) => {
    const whole = options.split === null;
    const digest = (
      whole
        ? base
        : sha256Hex(`reelab-dataset-part/1\n${base}\n${options.split}\n${options.seed}\n${part.context}`)
    ).slice(0, MLFLOW_DATASET_LIMITS.digest);
    const counts = partCounts(part.data);
    const profile: Record<string, string | number> = {
      num_rows: counts.ratings,
      users: counts.users,
      items: counts.items,
      ratings: counts.ratings,
    };
    if (options.split !== null) profile.split = options.split;
    profile.part = part.context;
    profile.seed = options.seed;
    if (options.sha256) profile.ratings_file_sha256 = options.sha256;
    return {
      dataset: {
        name: options.dataset,
        digest,
        ...source,
        schema: JSON.stringify({ mlflow_colspec: ratingsSchema(part.data.timestamps !== null) }),
        profile: JSON.stringify(profile),
      },
      tags: [{ key: DATASET_CONTEXT_TAG, value: part.context }],
    };
  });
}

/** `datasetInputs` with the ratings file and its sha256 looked up from the dataset name (cached hash). */
export async function datasetInputsFor(
  dataset: string,
  dataDir: string | undefined,
  seed: number,
  split: string | null,
  parts: Record<string, Interactions>,
): Promise<MlflowDatasetInput[]> {
  const { sha256, file } = await ratingsFileDigest(dataset, dataDir);
  return datasetInputs({
    dataset,
    file,
    sha256,
    seed,
    split,
    parts: Object.entries(parts).map(([context, data]) => ({ context, data })),
  });
}

/** Users and items that occur in `data`, and its number of ratings. */
export function partCounts(data: Interactions): { users: number; items: number; ratings: number } {
  return {
    users: distinct(data.users, data.nUsers),
    items: distinct(data.items, data.nItems),
    ratings: data.size,
  };
}

function distinct(column: Int32Array, size: number): number {
  const seen = new Uint8Array(size);
  let n = 0;
  for (let k = 0; k < column.length; k++) {
    const v = column[k]!;
    if (seen[v] === 0) {
      seen[v] = 1;
      n++;
    }
  }
  return n;
}

function ratingsSchema(withTimestamps: boolean): Array<{ type: string; name: string; required: boolean }> {
  const cols = [
    { type: 'long', name: 'userId', required: true },
    { type: 'long', name: 'movieId', required: true },
    { type: 'float', name: 'rating', required: true },
  ];
  if (withTimestamps) cols.push({ type: 'long', name: 'timestamp', required: true });
  return cols;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
