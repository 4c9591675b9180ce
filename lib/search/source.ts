/** What a search is run from: the config's source record, and the dataset's identity. */
import type { ExperimentConfig } from '../config/schema';
import { ratingsFileDigest } from '../data/digest';
import { canonicalJson, sha256Hex } from '../util/hash';

export interface ConfigSource {
  /** Path relative to the project root (or absolute), null for in-memory configs. */
  path: string | null;
  text: string;
  sha256: string;
}

/** sha256 of the dataset's ratings file (null for synthetic data), cached by size and mtime. */
export async function datasetSha256(dataset: string, dataDir?: string): Promise<string | null> {
  return (await ratingsFileDigest(dataset, dataDir)).sha256;
}

/** The source record of an in-memory config (its canonical JSON stands in for the file text). */
export function inMemorySource(config: ExperimentConfig): ConfigSource {
  const text = `${canonicalJson(config)}\n`;
  return { path: null, text, sha256: sha256Hex(text) };
}
