import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../util/hash';
import { projectRoot } from '../util/project';

/** The folders whose code decides a trial's numbers (data, features, models, kernels, metrics). */
const NUMERIC_CODE = ['lib/data', 'lib/features', 'lib/models', 'lib/compute', 'lib/eval'];

let cached: string | null = null;

/**
 * sha256 over the sources that compute a trial's numbers. It is part of every trial hash, so a finished
 * trial is reused only while that code is unchanged: after an edit to a model, a kernel or a metric, the same
 * config re-runs its trials instead of reporting numbers the current code would not give. (Edits to reports,
 * tracking or the CLI do not invalidate trials.)
 */
export function numericCodeHash(): string {
  cached ??= sourceTreeHash(projectRoot(), NUMERIC_CODE);
  return cached;
}

/** sha256 over the .ts/.js files under `dirs` (relative to `root`): their paths and contents, in path order. */
export function sourceTreeHash(root: string, dirs: readonly string[]): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (/\.(ts|js)$/.test(entry.name)) files.push(rel);
    }
  };
  for (const dir of dirs) walk(dir);
  files.sort();
  return sha256Hex(files.map((f) => `${f}\n${sha256Hex(readFileSync(join(root, f), 'utf8'))}`).join('\n'));
}
