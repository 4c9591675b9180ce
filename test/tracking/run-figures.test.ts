import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { startRun } from '../../lib/tracking/run';
import { freePort, type MlflowServer, mlflowExecutables, startMlflowServer } from '../../lib/tracking/server';
import { syncOutbox } from '../../lib/tracking/sync';
import { venvBin } from '../../lib/util/project';
import { logRunFigures, runFigures } from '../../lib/viz/run-figures';
import { evaluate } from '../../lib/workflows/evaluate';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { component, requireComponentForEach } from '../helpers/require';

/**
 * Every training and evaluation run carries its figures (`figures/*.html`): checked against the real MLflow
 * server from .venv and read back with MLflow's own Python client; the figure's numbers are the run's.
 */
const mlflow = (() => {
  try {
    mlflowExecutables();
    return component('mlflow', true, '');
  } catch (err) {
    return component('mlflow', false, (err as Error).message);
  }
})();
requireComponentForEach(mlflow);

let server: MlflowServer | null = null;
let dir = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reelab-run-figures-'));
  if (mlflow.available) server = await startMlflowServer({ storeDir: join(dir, 'store') });
});
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const client = () => new MlflowClient({ trackingUri: server!.url, outboxDir: join(dir, 'outbox') });

// biome-ignore lint/suspicious/noExplicitAny: whatever JSON the Python script prints
async function python(script: string): Promise<any> {
  const { stdout } = await promisify(execFile)(venvBin('python'), ['-c', script], {
    env: { ...process.env, MLFLOW_TRACKING_URI: server!.url, PYTHONWARNINGS: 'ignore' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** The Plotly spec a figure page draws (the `var f=` object figureHtml writes). */
function specIn(html: string): { data: { x: number[]; y: number[]; name: string }[] } {
  const m = /\(function\(\)\{var f=(\{.*?\});function draw\(\)/s.exec(
    html.slice(html.lastIndexOf('(function(){var f=')),
  );
  if (!m) throw new Error('no figure spec in the page');
  return JSON.parse(m[1]!.replace(/<\\\//g, '</'));
}

describe('runFigures', () => {
  it('groups RMSE curves, keeps loss apart, skips timings and draws exactly the recorded values', () => {
    const epochs = [1, 2, 3].map((epoch) => ({
      epoch,
      timestamp: epoch,
      values: { epoch_seconds: 0.1, train_rmse: 1 / epoch, test_rmse: 1.1 / epoch, loss: 10 - epoch },
    }));
    const figs = runFigures({
      label: 'svd x',
      epochs,
      perUser: { 'full/ndcg_at_10': [0, 0.5, 1], rmse: [] },
    });
    expect(Object.keys(figs).sort()).toEqual([
      'learning-curve-loss',
      'learning-curve-rmse',
      'per-user-full-ndcg_at_10',
    ]);
    const rmse = figs['learning-curve-rmse']!.data as unknown as { name: string; x: number[]; y: number[] }[];
    expect(rmse.map((t) => t.name)).toEqual(['train_rmse', 'test_rmse']);
    expect(rmse[1]!.x).toEqual([1, 2, 3]);
    expect(rmse[1]!.y).toEqual([1.1, 0.55, 1.1 / 3]);
    const hist = figs['per-user-full-ndcg_at_10']!.data[0] as unknown as { y: number[] };
    expect(hist.y.reduce((a, b) => a + b, 0)).toBe(3);
    expect(runFigures({ label: 'pop', epochs: [] })).toEqual({});
  });
});

describe.skipIf(!HAS_ML100K)('figures on an evaluate run (ml-100k u1, real MLflow server)', () => {
  it('logs learning curves and per-user RMSE/MAE as figures/*.html; the curve is the recorded metric history', async () => {
    const result = await evaluate({
      dataset: 'ml-100k',
      split: 'u1',
      model: 'svd',
      params: { factors: 8, epochs: 4 },
      dataDir: realDataDir(),
      tracking: client(),
      experiment: 'run-figures',
      source: 'test',
    });
    const runId = result.runId!;
    const py = await python(`
import json, mlflow
from mlflow import MlflowClient
c = MlflowClient()
arts = sorted(a.path for a in c.list_artifacts(${JSON.stringify(runId)}, "figures"))
hist = [(m.step, m.value) for m in c.get_metric_history(${JSON.stringify(runId)}, "test_rmse")]
page = mlflow.artifacts.download_artifacts(run_id=${JSON.stringify(runId)}, artifact_path="figures/learning-curve-rmse.html", dst_path=${JSON.stringify(join(dir, 'dl'))})
print(json.dumps(dict(arts=arts, hist=sorted(hist), page=page)))`);
    expect(py.arts).toEqual([
      'figures/learning-curve-loss.html',
      'figures/learning-curve-rmse.html',
      'figures/per-user-mae.html',
      'figures/per-user-rmse.html',
    ]);
    const html = readFileSync(py.page, 'utf8');
    // Embedded plotly.js: the page opens from the MLflow UI with no network.
    expect(html.length).toBeGreaterThan(1_000_000);
    const test = specIn(html).data.find((t) => t.name === 'test_rmse')!;
    expect(test.x).toEqual(py.hist.map((h: [number, number]) => h[0]));
    expect(test.y.map((v) => Math.fround(v))).toEqual(
      py.hist.map((h: [number, number]) => Math.fround(h[1])),
    );
    expect(test.y).toHaveLength(4);
  });

  it('queues figures in the outbox while the server is down; sync uploads them', async () => {
    const outbox = join(dir, 'outbox-down');
    const dead = new MlflowClient({
      trackingUri: `http://127.0.0.1:${await freePort()}`,
      outboxDir: outbox,
      startOffline: true,
      retry: { retries: 0, baseDelayMs: 10, maxDelayMs: 10 },
      warn: () => {},
    });
    const run = await startRun(dead, {
      experiment: 'run-figures-outbox',
      runName: 'offline',
      source: 'test',
    });
    const epochs = [1, 2].map((epoch) => ({ epoch, timestamp: epoch, values: { loss: 3 - epoch } }));
    const written = await logRunFigures(run, { label: 'offline', epochs }, { plotly: 'cdn' });
    expect(written).toEqual(['figures/learning-curve-loss.html']);
    await run.end('FINISHED');
    await syncOutbox({ dir: outbox, to: client() });
    const exp = await client().getExperimentByName('run-figures-outbox');
    const runs = await client().searchAllRuns({ experimentIds: [exp!.experiment_id] });
    const id = runs[0]!.info.run_id;
    const py = await python(`
import json, mlflow
from mlflow import MlflowClient
page = mlflow.artifacts.download_artifacts(run_id=${JSON.stringify(id)}, artifact_path="figures/learning-curve-loss.html", dst_path=${JSON.stringify(join(dir, 'dl2'))})
print(json.dumps(dict(arts=[a.path for a in MlflowClient().list_artifacts(${JSON.stringify(id)}, "figures")], page=page)))`);
    expect(py.arts).toEqual(['figures/learning-curve-loss.html']);
    const html = readFileSync(py.page, 'utf8');
    // A CDN page is small and names the installed plotly.js version.
    expect(html.length).toBeLessThan(20_000);
    expect(html).toMatch(/cdn\.plot\.ly\/plotly-\d+\.\d+\.\d+\.min\.js/);
    expect(specIn(html).data[0]!.y).toEqual([2, 1]);
  });
});
