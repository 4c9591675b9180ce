import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { fetchRuns, metricHistory } from '../../lib/tracking/read';
import { type RunContext, startRun, withRun } from '../../lib/tracking/run';
import { ConfigError, ReelabError } from '../../lib/util/errors';
import { projectRoot } from '../../lib/util/project';
import { paramsOf, rawMlflow, tagsOf, useMlflowServer } from '../helpers/mlflow';
import { runFixture } from './child-process';

const server = useMlflowServer();
const client = () => new MlflowClient({ trackingUri: server().url });

async function poll<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('run context', () => {
  it('buffers 2,500 metric points and 150 params and logs each exactly once', async () => {
    const params = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [`p${i}`, i % 3 === 0 ? i : `v${i}`]),
    );
    const runId = await withRun(
      { client: client(), experiment: 'ctx', runName: 'many', source: 'test', params },
      async (run) => {
        for (let step = 0; step < 2500; step++)
          run.logMetric('loss', 1 / (step + 1), step, 1_700_000_000_000 + step);
        return run.runId!;
      },
    );
    const raw = rawMlflow(server().url);
    const back = await raw.getRun(runId);
    expect(back.info.status).toBe('FINISHED');
    expect(paramsOf(back)).toEqual(
      Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
    );
    const history = await raw.history(runId, 'loss');
    expect(history.map((m) => [Number(m.step), m.value, Number(m.timestamp)])).toEqual(
      Array.from({ length: 2500 }, (_, step) => [step, 1 / (step + 1), 1_700_000_000_000 + step]),
    );
  });

  it('flushes buffered metrics on its timer while the run is open', async () => {
    const run = await startRun(client(), {
      experiment: 'ctx',
      runName: 'timer',
      source: 'test',
      flushIntervalMs: 100,
    });
    try {
      run.logMetric('acc', 0.5, 0);
      run.logMetric('acc', 0.75, 1);
      const raw = rawMlflow(server().url);
      const history = await poll(
        'the timer flush',
        () => raw.history(run.runId!, 'acc'),
        (h) => h.length === 2,
      );
      expect(history.map((m) => m.value)).toEqual([0.5, 0.75]);
      expect(run.isOpen).toBe(true);
    } finally {
      await run.end();
    }
  });

  it('logs params once: the same value again is fine, another value is an error naming the param', async () => {
    await withRun({ client: client(), experiment: 'ctx', runName: 'params', source: 'test' }, async (run) => {
      await run.logParams({ lr: 0.01, model: 'svd' });
      await run.logParams({ lr: 0.01 });
      await expect(run.logParams({ lr: 0.02 })).rejects.toThrow(/param "lr".*already logged as "0.01"/);
      await expect(run.logParams({ spec: 'x'.repeat(6001) })).rejects.toThrow(
        /param "spec".*6001 characters/,
      );
      await expect(run.logParams({ 'bad@name': 1 })).rejects.toThrow(ConfigError);
      await run.flush();
      expect(paramsOf(await rawMlflow(server().url).getRun(run.runId!))).toEqual({
        lr: '0.01',
        model: 'svd',
      });
    });
  });

  it('ends FAILED with the error in a tag and in the note when the body throws', async () => {
    let run: RunContext | null = null;
    await expect(
      withRun(
        {
          client: client(),
          experiment: 'ctx',
          runName: 'boom',
          source: 'test',
          description: 'trying things',
        },
        async (r) => {
          run = r;
          r.logMetric('loss', 1, 0);
          throw new RangeError('learning rate exploded');
        },
      ),
    ).rejects.toThrow('learning rate exploded');
    const back = await rawMlflow(server().url).getRun(run!.runId!);
    expect(back.info.status).toBe('FAILED');
    expect(back.info.end_time).toBeGreaterThan(0);
    const tags = tagsOf(back);
    expect(tags['reelab.error']).toBe('learning rate exploded');
    expect(tags['mlflow.note.content']).toMatch(
      /^trying things\n\n\*\*FAILED\*\*: RangeError: learning rate exploded/,
    );
    expect(back.data.metrics).toEqual([expect.objectContaining({ key: 'loss', value: 1 })]);
    expect(run!.status).toBe('FAILED');
    expect(() => run!.logMetric('loss', 2, 1)).toThrow(ReelabError);
  });

  it('nests runs and carries the system tags', async () => {
    const gitHead = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: projectRoot(),
      encoding: 'utf8',
    }).trim();
    const ids = await withRun(
      {
        client: client(),
        experiment: 'nested',
        runName: 'search',
        source: 'cli',
        sourceName: 'reelab search grid.yaml',
        description: 'grid over factors',
        dataset: 'ml-100k',
        datasetSha256: 'ab'.repeat(32),
        seed: 7,
        tags: { team: 'recs' },
      },
      async (parent) => {
        const a = await parent.child('factors=8', async (c) => {
          await c.logParams({ factors: 8 });
          for (let e = 0; e < 3; e++) c.logMetric('rmse', 1 - e / 10, e);
          return c.runId!;
        });
        const b = await parent
          .child('factors=16', async () => {
            throw new Error('diverged');
          })
          .catch(() => null);
        expect(b).toBeNull();
        return { parent: parent.runId!, a };
      },
    );
    const raw = rawMlflow(server().url);
    const parent = await raw.getRun(ids.parent);
    const tags = tagsOf(parent);
    expect(tags).toMatchObject({
      'mlflow.runName': 'search',
      'mlflow.source.type': 'LOCAL',
      'mlflow.source.name': 'reelab search grid.yaml',
      'mlflow.user': userInfo().username,
      'mlflow.source.git.commit': gitHead,
      'mlflow.note.content': 'grid over factors',
      'reelab.source': 'cli',
      'reelab.dataset': 'ml-100k',
      'reelab.dataset.sha256': 'ab'.repeat(32),
      'reelab.seed': '7',
      team: 'recs',
    });
    expect(['true', 'false']).toContain(tags['reelab.git.dirty']);
    expect(tags['reelab.client_run_key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(parent.info.status).toBe('FINISHED');

    const table = await fetchRuns(client(), 'nested', { orderBy: ['attributes.start_time ASC'] });
    expect(table.rows.map((r) => [r.runName, r.status, r.parentRunId])).toEqual([
      ['search', 'FINISHED', null],
      ['factors=8', 'FINISHED', ids.parent],
      ['factors=16', 'FAILED', ids.parent],
    ]);
    expect(table.rows[1]!.metrics).toEqual({ rmse: 0.8 });
    expect(table.rows[1]!.params).toEqual({ factors: '8' });
    expect(table.rows[2]!.tags['reelab.error']).toBe('diverged');
    const curve = await metricHistory(client(), ids.a, 'rmse');
    expect(curve.steps).toEqual([0, 1, 2]);
    expect(curve.values).toEqual([1, 0.9, 0.8]);
  });

  it('runs untracked with client null: every call is a no-op', async () => {
    const out = await withRun(
      { client: null, experiment: 'x', runName: 'y', source: 'test' },
      async (run) => {
        run.logMetric('loss', 1, 0);
        await run.logParams({ a: 1 });
        await run.setTags({ b: 'c' });
        expect(run.runId).toBeNull();
        return 42;
      },
    );
    expect(out).toBe(42);
  });

  it('leaves no timer behind: a process whose runs ended exits by itself', async () => {
    const child = runFixture('run-and-exit', { TEST_MLFLOW_URL: server().url });
    const [, runId] = await child.waitFor(/^run (\w+)$/);
    const guard = setTimeout(() => child.child.kill('SIGKILL'), 90_000);
    const exit = await child.exited;
    clearTimeout(guard);
    expect(exit).toEqual({ code: 0, signal: null });
    const back = await rawMlflow(server().url).getRun(runId!);
    expect(back.info.status).toBe('FINISHED');
    expect((await rawMlflow(server().url).history(runId!, 'loss')).length).toBe(20);
  });
});

describe('signals', () => {
  it('SIGINT ends the open runs KILLED (children too), flushes, and the process dies of SIGINT', async () => {
    const child = runFixture('run-until-signal', { TEST_MLFLOW_URL: server().url, TEST_RUN_NAME: 'sigint' });
    const [, parentId, childId] = await child.waitFor(/^ready (\w+) (\w+)$/);
    child.child.kill('SIGINT');
    const exit = await child.exited;
    expect(exit.signal === 'SIGINT' || exit.code === 130).toBe(true);
    const raw = rawMlflow(server().url);
    const parent = await raw.getRun(parentId!);
    const inner = await raw.getRun(childId!);
    expect(parent.info.status).toBe('KILLED');
    expect(inner.info.status).toBe('KILLED');
    expect(tagsOf(parent)['reelab.end_reason']).toBe('received SIGINT');
    expect(tagsOf(inner)['mlflow.parentRunId']).toBe(parentId);
    // The point logged after the last flush made it too.
    expect((await raw.history(parentId!, 'loss')).map((m) => Number(m.step))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('SIGTERM ends the run KILLED as well', async () => {
    const child = runFixture('run-until-signal', { TEST_MLFLOW_URL: server().url, TEST_RUN_NAME: 'sigterm' });
    const [, parentId] = await child.waitFor(/^ready (\w+) (\w+)$/);
    child.child.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit.signal === 'SIGTERM' || exit.code === 143).toBe(true);
    expect((await rawMlflow(server().url).getRun(parentId!)).info.status).toBe('KILLED');
  });
});
