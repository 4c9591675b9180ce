import { createServer, request as httpRequest, type Server } from 'node:http';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyServerVersion,
  MlflowApiError,
  MlflowClient,
  MlflowUnavailableError,
  TESTED_MLFLOW_VERSION,
} from '../../lib/tracking/mlflow-client';
import { fetchRuns, metricHistory } from '../../lib/tracking/read';
import { freePort } from '../../lib/tracking/server';
import { ConfigError } from '../../lib/util/errors';
import { paramsOf, rawMlflow, tagsOf, useMlflowServer } from '../helpers/mlflow';

const server = useMlflowServer();
const client = () => new MlflowClient({ trackingUri: server().url, outboxDir: false });

describe('server version', () => {
  it('reads the installed server version and accepts it', async () => {
    const raw = (await axios.get(`${server().url}/version`)).data;
    expect(String(raw).trim()).toBe(TESTED_MLFLOW_VERSION);
    const info = await client().checkServer();
    expect(info).toEqual({ version: TESTED_MLFLOW_VERSION, major: 3 });
  });

  it('classifies other versions', () => {
    expect(classifyServerVersion('3.0.1')).toBe('supported');
    expect(classifyServerVersion('3.17.2')).toBe('supported');
    expect(classifyServerVersion('2.22.0')).toBe('untested');
    expect(classifyServerVersion('1.30.1')).toBe('unsupported');
    expect(classifyServerVersion('4.0.0')).toBe('unsupported');
    expect(classifyServerVersion('<html>')).toBe('unsupported');
  });
});

describe('experiments', () => {
  it('creates, finds by name, tags and searches experiments', async () => {
    const c = client();
    expect(await c.getExperimentByName('exp-a')).toBeNull();
    const id = await c.getOrCreateExperiment('exp-a');
    expect(await c.getOrCreateExperiment('exp-a')).toBe(id);
    await c.setExperimentTag(id, 'reelab.purpose', 'client test');
    const raw = await axios.get(`${server().url}/api/2.0/mlflow/experiments/get`, {
      params: { experiment_id: id },
    });
    expect(raw.data.experiment.name).toBe('exp-a');
    expect(raw.data.experiment.tags).toEqual(
      expect.arrayContaining([{ key: 'reelab.purpose', value: 'client test' }]),
    );
    const found = await c.searchExperiments({ filter: "name = 'exp-a'" });
    expect(found.items.map((e) => e.experiment_id)).toEqual([id]);
  });
});

describe('runs', () => {
  it('creates, updates, gets, deletes and restores runs', async () => {
    const c = client();
    const raw = rawMlflow(server().url);
    const experimentId = await c.getOrCreateExperiment('exp-runs');
    const run = await c.createRun({
      experimentId,
      runName: 'first',
      startTime: 1_700_000_000_000,
      tags: [{ key: 'team', value: 'reelab' }],
    });
    expect(run.info.status).toBe('RUNNING');
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/${run.info.run_id}/artifacts`);
    let back = await raw.getRun(run.info.run_id);
    expect(back.info.run_name).toBe('first');
    expect(back.info.start_time).toBe(1_700_000_000_000);
    expect(tagsOf(back).team).toBe('reelab');

    await c.updateRun(run.info.run_id, 'FINISHED', 1_700_000_005_000);
    back = await raw.getRun(run.info.run_id);
    expect(back.info.status).toBe('FINISHED');
    expect(back.info.end_time).toBe(1_700_000_005_000);
    expect((await c.getRun(run.info.run_id)).info.end_time).toBe(1_700_000_005_000);

    await c.deleteRun(run.info.run_id);
    expect((await raw.getRun(run.info.run_id)).info.lifecycle_stage).toBe('deleted');
    expect((await c.searchRuns({ experimentIds: [experimentId] })).items).toHaveLength(0);
    expect((await c.searchRuns({ experimentIds: [experimentId], viewType: 'ALL' })).items).toHaveLength(1);
    await c.restoreRun(run.info.run_id);
    expect((await raw.getRun(run.info.run_id)).info.lifecycle_stage).toBe('active');

    expect(await c.findRun('0123456789abcdef0123456789abcdef')).toBeNull();
    await expect(c.getRun('0123456789abcdef0123456789abcdef')).rejects.toMatchObject({
      status: 404,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
    });
  });

  it('searches with filter and order, page by page', async () => {
    const c = client();
    const experimentId = await c.getOrCreateExperiment('exp-search');
    const ids: string[] = [];
    for (const [i, model] of ['svd', 'als', 'svd', 'knn', 'svd'].entries()) {
      const run = await c.createRun({ experimentId, runName: `r${i}` });
      await c.logBatch(run.info.run_id, {
        params: [{ key: 'model', value: model }],
        metrics: [{ key: 'rmse', value: 1 - i / 10, step: 0, timestamp: 1000 }],
      });
      ids.push(run.info.run_id);
    }
    const pages: string[][] = [];
    let pageToken: string | undefined;
    do {
      const page = await c.searchRuns({
        experimentIds: [experimentId],
        filter: "params.model = 'svd'",
        orderBy: ['metrics.rmse ASC'],
        maxResults: 2,
        pageToken,
      });
      pages.push(page.items.map((r) => r.info.run_id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    // svd runs are r0 (1.0), r2 (0.8), r4 (0.6): ascending rmse = r4, r2, r0.
    expect(pages).toEqual([[ids[4], ids[2]], [ids[0]]]);
    const all = await c.searchAllRuns({
      experimentIds: [experimentId],
      orderBy: ['metrics.rmse DESC'],
      maxResults: 2,
    });
    expect(all.map((r) => r.info.run_id)).toEqual(ids);

    const table = await fetchRuns(c, 'exp-search', {
      filter: "params.model = 'svd'",
      orderBy: ['metrics.rmse ASC'],
    });
    expect(table.rows.map((r) => [r.runName, r.params.model, r.metrics.rmse])).toEqual([
      ['r4', 'svd', 0.6],
      ['r2', 'svd', 0.8],
      ['r0', 'svd', 1],
    ]);
    expect(table.paramKeys).toEqual(['model']);
    expect(table.metricKeys).toEqual(['rmse']);
    await expect(fetchRuns(c, 'no-such-experiment')).rejects.toThrow(
      /no MLflow experiment named "no-such-experiment"/,
    );
  });
});

describe('log-batch round trip', () => {
  it('logs 2,500 metric points, 150 params and 120 tags exactly', async () => {
    const c = client();
    const raw = rawMlflow(server().url);
    const experimentId = await c.getOrCreateExperiment('exp-batch');
    const runId = (await c.createRun({ experimentId, runName: 'big' })).info.run_id;
    const metrics = Array.from({ length: 2500 }, (_, i) => ({
      key: i % 2 === 0 ? 'train/loss' : 'validation_rmse',
      value: Math.sin(i) * 1e3 + 1 / (i + 1),
      step: Math.floor(i / 2),
      timestamp: 1_700_000_000_000 + i,
    }));
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `param_${i}`, value: `value ${i} ✓` }));
    const tags = Array.from({ length: 120 }, (_, i) => ({ key: `tag.${i}`, value: 'ü'.repeat(i) }));
    await c.logBatch(runId, { metrics, params, tags });

    const back = await raw.getRun(runId);
    expect(paramsOf(back)).toEqual(Object.fromEntries(params.map((p) => [p.key, p.value])));
    const backTags = tagsOf(back);
    for (const t of tags) expect(backTags[t.key]).toBe(t.value);
    for (const key of ['train/loss', 'validation_rmse']) {
      const expected = metrics
        .filter((m) => m.key === key)
        .map((m) => ({ key, value: m.value, step: m.step, timestamp: m.timestamp }));
      const history = (await raw.history(runId, key)).map((m) => ({
        ...m,
        step: Number(m.step),
        timestamp: Number(m.timestamp),
      }));
      expect(history).toHaveLength(1250);
      expect(history).toEqual(expected);
      // The client's own reader pages through the same history (3 pages of 500).
      const mine = await c.getMetricHistory(runId, key, 500);
      expect(mine).toEqual(expected);
    }
    const series = await metricHistory(c, runId, 'train/loss');
    expect(series.steps).toEqual(Array.from({ length: 1250 }, (_, i) => i));
    expect(series.values[10]).toBe(metrics[20]!.value);
  });

  it('sends NaN and stores infinities the way MLflow does', async () => {
    const c = client();
    const experimentId = await c.getOrCreateExperiment('exp-batch');
    const runId = (await c.createRun({ experimentId, runName: 'special values' })).info.run_id;
    await c.logBatch(runId, {
      metrics: [
        { key: 'm', value: Number.NaN, step: 0, timestamp: 1 },
        { key: 'm', value: Number.POSITIVE_INFINITY, step: 1, timestamp: 2 },
        { key: 'm', value: Number.NEGATIVE_INFINITY, step: 2, timestamp: 3 },
        { key: 'm', value: -0.125, step: 3, timestamp: 4 },
      ],
      params: [{ key: 'empty', value: '' }],
    });
    const raw = await rawMlflow(server().url).history(runId, 'm');
    expect(raw.map((m) => m.value)).toEqual(['NaN', 1.7976931348623157e308, -1.7976931348623157e308, -0.125]);
    const mine = await c.getMetricHistory(runId, 'm');
    expect(mine[0]!.value).toBeNaN();
    expect(mine.slice(1).map((m) => m.value)).toEqual([
      1.7976931348623157e308, -1.7976931348623157e308, -0.125,
    ]);
    expect(paramsOf(await rawMlflow(server().url).getRun(runId)).empty).toBe('');
  });

  it('refuses a param value longer than the server keeps, naming the param, and logs nothing', async () => {
    const c = client();
    const experimentId = await c.getOrCreateExperiment('exp-batch');
    const runId = (await c.createRun({ experimentId, runName: 'long param' })).info.run_id;
    const err = await c
      .logBatch(runId, {
        params: [
          { key: 'ok', value: 'x' },
          { key: 'grid_spec', value: 'y'.repeat(6001) },
        ],
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/param "grid_spec".*6001 characters/);
    expect((await rawMlflow(server().url).getRun(runId)).data.params ?? []).toEqual([]);
  });

  it('reports the server refusing to change a param', async () => {
    const c = client();
    const experimentId = await c.getOrCreateExperiment('exp-batch');
    const runId = (await c.createRun({ experimentId, runName: 'immutable' })).info.run_id;
    await c.logBatch(runId, { params: [{ key: 'k', value: '1' }] });
    await c.logBatch(runId, { params: [{ key: 'k', value: '1' }] });
    const err = await c.logBatch(runId, { params: [{ key: 'k', value: '2' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(err.status).toBe(400);
    expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(err.message).toMatch(/Changing param values is not allowed/);
  });
});

describe('retries', () => {
  // A real HTTP proxy in front of the real server that fails the first `failures` requests of each path.
  let proxy: Server;
  let proxyUrl = '';
  const seen = new Map<string, number>();
  let failures = 0;
  let failStatus = 503;
  beforeAll(async () => {
    const target = new URL(server().url);
    proxy = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      if (n <= failures) {
        res.writeHead(failStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'injected failure' }));
        return;
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    const port = await freePort();
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((r) => proxy.close(r));
  });

  const fast = { retries: 3, baseDelayMs: 5, maxDelayMs: 20 };

  it('retries 503 and 429 and then succeeds', async () => {
    const c = new MlflowClient({ trackingUri: proxyUrl, retry: fast, outboxDir: false });
    seen.clear();
    failures = 2;
    failStatus = 503;
    const id = await c.createExperiment('exp-retry-503');
    expect(seen.get('/api/2.0/mlflow/experiments/create')).toBe(3);
    expect((await client().getExperimentByName('exp-retry-503'))?.experiment_id).toBe(id);

    seen.clear();
    failStatus = 429;
    expect((await c.getExperiment(id)).name).toBe('exp-retry-503');
    expect(seen.get('/api/2.0/mlflow/experiments/get')).toBe(3);
  });

  it('gives up after the last retry with an "unavailable" error', async () => {
    const c = new MlflowClient({ trackingUri: proxyUrl, retry: fast, outboxDir: false });
    seen.clear();
    failures = 100;
    failStatus = 503;
    const err = await c.getExperimentByName('x').catch((e) => e);
    expect(err).toBeInstanceOf(MlflowUnavailableError);
    expect(err.message).toMatch(/after 4 attempt/);
    expect(seen.get('/api/2.0/mlflow/experiments/get-by-name')).toBe(4);
  });

  it('does not retry 4xx answers', async () => {
    const c = new MlflowClient({ trackingUri: proxyUrl, retry: fast, outboxDir: false });
    seen.clear();
    failures = 0;
    const err = await c.getRun('0123456789abcdef0123456789abcdef').catch((e) => e);
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(err).not.toBeInstanceOf(MlflowUnavailableError);
    expect(err.status).toBe(404);
    expect(seen.get('/api/2.0/mlflow/runs/get')).toBe(1);
  });

  it('retries refused connections and reports the server as unavailable', async () => {
    const port = await freePort();
    const c = new MlflowClient({ trackingUri: `http://127.0.0.1:${port}`, retry: fast, outboxDir: false });
    const err = await c.getExperimentByName('x').catch((e) => e);
    expect(err).toBeInstanceOf(MlflowUnavailableError);
    expect(err.message).toMatch(/ECONNREFUSED.*after 4 attempt/);
  });
});
