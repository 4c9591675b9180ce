import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTracking } from '../../lib/tracking/connect';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { listOutboxFiles, readOutboxFile } from '../../lib/tracking/outbox';
import { startRun, withRun } from '../../lib/tracking/run';
import { freePort, isMlflowUp, type MlflowServer, startMlflowServer } from '../../lib/tracking/server';
import { syncOutbox } from '../../lib/tracking/sync';
import { projectRoot } from '../../lib/util/project';
import { paramsOf, type RawRun, rawMlflow, tagsOf, useTempDir } from '../helpers/mlflow';
import { runFixture } from './child-process';

/**
 * The fault tests own their server: a fixed port and store, so it can be stopped in the middle of a run and
 * started again as the same server.
 */
const tmp = useTempDir('reelab-outbox-');
let port = 0;
let server: MlflowServer | null = null;
const url = () => `http://127.0.0.1:${port}`;

async function up(): Promise<void> {
  if (!server) server = await startMlflowServer({ port, storeDir: join(tmp(), 'store') });
}
async function down(): Promise<void> {
  await server?.stop();
  server = null;
  expect(await isMlflowUp(url(), 500)).toBe(false);
}

beforeAll(async () => {
  port = await freePort();
  await up();
});
afterAll(async () => {
  await server?.stop();
});

const fastRetry = { retries: 2, baseDelayMs: 50, maxDelayMs: 200 };
const lossAt = (step: number) => 1 / (step + 1) + step * 1e-9;

/** Everything the server holds about an experiment, for before/after comparisons. */
async function snapshot(experiment: string, metricKeys: string[]) {
  const raw = rawMlflow(url());
  const id = await raw.experimentId(experiment);
  if (!id) return null;
  const runs = (await raw.searchRuns(id)).sort((a, b) => a.info.run_id.localeCompare(b.info.run_id));
  const out: Array<{
    info: RawRun['info'];
    params: Record<string, string>;
    tags: Record<string, string>;
    history: unknown;
  }> = [];
  for (const r of runs) {
    const history: Record<string, unknown> = {};
    for (const k of metricKeys) history[k] = await raw.history(r.info.run_id, k);
    out.push({ info: r.info, params: paramsOf(r), tags: tagsOf(r), history });
  }
  return out;
}

function steps(history: Array<{ step: number | string; value: number | string }>): Array<[number, number]> {
  return history
    .map((m) => [Number(m.step), Number(m.value)] as [number, number])
    .sort((a, b) => a[0] - b[0]);
}

describe('server stopped in the middle of a run (same process)', () => {
  it('keeps logging to the outbox and ends as one FINISHED run with every step exactly once', async () => {
    await up();
    const outbox = join(tmp(), 'outbox-a');
    const notes: string[] = [];
    const client = new MlflowClient({
      trackingUri: url(),
      outboxDir: outbox,
      retry: fastRetry,
      warn: (m) => notes.push(m),
    });
    const run = await startRun(client, {
      experiment: 'fault',
      runName: 'stop and restart',
      source: 'test',
      params: { lr: 0.1 },
      flushIntervalMs: 100,
      recoverEveryMs: 300,
    });
    const runId = run.runId!;
    for (let step = 0; step < 30; step++) {
      run.logMetric('loss', lossAt(step), step);
      if (step % 10 === 9) await run.flush();
    }
    expect(run.offline).toBe(false);

    await down();
    for (let step = 30; step < 60; step++) {
      run.logMetric('loss', lossAt(step), step);
      if (step % 10 === 9) await run.flush();
    }
    await run.setTags({ phase: 'offline part' });
    await run.logParams({ lr: 0.1, extra: 'logged offline' });
    expect(run.offline).toBe(true);
    expect(notes.some((n) => n.includes('unreachable') && n.includes(outbox))).toBe(true);
    const [file] = listOutboxFiles(outbox);
    const recorded = readOutboxFile(file!);
    const offlineSteps = recorded.ops.flatMap((op) =>
      op.type === 'log' ? op.metrics.map((m) => m.step) : [],
    );
    expect(offlineSteps.length).toBeGreaterThanOrEqual(30);
    expect(new Set(offlineSteps)).toEqual(new Set(Array.from({ length: 30 }, (_, i) => 30 + i)));

    await up();
    for (let step = 60; step < 90; step++) run.logMetric('loss', lossAt(step), step);
    await run.end('FINISHED');
    expect(run.offline).toBe(false);

    const raw = rawMlflow(url());
    const expId = (await raw.experimentId('fault'))!;
    const runs = await raw.searchRuns(expId);
    expect(runs.map((r) => r.info.run_id)).toEqual([runId]);
    const back = await raw.getRun(runId);
    expect(back.info.status).toBe('FINISHED');
    expect(paramsOf(back)).toEqual({ lr: '0.1', extra: 'logged offline' });
    expect(tagsOf(back).phase).toBe('offline part');
    expect(steps(await raw.history(runId, 'loss'))).toEqual(
      Array.from({ length: 90 }, (_, s) => [s, lossAt(s)]),
    );

    // Nothing is left to replay, and replaying again changes nothing.
    const before = await snapshot('fault', ['loss']);
    const again = await syncOutbox({ dir: outbox });
    expect(again.pending).toBe(0);
    expect(again.stats.metricsLogged + again.stats.runsCreated + again.stats.paramsLogged).toBe(0);
    expect(await snapshot('fault', ['loss'])).toEqual(before);
  }, 600_000);
});

describe('a process that ends its run while the server is down', () => {
  it('leaves the rest in the outbox; the next run replays it; replaying twice changes nothing', async () => {
    await up();
    const outbox = join(tmp(), 'outbox-b');
    const child = runFixture('offline-run', { TEST_MLFLOW_URL: url(), REELAB_OUTBOX_DIR: outbox });
    const [, runId] = await child.waitFor(/^started (\w+)$/);
    child.send('steps 25');
    await child.waitFor(/^logged 25 offline=false$/);
    await down();
    child.send('steps 25');
    await child.waitFor(/^logged 50 offline=true$/);
    child.send('end');
    await child.waitFor(/^ended FINISHED offline=true$/);
    expect(await child.exited).toEqual({ code: 0, signal: null });

    await up();
    const raw = rawMlflow(url());
    const before = await raw.getRun(runId!);
    expect(before.info.status).toBe('RUNNING');
    expect((await raw.history(runId!, 'loss')).length).toBe(25);

    // The next run of any process replays older outbox files for its server on its own.
    const notes: string[] = [];
    const client = new MlflowClient({ trackingUri: url(), outboxDir: outbox, warn: (m) => notes.push(m) });
    await withRun({ client, experiment: 'other', runName: 'next run', source: 'test' }, async (run) => {
      run.logMetric('x', 1, 0);
    });
    expect(notes.some((n) => /replayed the outbox/.test(n))).toBe(true);

    const after = await raw.getRun(runId!);
    expect(after.info.status).toBe('FINISHED');
    expect(paramsOf(after)).toEqual({ lr: '0.01', factors: '8' });
    expect(tagsOf(after).phase).toBe('done');
    expect(steps(await raw.history(runId!, 'loss'))).toEqual(
      Array.from({ length: 50 }, (_, s) => [s, 1 / (s + 1)] as [number, number]),
    );
    const expId = (await raw.experimentId('fault-child'))!;
    expect((await raw.searchRuns(expId)).length).toBe(1);
    expect(listOutboxFiles(outbox)).toEqual([]);
    const synced = readdirSync(join(outbox, 'synced')).filter((f) => f.endsWith('.jsonl'));
    expect(synced).toHaveLength(1);

    // Replay the same records again as if nothing had ever been acknowledged, through the CLI.
    const snap = await snapshot('fault-child', ['loss']);
    copyFileSync(join(outbox, 'synced', synced[0]!), join(outbox, `replay-${synced[0]!}`));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(projectRoot(), 'bin', 'reelab.js'), 'mlflow', 'sync', '--outbox', outbox, '--json'],
      { cwd: projectRoot(), env: { ...process.env, REELAB_OUTBOX_DIR: outbox } },
    );
    const result = JSON.parse(stdout);
    expect(result.pending).toBe(0);
    expect(result.files.map((f: { status: string }) => f.status)).toEqual(['synced']);
    expect(result.stats).toMatchObject({
      runsCreated: 0,
      metricsLogged: 0,
      paramsLogged: 0,
      metricsSkipped: 25,
    });
    expect(await snapshot('fault-child', ['loss'])).toEqual(snap);
  }, 600_000);
});

describe('a server that is down from the start', () => {
  it('connects through the outbox, works on, and sync creates each run exactly once', async () => {
    await down();
    const outbox = join(tmp(), 'outbox-c');
    const previous = process.env.MLFLOW_TRACKING_URI;
    process.env.MLFLOW_TRACKING_URI = url();
    const notes: string[] = [];
    let client: MlflowClient | null;
    try {
      client = await connectTracking({
        warn: (m) => notes.push(m),
        client: { outboxDir: outbox, retry: fastRetry },
      });
    } finally {
      if (previous === undefined) delete process.env.MLFLOW_TRACKING_URI;
      else process.env.MLFLOW_TRACKING_URI = previous;
    }
    expect(client).not.toBeNull();
    expect(notes.join('\n')).toMatch(/unreachable.*outbox/);

    const keys = await withRun(
      {
        client,
        experiment: 'offline-start',
        runName: 'never online',
        source: 'test',
        params: { model: 'svd' },
      },
      async (run) => {
        expect(run.runId).toBeNull();
        for (let step = 0; step < 10; step++) run.logMetric('loss', lossAt(step), step);
        await run.logText('model,rmse\nsvd,0.9\n', 'tables/result.csv');
        const childKey = await run.child('fold 1', async (c) => {
          c.logMetric('rmse', 0.91, 0);
          return c.runKey;
        });
        return { parent: run.runKey, child: childKey };
      },
    );
    expect(notes.some((n) => /ended FINISHED; its records wait in the outbox/.test(n))).toBe(true);

    await up();
    const result = await syncOutbox({ dir: outbox });
    expect(result.pending).toBe(0);
    expect(result.stats.runsCreated).toBe(2);

    const raw = rawMlflow(url());
    const expId = (await raw.experimentId('offline-start'))!;
    const runs = await raw.searchRuns(expId);
    expect(runs).toHaveLength(2);
    const parent = runs.find((r) => tagsOf(r)['reelab.client_run_key'] === keys.parent)!;
    const child = runs.find((r) => tagsOf(r)['reelab.client_run_key'] === keys.child)!;
    expect(parent.info.status).toBe('FINISHED');
    expect(child.info.status).toBe('FINISHED');
    expect(tagsOf(child)['mlflow.parentRunId']).toBe(parent.info.run_id);
    expect(parent.info.run_name).toBe('never online');
    expect(paramsOf(parent)).toEqual({ model: 'svd' });
    expect(steps(await raw.history(parent.info.run_id, 'loss'))).toEqual(
      Array.from({ length: 10 }, (_, s) => [s, lossAt(s)]),
    );
    const csv = await client!.getArtifact(
      `${parent.info.artifact_uri.replace('mlflow-artifacts:/', '')}/tables/result.csv`,
    );
    expect(csv.toString('utf8')).toBe('model,rmse\nsvd,0.9\n');

    const snap = await snapshot('offline-start', ['loss', 'rmse']);
    const again = await syncOutbox({ dir: outbox });
    expect(again.stats.runsCreated).toBe(0);
    expect(await snapshot('offline-start', ['loss', 'rmse'])).toEqual(snap);
    // The outbox file of this (still running) process stays, fully acknowledged.
    const [file] = listOutboxFiles(outbox);
    const state = readOutboxFile(file!);
    expect(state.ops.every((op) => state.acks.get(op.id) === null)).toBe(true);
    expect(existsSync(`${file}.blobs`)).toBe(true);
    expect(readFileSync(file!, 'utf8').split('\n')[0]).toContain('"type":"header"');
  }, 600_000);
});
