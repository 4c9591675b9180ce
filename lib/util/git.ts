import { execFileSync } from 'node:child_process';
import { projectRoot } from './project';

export interface GitInfo {
  commit: string | null;
  dirty: boolean | null;
}

let cached: GitInfo | null = null;

/** The checkout's HEAD commit and whether tracked files have uncommitted changes (null outside git). */
export function gitInfo(): GitInfo {
  if (cached) return cached;
  const run = (args: string[]) =>
    execFileSync('git', args, {
      cwd: projectRoot(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const commit = run(['rev-parse', 'HEAD']);
    const dirty = run(['status', '--porcelain', '--untracked-files=no']).length > 0;
    cached = { commit, dirty };
  } catch {
    cached = { commit: null, dirty: null };
  }
  return cached;
}
