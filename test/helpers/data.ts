import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The folder with the real MovieLens datasets (REELAB_DATA_DIR, else ../shared/datasets next to the checkout).
 * When REELAB_REQUIRE_REAL_DATA=1 (set by .ci/run), a missing dataset fails the test instead of skipping it.
 */
export function realDataDir(): string {
  return resolve(process.env.REELAB_DATA_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'datasets'));
}

export function requireRealData(): boolean {
  return process.env.REELAB_REQUIRE_REAL_DATA === '1';
}

/** True when `dataset` is present; throws when it is missing but required, so CI cannot silently skip. */
export function hasDataset(dataset: string, file: string): boolean {
  const present = existsSync(join(realDataDir(), dataset, file));
  if (!present && requireRealData()) {
    throw new Error(`REELAB_REQUIRE_REAL_DATA=1 but ${join(realDataDir(), dataset, file)} is missing`);
  }
  return present;
}

export const HAS_ML100K = hasDataset('ml-100k', 'u.data');
export const HAS_ML_LATEST_SMALL = hasDataset('ml-latest-small', 'ratings.csv');
