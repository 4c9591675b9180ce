import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, DataError } from '../util/errors';

/** The data directory: the explicit option, else REELAB_DATA_DIR, else ./data. */
export function resolveDataDir(explicit?: string): string {
  return resolve(explicit ?? process.env.REELAB_DATA_DIR ?? 'data');
}

/** `<dataDir>/<dataset>` after checking that it exists and holds `requiredFile`. */
export function datasetDir(dataDir: string, dataset: string, requiredFile: string): string {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new ConfigError('data dir', `${dataDir} does not exist (set --data-dir or REELAB_DATA_DIR)`);
  }
  const dir = join(dataDir, dataset);
  if (!existsSync(join(dir, requiredFile))) {
    throw new DataError(
      join(dir, requiredFile),
      undefined,
      `dataset ${dataset} is not in ${dataDir}: run \`reelab data fetch ${dataset}\` or point --data-dir / REELAB_DATA_DIR at a folder holding ${dataset}/`,
    );
  }
  return dir;
}
