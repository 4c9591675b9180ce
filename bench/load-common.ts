import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Marks where bench/load-features.ts's section starts in bench/results/load.md (bench/load.ts keeps it). */
export const FEATURES_MARKER = '<!-- bench/load-features.ts writes below this line -->';

/** Lets the repository's formatter align the tables (biome checks bench/**). Best effort. */
export function formatMarkdown(file: string): void {
  try {
    execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
      stdio: 'ignore',
    });
  } catch {
    // An unformatted table is still a readable table.
  }
}
