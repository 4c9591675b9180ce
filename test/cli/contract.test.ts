import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_ML_LATEST_SMALL, HAS_ML100K, realDataDir } from '../helpers/data';

const run = promisify(execFile);
const reelab = (args: string[]) =>
  run('node', ['bin/reelab.js', ...args], {
    env: { ...process.env, MLFLOW_TRACKING_URI: '' },
    maxBuffer: 1 << 24,
  });

/** stdout must be exactly one JSON object (the CLI contract); returns it. */
function oneJsonObject(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const value = JSON.parse(lines[0]!) as unknown;
  expect(typeof value).toBe('object');
  return value as Record<string, unknown>;
}

describe('reelab CLI contract', () => {
  it.runIf(HAS_ML100K)('data describe --json on ml-100k', async () => {
    const { stdout } = await reelab([
      'data',
      'describe',
      '--dataset',
      'ml-100k',
      '--data-dir',
      realDataDir(),
      '--json',
    ]);
    const r = oneJsonObject(stdout);
    expect(r).toMatchObject({ dataset: 'ml-100k', users: 943, items: 1682, ratings: 100000 });
  });

  it.runIf(HAS_ML_LATEST_SMALL)('data describe --json on ml-latest-small', async () => {
    const { stdout } = await reelab([
      'data',
      'describe',
      '--dataset',
      'ml-latest-small',
      '--data-dir',
      realDataDir(),
      '--json',
    ]);
    expect(oneJsonObject(stdout)).toMatchObject({
      users: 610,
      items: 9724,
      catalogueMovies: 9742,
      ratings: 100836,
    });
  });

  it.runIf(HAS_ML100K)('evaluate --json: baseline on u1', async () => {
    const { stdout } = await reelab([
      'evaluate',
      '--dataset',
      'ml-100k',
      '--data-dir',
      realDataDir(),
      '--split',
      'u1',
      '--model',
      'baseline',
      '--no-track',
      '--json',
    ]);
    const r = oneJsonObject(stdout);
    expect(r).toMatchObject({ model: 'baseline', dataset: 'ml-100k', split: 'u1' });
    const rmse = (r.metrics as Record<string, number>).rmse!;
    expect(rmse).toBeGreaterThan(0.94);
    expect(rmse).toBeLessThan(0.97);
    expect(typeof r.fitSeconds).toBe('number');
  });

  it('errors go to stderr with a non-zero exit and name the problem', async () => {
    const err = await reelab([
      'evaluate',
      '--dataset',
      'ml-100k',
      '--split',
      'u1',
      '--model',
      'nope',
      '--json',
    ]).catch((e) => e);
    expect(err.code).not.toBe(0);
    expect(err.stdout).toBe('');
    expect(err.stderr).toContain('unknown model "nope"');
    const err2 = await reelab(['data', 'describe', '--dataset', 'ml-7k', '--json']).catch((e) => e);
    expect(err2.stderr).toContain('unknown dataset "ml-7k"');
  });
});

/**
 * bin/reelab.js runs lib/ from the compiled build (.build/, made by setup) when it is fresh, else through tsx:
 * both must give the same output. The build here goes to its own folder inside the checkout (the CLI finds the
 * project root above it), so the shared .build/ is left alone.
 */
describe('reelab CLI: compiled build and tsx agree', () => {
  const root = join(__dirname, '..', '..');
  const buildDir = join(root, 'test-artifacts', `cli-build-${process.pid}`);
  const build = () =>
    run('node', ['-e', 'require("./bin/reelab.js").buildLib(process.argv[1])', buildDir], { cwd: root });
  const via = (mode: 'require' | 'off', args: string[]) =>
    run('node', ['bin/reelab.js', ...args], {
      cwd: root,
      env: { ...process.env, MLFLOW_TRACKING_URI: '', REELAB_BUILD: mode, REELAB_BUILD_DIR: buildDir },
      maxBuffer: 1 << 24,
    });
  /** Through the build; rebuilt when a lib/ file changed meanwhile (someone saved an edit), at most 3 times. */
  const viaBuild = async (args: string[]) => {
    for (let attempt = 1; ; attempt++) {
      const out = await via('require', args).catch((e) => e);
      if (!String(out.stderr).includes('since the build') || attempt === 3) return out;
      await build();
    }
  };
  beforeAll(build, 120_000);
  afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

  it('evaluate --json (SVD, WebAssembly kernel, 2 worker threads) gives the same JSON', async () => {
    const args = [
      ...['evaluate', '--dataset', 'synthetic:5000', '--split', 'random:0.2', '--model', 'svd'],
      ...['--set', 'epochs=3', '--threads', '2', '--no-track', '--json'],
    ];
    const [compiled, tsx] = [await viaBuild(args), await via('off', args)];
    const untimed = (stdout: string) =>
      JSON.parse(stdout.trim(), (k, v) => (k === 'fitSeconds' || k === 'seconds' ? 0 : v)) as unknown;
    const a = oneJsonObject(compiled.stdout);
    expect(typeof (a.metrics as Record<string, number>).rmse).toBe('number');
    expect(untimed(compiled.stdout)).toEqual(untimed(tsx.stdout));
  });

  it('help texts are the same', async () => {
    for (const args of [['--help'], ['evaluate', '--help'], ['mlflow', 'runs', '--help']]) {
      const [compiled, tsx] = [await viaBuild(args), await via('off', args)];
      expect(compiled.stdout).toBe(tsx.stdout);
      expect(compiled.stdout).toContain('Usage: reelab');
    }
  });

  it('a build that does not match lib/ is never run', async () => {
    const stampFile = join(buildDir, 'stamp.json');
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as {
      files: Record<string, { stat: string; sha256: string }>;
    };
    const saved = JSON.stringify(stamp);
    stamp.files['lib/cli/output.ts'] = { stat: '0:0', sha256: '0'.repeat(64) };
    writeFileSync(stampFile, JSON.stringify(stamp));
    try {
      const err = await via('require', ['--help']).catch((e) => e);
      expect(err.code).toBe(1);
      expect(err.stderr).toContain('lib/cli/output.ts changed since the build');
      // auto (the default) falls back to tsx and still works
      const fallback = await run('node', ['bin/reelab.js', 'data', 'splits', '--json'], {
        cwd: root,
        env: { ...process.env, REELAB_BUILD_DIR: buildDir },
      });
      expect(oneJsonObject(fallback.stdout)).toHaveProperty('splits');
    } finally {
      writeFileSync(stampFile, saved);
    }
  });
});
