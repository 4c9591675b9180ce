import { join } from 'node:path';
import { ConfigError } from '../util/errors';
import { Rng } from '../util/rng';
import { interactionsFromRaw } from './build';
import { datasetDir, resolveDataDir } from './data-dir';
import type { Interactions } from './interactions';
import { MOVIELENS } from './movielens';
import { readRatingsFile } from './parse-ratings';

export interface Split {
  /** The split's name as given (e.g. "u1", "random:0.2"). */
  name: string;
  train: Interactions;
  test: Interactions;
}

export interface SplitOptions {
  seed?: number;
  dataDir?: string;
}

const GROUPLENS_FOLDS = ['u1', 'u2', 'u3', 'u4', 'u5', 'ua', 'ub'] as const;

/**
 * Splits `all` (the full dataset's ratings) into train and test parts over the same id maps.
 * GroupLens folds (u1…u5, ua, ub) are read from their files in the ml-100k folder.
 */
export function makeSplit(
  all: Interactions,
  spec: string,
  dataset: string,
  options: SplitOptions = {},
): Split {
  if ((GROUPLENS_FOLDS as readonly string[]).includes(spec)) {
    if (dataset !== 'ml-100k') {
      throw new ConfigError(
        'split',
        `the GroupLens fold ${spec} exists only for ml-100k (dataset is ${dataset})`,
      );
    }
    const dir = datasetDir(resolveDataDir(options.dataDir), 'ml-100k', `${spec}.base`);
    const format = MOVIELENS['ml-100k'].ratingsFormat;
    const read = (part: 'base' | 'test') =>
      interactionsFromRaw(readRatingsFile(join(dir, `${spec}.${part}`), format), {
        userIds: all.userIds,
        itemIds: all.itemIds,
        unknownContext: 'u.data',
      });
    return { name: spec, train: read('base'), test: read('test') };
  }
  const random = /^random:(0?\.\d+)$/.exec(spec);
  if (random) return randomHoldout(all, spec, Number(random[1]), options.seed ?? 42);
  throw new ConfigError(
    'split',
    `unknown split "${spec}"; expected one of ${GROUPLENS_FOLDS.join(', ')}, random:<fraction>`,
  );
}

function randomHoldout(all: Interactions, name: string, fraction: number, seed: number): Split {
  const rng = new Rng(seed);
  const mask = new Uint8Array(all.size);
  const perm = rng.permutation(all.size);
  const nTest = Math.round(all.size * fraction);
  for (let k = 0; k < nTest; k++) mask[perm[k]!] = 1;
  const trainMask = new Uint8Array(all.size);
  for (let i = 0; i < all.size; i++) trainMask[i] = mask[i] ? 0 : 1;
  return { name, train: all.filter(trainMask), test: all.filter(mask) };
}
