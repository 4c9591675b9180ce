/**
 * SLOW (a real `git clone` and `npm ci`: ~30–90 s with a warm npm cache, minutes with a cold one).
 *
 * A fresh clone of the committed HEAD runs the npm part of setup (REELAB_SETUP_SKIP_PYTHON=1 skips .venv, the
 * kernel and TensorFlow) and must stay git-clean: npm ci installs from the committed lock without rewriting it,
 * and everything setup creates (node_modules, .tools/node24 when the machine's Node is older than 22) is
 * git-ignored. A second setup run must do nothing. Uncommitted work is not in the clone; set
 * REELAB_FRESH_CLONE_SOURCE=<repository> to clone another repository (e.g. a scratch commit of the working tree).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], {
  cwd: __dirname,
  encoding: 'utf8',
}).trim();
const source = process.env.REELAB_FRESH_CLONE_SOURCE || repo;

/**
 * The environment of a fresh shell: no npm script variables, and no PATH entry inside this checkout (its
 * node_modules/.bin or .tools/node24), so the clone picks its Node the way it would on a new machine.
 */
function freshEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'NODE_OPTIONS' || k === 'REELAB_NODE_DIR' || k.startsWith('VITEST'))
      continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => p !== '' && p !== repo && !p.startsWith(repo + sep))
    .join(delimiter);
  env.REELAB_SETUP_SKIP_PYTHON = '1';
  env.REELAB_TF = 'none';
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 60_000) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('a fresh clone (SLOW: git clone + npm ci)', () => {
  it('setup installs from the committed lock, leaves `git status` empty, and a second run does nothing', {
    timeout: 900_000,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'reelab-fresh-clone-'));
    const clone = join(dir, 'reelab');
    const env = freshEnv();
    try {
      execFileSync('git', ['clone', '--quiet', '--local', source, clone], { stdio: 'pipe' });

      const first = run('bash', ['scripts/setup.sh'], clone, env, 840_000);
      expect(first.status, first.out).toBe(0);
      expect(first.out).toMatch(/installing npm packages/);

      const status = run(
        'git',
        ['status', '--porcelain', '--untracked-files=all', '--ignored=no'],
        clone,
        env,
      );
      expect(status.out, 'setup left the clone dirty').toBe('');
      expect(run('git', ['diff', '--exit-code', 'package-lock.json'], clone, env).status).toBe(0);

      // The Node the project's scripts run on is >= 22 (the local Node 24 when the machine's is older).
      const node = run(
        'bash',
        ['-c', 'source scripts/node-env.sh && node -p process.versions.node'],
        clone,
        env,
      );
      expect(node.status, node.out).toBe(0);
      expect(Number(node.out.trim().split('.')[0])).toBeGreaterThanOrEqual(22);

      const second = run('bash', ['scripts/setup.sh'], clone, env, 120_000);
      expect(second.status, second.out).toBe(0);
      expect(second.out).not.toMatch(/installing npm packages|fetching node/);
      expect(run('git', ['status', '--porcelain', '--untracked-files=all'], clone, env).out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
