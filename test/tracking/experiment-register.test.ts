import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../lib/config/load';
import type { ExperimentConfigInput } from '../../lib/config/schema';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { type MlflowServer, mlflowExecutables, startMlflowServer } from '../../lib/tracking/server';
import { projectRoot, venvBin } from '../../lib/util/project';
import { runExperiment } from '../../lib/workflows/experiment';
import { component, requireComponent } from '../helpers/require';

/**
 * `register: {name, alias}` in an experiment config: after the search, the best configuration is trained on the
 * first split as its own MLflow run nested under the search's parent run and registered; checked against the
 * real MLflow server from .venv and read back with MLflow's own Python client. Under CI a missing .venv /
 * MLflow fails these tests (requireComponent), elsewhere they skip saying why.
 */
const mlflow = (() => {
  try {
    mlflowExecutables();
    return component('mlflow', true, '');
  } catch (err) {
    return component('mlflow', false, (err as Error).message);
  }
})();

const NAME = 'reelab-test-best';

const VALIDATION_YAML = `
name: register-validation
dataset: synthetic:2000
split: random:0.2
seed: 5
validation: { split: random:0.2 }
metrics: [rmse, mae]
models:
  - model: baseline
  - model: svd
    params: { epochs: 8 }
    space: { factors: [4, 8] }
register: { name: ${NAME}, alias: champion }
mlflow: { experiment: test-register }
report: { bootstrap: 100 }
`;

/** No validation part: configurations are compared on the test fold. */
const TEST_FOLD_YAML = `
name: register-test-fold
dataset: synthetic:2000
split: random:0.2
seed: 6
metrics: [rmse]
models:
  - model: svd
    params: { epochs: 6 }
    space: { factors: [4, 8] }
register: { name: ${NAME}, alias: champion }
mlflow: { experiment: test-register }
report: { bootstrap: 100 }
`;

describe('register: in the experiment config (validation)', () => {
  const base = (register: unknown) => ({
    name: 'x',
    dataset: 'synthetic:2000',
    split: 'random:0.2',
    metrics: ['rmse'],
    models: [{ model: 'baseline' }],
    register,
  });
  const problems = (register: unknown): string => {
    try {
      parseExperimentConfig(base(register));
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  };

  it('normalises name and alias (alias optional)', () => {
    expect(parseExperimentConfig(base({ name: 'best', alias: 'champion' })).register).toEqual({
      name: 'best',
      alias: 'champion',
    });
    expect(parseExperimentConfig(base({ name: 'best' })).register).toEqual({ name: 'best', alias: null });
    expect(parseExperimentConfig(base(undefined)).register).toBeNull();
  });

  it('names the field of every problem', () => {
    const bad = problems({ name: 'a/b', alias: 'latest' });
    expect(bad).toMatch(/register\.name: "a\/b" must be a non-empty name without "\/"/);
    expect(bad).toMatch(/register\.alias: "latest" is not a usable alias/);
    expect(problems({ alias: 'champion' })).toMatch(/register\.name: required/);
    expect(problems({ name: 'best', stage: 'Production' })).toMatch(
      /register\.stage: unknown key "stage"; allowed: name, alias/,
    );
  });

  it('without tracking it fails before the search starts', async () => {
    await expect(
      runExperiment(base({ name: 'best' }) as ExperimentConfigInput, {
        tracking: null,
        inline: true,
        log: () => {},
      }),
    ).rejects.toThrow(/register: registering the best configuration needs MLflow tracking/);
  });
});

describe('register: against a real MLflow server', () => {
  let server: MlflowServer | null = null;
  let dir = '';
  const previous = { outbox: process.env.REELAB_OUTBOX_DIR, cache: process.env.REELAB_MODEL_CACHE };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reelab-experiment-register-'));
    process.env.REELAB_OUTBOX_DIR = join(dir, 'outbox');
    process.env.REELAB_MODEL_CACHE = join(dir, 'cache');
    if (mlflow.available) server = await startMlflowServer({ storeDir: join(dir, 'store') });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    for (const [key, value] of [
      ['REELAB_OUTBOX_DIR', previous.outbox],
      ['REELAB_MODEL_CACHE', previous.cache],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const url = () => server!.url;
  const env = () => ({
    ...process.env,
    MLFLOW_TRACKING_URI: url(),
    REELAB_OUTBOX_DIR: join(dir, 'outbox'),
    REELAB_MODEL_CACHE: join(dir, 'cache'),
    PYTHONWARNINGS: 'ignore',
  });

  /** Runs Python with the venv's MLflow client against the test server; the script prints one JSON value. */
  // biome-ignore lint/suspicious/noExplicitAny: whatever JSON the Python script prints
  async function python(script: string): Promise<any> {
    const { stdout } = await promisify(execFile)(venvBin('python'), ['-c', script], {
      env: env(),
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  }

  /** The champion version and its run, as MLflow's Python client reads them. */
  const champion = () =>
    python(`
import json
from mlflow import MlflowClient
c = MlflowClient()
v = c.get_model_version_by_alias(${JSON.stringify(NAME)}, 'champion')
r = c.get_run(v.run_id)
print(json.dumps({"version": v.version, "run_id": v.run_id, "source": v.source, "tags": v.tags,
  "aliases": list(v.aliases), "run_tags": r.data.tags, "run_params": r.data.params,
  "run_metrics": r.data.metrics, "run_status": r.info.status, "experiment_id": r.info.experiment_id}))
`);

  async function reelab(args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(projectRoot(), 'bin', 'reelab.js'), ...args],
      { cwd: projectRoot(), env: env(), maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  }

  it('with a validation part: the final trial of the best configuration is retrained, nested and registered', async (ctx) => {
    requireComponent(ctx, mlflow);
    const file = join(dir, 'register-validation.yaml');
    writeFileSync(file, VALIDATION_YAML);
    const client = new MlflowClient({ trackingUri: url(), outboxDir: join(dir, 'outbox') });
    const out = await runExperiment(file, {
      tracking: client,
      inline: true,
      progress: 'none',
      log: () => {},
      reportDir: join(dir, 'reports'),
    });
    const { search, registered } = out;
    expect(search.counts.failed).toBe(0);
    expect(registered).not.toBeNull();
    const r = registered!;
    expect(r).toMatchObject({
      name: NAME,
      version: '1',
      alias: 'champion',
      uri: `models:/${NAME}/1`,
      aliasUri: `models:/${NAME}@champion`,
      parentRunId: search.parentRunId,
      split: 'random:0.2',
      selection: 'validation (random:0.2)',
      trial: { role: 'final' },
    });
    // The best entry by the validation score, and exactly its final trial's fit (same data, split, seed, params).
    const bestEntry = [...search.best].sort((a, b) => a.score! - b.score!)[0]!;
    expect(r.label).toBe(bestEntry.label);
    const final = search.trials[r.trial.index]!;
    expect(final).toMatchObject({ role: 'final', entry: bestEntry.entry, split: 'random:0.2' });
    expect(r.runId).not.toBe(final.runId);
    expect(r.metrics.rmse).toBeCloseTo(final.metrics.rmse!, 6);

    const v = await champion();
    expect(v).toMatchObject({
      version: '1',
      run_id: r.runId,
      aliases: ['champion'],
      run_status: 'FINISHED',
      experiment_id: search.experimentId,
    });
    expect(v.tags).toMatchObject({
      'reelab.selection': 'validation (random:0.2)',
      'reelab.search.parent': search.parentRunId,
    });
    expect(v.run_tags).toMatchObject({
      'mlflow.parentRunId': search.parentRunId,
      'reelab.kind': 'train',
      'reelab.selection': 'validation (random:0.2)',
      'reelab.register.trial.run': final.runId,
    });
    expect(v.source).toMatch(new RegExp(`${r.runId}/artifacts/model$`));
    for (const [key, value] of Object.entries(final.params)) expect(v.run_params[key]).toBe(String(value));

    // The report names the version, in the files and in the copy logged to the parent run.
    const md = readFileSync(out.files.markdown, 'utf8');
    expect(md).toContain(`**Registered: \`models:/${NAME}/1\`** (alias \`models:/${NAME}@champion\`)`);
    expect(md).toContain(`selection: validation (random:0.2)`);
    const logged = await python(`
import json, mlflow
p = mlflow.artifacts.download_artifacts(run_id=${JSON.stringify(search.parentRunId)}, artifact_path="report/register-validation.md")
print(json.dumps(open(p).read()))
`);
    expect(logged).toContain(`models:/${NAME}/1`);
  }, 300_000);

  it('compared on the test fold: the CLI summary shows the version, tagged optimistic; batch serves it', async (ctx) => {
    requireComponent(ctx, mlflow);
    const file = join(dir, 'register-test-fold.yaml');
    writeFileSync(file, TEST_FOLD_YAML);
    const summary = JSON.parse(
      await reelab(['experiment', file, '--json', '--inline', '--out', join(dir, 'reports')]),
    );
    expect(summary.registered).toMatchObject({
      name: NAME,
      version: '2',
      uri: `models:/${NAME}/2`,
      aliasUri: `models:/${NAME}@champion`,
      selection: 'optimistic (test fold)',
      trial: { role: 'search' },
      parentRunId: summary.parentRunId,
    });
    const v = await champion();
    expect(v).toMatchObject({ version: '2', run_id: summary.registered.runId });
    expect(v.tags['reelab.selection']).toBe('optimistic (test fold)');
    expect(v.run_tags['mlflow.parentRunId']).toBe(summary.parentRunId);
    const md = readFileSync(summary.report.markdown, 'utf8');
    expect(md).toContain(`**Registered: \`models:/${NAME}/2\`**`);
    expect(md).toContain('selection: optimistic (test fold)');

    // `reelab batch --model models:/NAME@champion`: every row carries the registered name, version and run id.
    const db = join(dir, 'batch.duckdb');
    const batch = JSON.parse(
      await reelab([
        'batch',
        '--model',
        `models:/${NAME}@champion`,
        '-k',
        '3',
        '--to',
        `duckdb:${db}`,
        '--json',
      ]),
    );
    expect(batch).toMatchObject({ modelName: NAME, modelVersion: 2, runId: summary.registered.runId });
    const instance = await DuckDBInstance.create(db);
    const c = await instance.connect();
    try {
      const rows = (
        await c.runAndReadAll(
          'SELECT model, model_name, model_version, run_id, count(*)::INTEGER AS n FROM batch_recommendations GROUP BY ALL',
        )
      ).getRowObjectsJS();
      expect(rows).toEqual([
        {
          model: NAME,
          model_name: NAME,
          model_version: 2,
          run_id: summary.registered.runId,
          n: batch.batches[0].rows,
        },
      ]);
      expect(batch.batches[0].rows).toBeGreaterThan(0);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  }, 300_000);
});
