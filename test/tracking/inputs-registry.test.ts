import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerModelsCommands } from '../../lib/cli/models';
import { loadServingModel, resolveModelDir } from '../../lib/serving/artifact';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { ModelRegistry, parseModelUri, registrySourceOf } from '../../lib/tracking/registry';
import { startRun } from '../../lib/tracking/run';
import { freePort, type MlflowServer, mlflowExecutables, startMlflowServer } from '../../lib/tracking/server';
import { syncOutbox } from '../../lib/tracking/sync';
import { venvBin } from '../../lib/util/project';
import { evaluate } from '../../lib/workflows/evaluate';
import { train } from '../../lib/workflows/train';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { component, requireComponentForEach } from '../helpers/require';

/**
 * Dataset inputs, logged models and the Model Registry against the real MLflow server from .venv, read back
 * with MLflow's own Python client. Under CI a missing .venv / MLflow fails these tests (requireComponent).
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
const previousOutbox = process.env.REELAB_OUTBOX_DIR;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reelab-inputs-registry-'));
  process.env.REELAB_OUTBOX_DIR = join(dir, 'outbox');
  if (mlflow.available) server = await startMlflowServer({ storeDir: join(dir, 'store') });
});
afterAll(async () => {
  await server?.stop();
  if (previousOutbox === undefined) delete process.env.REELAB_OUTBOX_DIR;
  else process.env.REELAB_OUTBOX_DIR = previousOutbox;
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const url = () => server!.url;
const client = () => new MlflowClient({ trackingUri: url(), outboxDir: join(dir, 'outbox') });

/** Runs Python with the venv's MLflow against the test server; the script prints one JSON value. */
// biome-ignore lint/suspicious/noExplicitAny: whatever JSON the Python script prints
async function python(script: string): Promise<any> {
  const { stdout } = await promisify(execFile)(venvBin('python'), ['-c', script], {
    env: { ...process.env, MLFLOW_TRACKING_URI: url(), PYTHONWARNINGS: 'ignore' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = stdout.trim().split('\n').pop()!;
  return JSON.parse(last);
}

const NAME = 'reelab-test-ials';

/**
 * Runs `reelab models <args> --json` in this process and returns what it printed on stdout. The command module
 * `require`s its implementation lazily (as main.ts does), so TypeScript `require` goes through tsx, as under
 * bin/reelab.js.
 */
let unregisterTsx: (() => void) | null = null;
afterAll(() => unregisterTsx?.());
async function models(args: string[]): Promise<string> {
  unregisterTsx ??= (require('tsx/cjs/api') as { register: () => () => void }).register();
  const program = new Command('reelab').exitOverride();
  registerModelsCommands(program);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'reelab', 'models', ...args, '--tracking-uri', url(), '--json']);
  } finally {
    process.stdout.write = write;
  }
  if (process.exitCode) throw new Error(`reelab models ${args.join(' ')} failed`);
  return out;
}

describe.skipIf(!HAS_ML100K)(
  'train on ml-100k u1 with --register, read back with MLflow’s Python client',
  () => {
    let runId = '';
    let modelId: string | null = null;
    let experimentId = '';

    it('logs dataset inputs, config.json, an MLmodel folder, a logged model and registry version 1', async () => {
      const result = await train({
        dataset: 'ml-100k',
        split: 'u1',
        model: 'ials',
        params: { factors: 8, epochs: 2 },
        out: join(dir, 'm1'),
        dataDir: realDataDir(),
        tracking: client(),
        experiment: 'inputs-registry',
        source: 'test',
        register: NAME,
        alias: 'champion',
      });
      runId = result.runId!;
      modelId = result.modelId;
      expect(runId).toMatch(/^[0-9a-f]{32}$/);
      expect(modelId).toMatch(/^m-/);
      expect(result.registered).toMatchObject({ name: NAME, version: '1', alias: 'champion' });
      expect(existsSync(join(dir, 'm1', 'MLmodel'))).toBe(true);

      const sha = createHash('sha256')
        .update(readFileSync(join(realDataDir(), 'ml-100k', 'u.data')))
        .digest('hex');
      const py = await python(`
import json, mlflow
from mlflow import MlflowClient
run = mlflow.get_run(${JSON.stringify(runId)})
inputs = [dict(name=i.dataset.name, digest=i.dataset.digest, source_type=i.dataset.source_type,
               source=json.loads(i.dataset.source), profile=json.loads(i.dataset.profile),
               schema=json.loads(i.dataset.schema), tags={t.key: t.value for t in i.tags})
          for i in run.inputs.dataset_inputs]
c = MlflowClient()
print(json.dumps(dict(
  inputs=inputs,
  outputs=[o.model_id for o in (run.outputs.model_outputs if run.outputs else [])],
  root=sorted(a.path for a in c.list_artifacts(run.info.run_id)),
  model=sorted(a.path for a in c.list_artifacts(run.info.run_id, "model")),
  figures=sorted(a.path for a in c.list_artifacts(run.info.run_id, "figures")),
)))`);
      expect(py.inputs).toHaveLength(2);
      // the fit's figures: per-user distributions of the test metrics (iALS reports no per-epoch numbers here)
      expect(py.figures).toEqual(
        expect.arrayContaining([
          'figures/per-user-full-ndcg_at_10.html',
          'figures/per-user-full-recall_at_10.html',
        ]),
      );
      const byContext = Object.fromEntries(
        py.inputs.map((i: { tags: Record<string, string> }) => [i.tags['mlflow.data.context'], i]),
      );
      expect(Object.keys(byContext).sort()).toEqual(['test', 'train']);
      for (const part of ['train', 'test']) {
        const i = byContext[part];
        expect(i.name).toBe('ml-100k');
        expect(i.source_type).toBe('local');
        expect(i.source.uri).toMatch(/^file:\/\/.*ml-100k\/u\.data$/);
        expect(i.digest).toHaveLength(36);
        expect(i.profile.ratings_file_sha256).toBe(sha);
        expect(i.profile.part).toBe(part);
        expect(i.schema.mlflow_colspec.map((c: { name: string }) => c.name)).toEqual([
          'userId',
          'movieId',
          'rating',
          'timestamp',
        ]);
      }
      // u1.base / u1.test: 80000 / 20000 ratings.
      expect(byContext.train.profile).toMatchObject({ ratings: 80_000, num_rows: 80_000 });
      expect(byContext.test.profile).toMatchObject({ ratings: 20_000 });
      expect(byContext.train.digest).not.toBe(byContext.test.digest);
      expect(py.outputs).toEqual([modelId]);
      expect(py.root).toEqual(expect.arrayContaining(['config.json', 'figures', 'model']));
      expect(py.model).toEqual(
        expect.arrayContaining(['model/MLmodel', 'model/model.json', 'model/movies.json']),
      );
      expect(new Set(py.model).size).toBe(py.model.length);

      experimentId = (await client().getRun(runId)).info.experiment_id;
      const config = JSON.parse(
        (await client().getArtifact(`${experimentId}/${runId}/artifacts/config.json`)).toString(),
      );
      expect(config).toMatchObject({
        kind: 'train',
        dataset: 'ml-100k',
        split: 'u1',
        model: 'ials',
        seed: 42,
        protocols: ['full'],
      });
      expect(config.params).toMatchObject({ factors: 8, epochs: 2 });
    });

    it('is an MLflow model: get_model_info, Model.load, the logged model, download_artifacts → loadable dir', async () => {
      const dl = join(dir, 'py-download');
      mkdirSync(dl, { recursive: true });
      const py = await python(`
import json, mlflow
from mlflow.models import Model
info = mlflow.models.get_model_info("runs:/${runId}/model")
m = Model.load("runs:/${runId}/model")
lm = mlflow.get_logged_model(${JSON.stringify(modelId)})
path = mlflow.artifacts.download_artifacts(run_id=${JSON.stringify(runId)}, artifact_path="model", dst_path=${JSON.stringify(dl)})
print(json.dumps(dict(
  uri=info.model_uri, run_id=info.run_id, artifact_path=info.artifact_path, flavors=info.flavors,
  inputs=[c.name for c in info.signature.inputs.inputs], input_types=[c.type.name for c in info.signature.inputs.inputs],
  outputs=[c.name for c in info.signature.outputs.inputs], created=info.utc_time_created,
  load_flavors=list(m.flavors), lm_status=str(lm.status), lm_run=lm.source_run_id, lm_name=lm.name,
  lm_params=lm.params, lm_tags=lm.tags, path=path,
)))`);
      expect(py.uri).toBe(`runs:/${runId}/model`);
      expect(py.run_id).toBe(runId);
      expect(py.artifact_path).toBe('model');
      expect(py.flavors.reelab).toMatchObject({ model: 'ials', format: 'reelab-model/1' });
      expect(py.flavors.reelab.reelab_version).toMatch(/^\d+\.\d+\.\d+/);
      expect(py.flavors.reelab.loader).toContain('reelab serve --model');
      expect(py.inputs).toEqual(['user', 'k']);
      expect(py.input_types).toEqual(['long', 'long']);
      expect(py.outputs).toEqual(['movieId', 'score']);
      expect(py.created).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      expect(py.load_flavors).toEqual(['reelab']);
      expect(py.lm_status).toBe('READY');
      expect(py.lm_run).toBe(runId);
      expect(py.lm_name).toBe('ials');
      expect(py.lm_params).toMatchObject({ factors: '8', epochs: '2' });
      expect(py.lm_tags).toMatchObject({
        'mlflow.model.isExternal': 'true',
        'reelab.artifact_uri': `runs:/${runId}/model`,
      });

      const loaded = await loadServingModel(py.path);
      expect(loaded.model.name).toBe('ials');
      expect(loaded.meta.runId).toBe(runId);
      expect(loaded.view.users.size).toBeGreaterThan(900);
    });

    it('the registry: Python sees the version and alias; models:/ URIs load through the artifact proxy', async () => {
      const py = await python(`
import json
from mlflow import MlflowClient
c = MlflowClient()
vs = c.search_model_versions("name='${NAME}'")
a = c.get_model_version_by_alias("${NAME}", "champion")
print(json.dumps(dict(versions=[(v.version, v.run_id, v.source) for v in vs], alias=[a.version, a.run_id])))`);
      expect(py.versions).toEqual([
        ['1', runId, `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`],
      ]);
      expect(py.alias).toEqual(['1', runId]);

      const cacheDir = join(dir, 'cache');
      const byAlias = await resolveModelDir(`models:/${NAME}@champion`, { tracking: client(), cacheDir });
      expect(registrySourceOf(byAlias)).toMatchObject({ name: NAME, version: '1', alias: 'champion', runId });
      const loaded = await loadServingModel(`models:/${NAME}/1`, { tracking: client(), cacheDir });
      expect(loaded.dir).toBe(byAlias);
      expect(loaded.meta.runId).toBe(runId);

      // A second version, then move the alias: the alias resolves to it, version 1 stays as it was.
      const second = await train({
        dataset: 'ml-100k',
        split: 'u1',
        model: 'ials',
        params: { factors: 8, epochs: 1 },
        out: join(dir, 'm2'),
        dataDir: realDataDir(),
        tracking: client(),
        experiment: 'inputs-registry',
        source: 'test',
        register: NAME,
      });
      expect(second.registered).toMatchObject({ version: '2', alias: null });
      const registry = new ModelRegistry(client());
      // `reelab models alias NAME 2 champion`, `models show NAME`, `models list` (in process: main.ts wires them).
      await models(['alias', NAME, '2', 'champion']);
      const shown = JSON.parse(await models(['show', NAME]));
      expect(shown.aliases).toEqual({ champion: '2' });
      expect(shown.versions.map((v: { version: string; runId: string }) => [v.version, v.runId])).toEqual([
        ['2', second.runId],
        ['1', runId],
      ]);
      const listed = JSON.parse(await models(['list']));
      expect(listed.models).toEqual([expect.objectContaining({ name: NAME, latestVersion: '2' })]);
      const moved = await resolveModelDir(`models:/${NAME}@champion`, { tracking: client(), cacheDir });
      expect(registrySourceOf(moved)).toMatchObject({ version: '2', runId: second.runId });
      expect((await registry.versionsOf(NAME)).map((v) => v.version)).toEqual(['2', '1']);
      expect((await registry.listRegisteredModels()).map((m) => m.name)).toContain(NAME);
      await registry.deleteAlias(NAME, 'champion');
      expect(await registry.getVersionByAlias(NAME, 'champion')).toBeNull();
      await expect(
        resolveModelDir(`models:/${NAME}@champion`, { tracking: client(), cacheDir }),
      ).rejects.toThrow(/has no alias "champion"/);
    });
  },
);

describe('evaluate on synthetic data; dataset inputs through the outbox', () => {
  it('evaluate logs train/test inputs (code source, own digests) and config.json', async () => {
    const r = await evaluate({
      dataset: 'synthetic:20000',
      split: 'random:0.2',
      model: 'popularity',
      metrics: ['ndcg@10'],
      tracking: client(),
      experiment: 'inputs-eval',
      source: 'test',
    });
    const run = await client().getRun(r.runId!);
    const inputs = run.inputs?.dataset_inputs ?? [];
    expect(inputs.map((i) => i.tags?.[0]?.value).sort()).toEqual(['test', 'train']);
    for (const i of inputs) {
      expect(i.dataset.name).toBe('synthetic:20000');
      expect(i.dataset.source_type).toBe('code');
    }
    const profiles = inputs.map((i) => JSON.parse(i.dataset.profile!));
    expect(profiles.reduce((n, p) => n + p.ratings, 0)).toBe(r.trainRatings + r.testRatings);
    expect(new Set(inputs.map((i) => i.dataset.digest)).size).toBe(2);
    const config = JSON.parse(
      (await client().getArtifact(`${run.info.experiment_id}/${r.runId}/artifacts/config.json`)).toString(),
    );
    expect(config).toMatchObject({
      kind: 'evaluate',
      model: 'popularity',
      protocols: ['full'],
      metrics: ['ndcg@10'],
    });
  });

  it('queues dataset inputs while the server is down and replays them exactly once', async () => {
    const outbox = join(dir, 'outbox-down');
    const dead = new MlflowClient({
      trackingUri: `http://127.0.0.1:${await freePort()}`,
      outboxDir: outbox,
      startOffline: true,
      retry: { retries: 0, baseDelayMs: 10, maxDelayMs: 10 },
      warn: () => {},
    });
    const run = await startRun(dead, { experiment: 'inputs-outbox', runName: 'offline', source: 'test' });
    const input = {
      dataset: {
        name: 'ml-100k',
        digest: 'abc123',
        source_type: 'local',
        source: '{"uri": "file:///x/u.data"}',
      },
      tags: [{ key: 'mlflow.data.context', value: 'train' }],
    };
    await run.logDatasetInput(input);
    await run.end('FINISHED');
    const first = await syncOutbox({ dir: outbox, to: client() });
    expect(first.stats.inputs).toBe(1);
    const again = await syncOutbox({ dir: outbox, to: client() });
    expect(again.stats.inputs).toBe(0);
    const exp = await client().getExperimentByName('inputs-outbox');
    const runs = await client().searchAllRuns({ experimentIds: [exp!.experiment_id] });
    expect(runs).toHaveLength(1);
    const stored = await client().getRun(runs[0]!.info.run_id);
    expect(stored.inputs?.dataset_inputs).toEqual([input]);
    // Sending the same input again (a replay after a lost answer) leaves one input.
    await client().logInputs(runs[0]!.info.run_id, [input]);
    expect((await client().getRun(runs[0]!.info.run_id)).inputs?.dataset_inputs).toHaveLength(1);
  });

  it('parses models:/ URIs and rejects bad ones', () => {
    expect(parseModelUri('models:/a@champion')).toEqual({ name: 'a', alias: 'champion' });
    expect(parseModelUri('models:/a/3')).toEqual({ name: 'a', version: '3' });
    expect(parseModelUri('models:/a/latest')).toEqual({ name: 'a', version: 'latest' });
    expect(() => parseModelUri('models:/a')).toThrow(/models:\/NAME/);
    expect(() => parseModelUri('models:/a@latest')).toThrow(/alias/);
  });
});
