import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { executeTrial, type TrialExecutor, trialRunName } from '../../lib/search/execute';
import type { PlannedTrial } from '../../lib/search/plan';
import { reuseFinished } from '../../lib/search/reuse';
import { interruptGuard } from '../../lib/search/signals';
import { TAG, TrialStore } from '../../lib/search/store';
import type { TrialOutcome, TrialSpec } from '../../lib/search/trial';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { startRun } from '../../lib/tracking/run';
import { paramsOf, rawMlflow, tagsOf, useMlflowServer } from '../helpers/mlflow';

const server = useMlflowServer();

function client(): MlflowClient {
  return new MlflowClient({ trackingUri: server().url, outboxDir: false });
}

function planned(index: number, hash: string): PlannedTrial {
  return {
    index,
    hash,
    role: 'search',
    entry: 0,
    label: 'svd',
    model: 'svd',
    task: 'rating',
    config: index,
    split: 'u1',
    validation: null,
    searched: { factors: 8 * (index + 1) },
    params: { factors: 8 * (index + 1), epochs: 3 },
    spec: {
      dataset: 'ml-100k',
      seed: 1,
      split: 'u1',
      validation: null,
      model: 'svd',
      params: { factors: 8 * (index + 1), epochs: 3 },
      metrics: ['rmse'],
      protocols: [],
      relevance: null,
      earlyStopping: null,
      perUser: false,
    },
  };
}

/** A pid that surely belongs to no live process: a child that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('reuse of finished trials (real MLflow)', () => {
  it('FINISHED runs are reused, stale ones superseded, the rest is to do; fresh reuses nothing', async () => {
    const c = client();
    const experimentId = await c.getOrCreateExperiment('test-reuse');
    const trialRun = async (hash: string, status: 'FINISHED' | 'KILLED' | 'RUNNING', pid: number) => {
      const run = await c.createRun({
        experimentId,
        tags: [
          { key: TAG.kind, value: 'trial' },
          { key: TAG.hash, value: hash },
          { key: TAG.pid, value: String(pid) },
          { key: TAG.host, value: hostname() },
        ],
      });
      if (status === 'FINISHED') {
        const metrics = [
          { key: 'rmse', value: 0.93, timestamp: Date.now(), step: 0 },
          { key: 'best_epoch', value: 7, timestamp: Date.now(), step: 0 },
        ];
        await c.logBatch(run.info.run_id, { metrics });
      }
      if (status !== 'RUNNING') await c.updateRun(run.info.run_id, status);
      return run.info.run_id;
    };
    const done = await trialRun('h0', 'FINISHED', process.pid);
    const killed = await trialRun('h1', 'KILLED', process.pid);
    const orphan = await trialRun('h2', 'RUNNING', deadPid());
    const plan = ['h0', 'h1', 'h2', 'h3'].map((h, i) => planned(i, h));

    expect(await reuseFinished(null, plan)).toEqual({ todo: plan, reused: [], superseded: 0 });

    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const r = await reuseFinished(await TrialStore.open(c, experimentId), plan, { log });
    expect(r.todo.map((t) => t.hash)).toEqual(['h1', 'h2', 'h3']);
    expect(r.superseded).toBe(2);
    expect(r.reused).toHaveLength(1);
    expect(r.reused[0]).toMatchObject({
      index: 0,
      hash: 'h0',
      status: 'reused',
      runId: done,
      metrics: { rmse: 0.93, best_epoch: 7 },
      bestEpoch: 7,
      outcome: null,
    });
    expect(lines).toEqual(['superseded 2 stale trial run(s) of an interrupted search']);
    const raw = rawMlflow(server().url);
    for (const id of [killed, orphan]) {
      const run = await raw.getRun(id);
      expect(run.info.lifecycle_stage).toBe('deleted');
      expect(run.info.status).toBe('KILLED');
      expect(tagsOf(run)[TAG.superseded]).toBe('true');
    }

    const fresh = await reuseFinished(await TrialStore.open(c, experimentId), plan, { fresh: true, log });
    expect(fresh).toEqual({ todo: plan, reused: [], superseded: 1 });
    expect(lines.at(-1)).toBe('fresh search: superseded 1 earlier trial run(s)');
    expect((await raw.getRun(done)).info.lifecycle_stage).toBe('deleted');
  });
});

const OUTCOME: TrialOutcome = {
  metrics: { rmse: 0.91 },
  epochs: [
    { epoch: 1, timestamp: 1_700_000_000_000, values: { test_rmse: 1.0 } },
    { epoch: 2, timestamp: 1_700_000_001_000, values: { test_rmse: 0.95 } },
  ],
  bestEpoch: null,
  stoppedEpoch: null,
  fitSeconds: 0.5,
  evalSeconds: 0.25,
  trainRatings: 80,
  evalRatings: 20,
  perUser: null,
};

describe('executing one trial through a TrialExecutor (real MLflow, no model)', () => {
  it('FINISHED with the outcome logged, FAILED when the executor throws, KILLED when interrupted first', async () => {
    const c = client();
    const parent = await startRun(c, { experiment: 'test-execute', runName: 'parent', source: 'test' });
    const specs: Array<[TrialSpec, number]> = [];
    const executor: TrialExecutor = {
      async run(spec, slot) {
        specs.push([spec, slot]);
        if (spec.params.factors === 16) throw new Error('diverged\nstack…');
        return OUTCOME;
      },
      close: async () => {},
    };
    const signals = new EventEmitter();
    const guard = interruptGuard({ source: signals }).install();
    const lines: string[] = [];
    const ctx = {
      parent,
      tracked: true,
      configSha256: 'abc',
      guard,
      executor,
      dataDir: '/data',
      threads: 2,
      log: (l: string) => lines.push(l),
    };
    const ok = await executeTrial(planned(0, 'e0'), 1, ctx);
    const failed = await executeTrial(planned(1, 'e1'), 0, ctx);
    expect(specs.map(([s, slot]) => [s.dataDir, s.threads, slot])).toEqual([
      ['/data', 2, 1],
      ['/data', 2, 0],
    ]);
    expect(ok).toMatchObject({ index: 0, status: 'ran', metrics: { rmse: 0.91 }, outcome: OUTCOME });
    expect(failed).toMatchObject({
      index: 1,
      status: 'failed',
      metrics: {},
      error: expect.stringContaining('diverged'),
    });
    expect(lines).toEqual([`trial ${trialRunName(planned(1, 'e1'))} failed: diverged`]);

    signals.emit('SIGINT', 'SIGINT');
    expect(await executeTrial(planned(2, 'e2'), 0, ctx)).toBeNull();
    expect(specs).toHaveLength(2); // never ran
    guard.uninstall();
    await parent.end('FINISHED');

    const raw = rawMlflow(server().url);
    const runs = await raw.searchRuns((await raw.experimentId('test-execute'))!);
    const byHash = Object.fromEntries(runs.map((r) => [tagsOf(r)[TAG.hash] ?? 'parent', r]));
    expect(byHash.e0!.info.status).toBe('FINISHED');
    expect(byHash.e1!.info.status).toBe('FAILED');
    expect(byHash.e2!.info.status).toBe('KILLED');
    const t0 = tagsOf(byHash.e0!);
    expect(t0).toMatchObject({
      [TAG.kind]: 'trial',
      [TAG.role]: 'search',
      [TAG.config]: '0',
      [TAG.validation]: 'none',
      [TAG.configSha]: 'abc',
      'mlflow.parentRunId': parent.runId,
      'reelab.trial.searched': '{"factors":8}',
    });
    expect(byHash.e0!.info.run_name).toBe('svd #0 u1');
    expect(paramsOf(byHash.e0!)).toMatchObject({
      factors: '8',
      'trial.split': 'u1',
      'trial.metrics': 'rmse',
      'trial.protocols': 'none',
      'trial.relevance': 'all',
      'trial.early_stopping': 'none',
    });
    const metrics = Object.fromEntries((byHash.e0!.data.metrics ?? []).map((m) => [m.key, m.value]));
    expect(metrics).toMatchObject({ rmse: 0.91, fit_seconds: 0.5, eval_seconds: 0.25, train_ratings: 80 });
    expect(metrics.best_epoch).toBeUndefined();
    const curve = await raw.history(byHash.e0!.info.run_id, 'test_rmse');
    expect(curve.map((p) => [p.step, p.value])).toEqual([
      [1, 1.0],
      [2, 0.95],
    ]);
  });
});
