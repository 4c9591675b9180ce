import { join } from 'node:path';
import { sha256FileCached } from '../util/hash';
import { datasetDir, resolveDataDir } from './data-dir';
import { parseDatasetName } from './load';

/** The ratings file a dataset name reads and its sha256 (both null for synthetic data, which has no file). */
export async function ratingsFileDigest(
  dataset: string,
  dataDir: string | undefined,
): Promise<{ sha256: string | null; file: string | null }> {
  const parsed = parseDatasetName(dataset);
  if (parsed.kind === 'synthetic') return { sha256: null, file: null };
  const dir = datasetDir(resolveDataDir(dataDir), parsed.spec.name, parsed.spec.ratingsFile);
  const file = join(dir, parsed.spec.ratingsFile);
  return { sha256: await sha256FileCached(file), file };
}
