import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fakedMissing, isCi } from './require';

/**
 * The folder with the real MovieLens datasets (REELAB_DATA_DIR, else ../shared/datasets next to the checkout).
 * When REELAB_REQUIRE_REAL_DATA=1 (set by .ci/run) or CI=true, a missing dataset fails the test file instead of
 * skipping it; elsewhere the tests that need it skip and stderr says why.
 */
export function realDataDir(): string {
  return resolve(process.env.REELAB_DATA_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'datasets'));
}

export function requireRealData(): boolean {
  return process.env.REELAB_REQUIRE_REAL_DATA === '1' || isCi();
}

/**
 * True when `dataset` is present (REELAB_FAKE_MISSING=dataset:<name> hides it); throws when it is missing but
 * required, so CI cannot silently skip.
 */
export function hasDataset(dataset: string, file: string): boolean {
  const path = join(realDataDir(), dataset, file);
  const present = existsSync(path) && !fakedMissing(`dataset:${dataset}`);
  if (!present) {
    const why = `${path} is missing${fakedMissing(`dataset:${dataset}`) ? ' (faked by REELAB_FAKE_MISSING)' : ''}`;
    if (requireRealData()) {
      const flag = process.env.REELAB_REQUIRE_REAL_DATA === '1' ? 'REELAB_REQUIRE_REAL_DATA=1' : 'CI=true';
      throw new Error(`${flag} but ${why}: set REELAB_DATA_DIR or run \`npx reelab data fetch ${dataset}\``);
    }
    console.warn(`[reelab test] skipping tests that need dataset ${dataset}: ${why}`);
  }
  return present;
}

export const HAS_ML100K = hasDataset('ml-100k', 'u.data');
export const HAS_ML_LATEST_SMALL = hasDataset('ml-latest-small', 'ratings.csv');
