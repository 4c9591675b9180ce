import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { listOutboxFiles } from '../../lib/tracking/outbox';
import { withRun } from '../../lib/tracking/run';
import { freePort } from '../../lib/tracking/server';
import { projectRoot } from '../../lib/util/project';
import { useMlflowServer, useTempDir } from '../helpers/mlflow';

const server = useMlflowServer();
const tmp = useTempDir('reelab-cli-mlflow-');

async function reelab(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(projectRoot(), 'bin', 'reelab.js'), ...args],
      { cwd: projectRoot() },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('reelab mlflow', () => {
  it('runs --json prints the experiment as one JSON table', async () => {
    const client = new MlflowClient({ trackingUri: server().url });
    for (const [name, rmse] of [
      ['a', 0.95],
      ['b', 0.9],
    ] as const) {
      await withRun({ client, experiment: 'cli-runs', runName: name, source: 'test' }, async (run) => {
        await run.logParams({ model: 'svd' });
        run.logMetric('rmse', rmse + 0.1, 0);
        run.logMetric('rmse', rmse, 1);
      });
    }
    const out = await reelab([
      'mlflow',
      'runs',
      '--experiment',
      'cli-runs',
      '--order-by',
      'metrics.rmse ASC',
      '--tracking-uri',
      server().url,
      '--json',
    ]);
    expect(out.code).toBe(0);
    const table = JSON.parse(out.stdout);
    expect(
      table.rows.map((r: { runName: string; metrics: { rmse: number } }) => [r.runName, r.metrics.rmse]),
    ).toEqual([
      ['b', 0.9],
      ['a', 0.95],
    ]);
    expect(table.paramKeys).toEqual(['model']);

    const missing = await reelab([
      'mlflow',
      'runs',
      '--experiment',
      'nope',
      '--tracking-uri',
      server().url,
      '--json',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/no MLflow experiment named "nope"/);
  });

  it('status --json reports the server version and the outbox', async () => {
    const out = await reelab([
      'mlflow',
      'status',
      '--tracking-uri',
      server().url,
      '--outbox',
      tmp(),
      '--json',
    ]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({
      trackingUri: server().url,
      up: true,
      version: '3.17.2',
      outbox: { dir: tmp(), files: [] },
    });
  });

  it('sync leaves the outbox of a live process alone and exits 3 while records wait', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const outbox = join(tmp(), 'live');
    const client = new MlflowClient({
      trackingUri: dead,
      outboxDir: outbox,
      retry: { retries: 1, baseDelayMs: 10, maxDelayMs: 20 },
      warn: () => {},
    });
    await withRun({ client, experiment: 'cli-sync', runName: 'offline', source: 'test' }, async (run) => {
      run.logMetric('loss', 1, 0);
    });
    const [file] = listOutboxFiles(outbox);
    const out = await reelab(['mlflow', 'sync', '--outbox', outbox, '--json']);
    expect(out.code).toBe(3);
    const result = JSON.parse(out.stdout);
    expect(result.files).toEqual([expect.objectContaining({ file, status: 'in-use', applied: 0 })]);
    expect(result.pending).toBe(3); // createRun, log, end
    expect(listOutboxFiles(outbox)).toEqual([file]);
  });
});
