import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | null = null;

/** The reelab checkout: the nearest folder above this file that holds package.json and lib/. */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'lib'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the reelab project root above ${__dirname}`);
    dir = parent;
  }
}

/** A path inside the project's Python virtual environment (.venv/bin/<name>). */
export function venvBin(name: string): string {
  return join(projectRoot(), '.venv', 'bin', name);
}
