import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
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
