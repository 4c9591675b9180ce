import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperimentConfig } from '../../lib/config/load';
import { planSearch } from '../../lib/search/plan';
import { datasetSha256 } from '../../lib/search/runner';
import { listOutboxFiles, readOutboxFile } from '../../lib/tracking/outbox';
import { projectRoot } from '../../lib/util/project';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { type RawRun, rawMlflow, tagsOf, useMlflowServer, useTempDir } from '../helpers/mlflow';
import { waitFor } from '../helpers/processes';

const server = useMlflowServer();
const tmp = useTempDir('reelab-interrupt-');

/** Ten SVD trials of a few seconds each: long enough to be interrupted after the first ones. */
function configYaml(name: string): string {
  return `
name: ${name}
dataset: ml-100k
split: u1
seed: 5
metrics: [rmse]
search: { parallel: 2 }
models:
  - model: svd
    params: { epochs: 40 }
    space:
      factors: [40, 60, 80, 100, 120]
      learningRate: [0.005, 0.01]
mlflow: { experiment: ${name} }
`;
}

interface Child {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function reelab(args: string[]): Child {
  const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'reelab.js'), ...args], {
    cwd: projectRoot(),
    env: {
      ...process.env,
      MLFLOW_TRACKING_URI: server().url,
      REELAB_DATA_DIR: realDataDir(),
      REELAB_THREADS: '2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => err, stdout: () => out, exited };
}

/** Run ids with an end record of `status` in the outbox (pending or synced files). */
function outboxEnds(status: string): string[] {
  const dir = process.env.REELAB_OUTBOX_DIR!;
  const files = [...listOutboxFiles(dir), ...listOutboxFiles(join(dir, 'synced'))];
  const ids: string[] = [];
  for (const f of files)
    for (const op of readOutboxFile(f).ops)
      if (op.type === 'end' && op.status === status && op.run.id) ids.push(op.run.id);
  return ids;
}

async function allRuns(experiment: string): Promise<RawRun[]> {
  const raw = rawMlflow(server().url);
  const id = await raw.experimentId(experiment);
  return id ? raw.searchRuns(id) : [];
}

async function interruptAndResume(name: string, signal: 'SIGINT' | 'SIGKILL'): Promise<void> {
  const file = join(tmp(), `${name}.yaml`);
  writeFileSync(file, configYaml(name));
  const config = loadExperimentConfig(file).config;
  const planned = new Set(
    planSearch({ config, datasetSha256: await datasetSha256('ml-100k', realDataDir()) }).trials.map(
      (t) => t.hash,
    ),
  );
  expect(planned.size).toBe(10);

  const first = reelab(['search', file, '--json']);
  const started = await waitFor(
    () => / 2\/10 trials/.test(first.stderr()) || first.child.exitCode !== null,
    240_000,
  );
  expect(started, first.stderr()).toBe(true);
  first.child.kill(signal);
  const end = await first.exited;
  expect(end.signal ?? end.code, first.stderr()).toBe(signal === 'SIGINT' ? 'SIGINT' : 'SIGKILL');

  const before = (await allRuns(name)).filter((r) => tagsOf(r)['reelab.kind'] === 'trial');
  const finishedBefore = before.filter((r) => r.info.status === 'FINISHED').length;
  // It really was interrupted mid-way: some trials finished, not all.
  expect(finishedBefore).toBeGreaterThanOrEqual(2);
  expect(finishedBefore).toBeLessThan(10);
  if (signal === 'SIGINT') {
    // Ctrl-C ends the open runs KILLED: on the server, or — when it answers too slowly within the grace
    // period — as a KILLED end record in the outbox, replayed later. Never left open and forgotten.
    const pendingKills = outboxEnds('KILLED');
    const open = before.filter((r) => r.info.status === 'RUNNING');
    for (const r of open) expect(pendingKills, `run ${r.info.run_id} left RUNNING`).toContain(r.info.run_id);
    expect(before.filter((r) => r.info.status === 'KILLED').length + open.length).toBeGreaterThanOrEqual(1);
    const parent = (await allRuns(name)).find((r) => tagsOf(r)['reelab.kind'] === 'search')!;
    if (parent.info.status !== 'KILLED') expect(pendingKills).toContain(parent.info.run_id);
  } else {
    expect(before.filter((r) => r.info.status === 'RUNNING').length).toBeGreaterThanOrEqual(1);
  }

  const second = reelab(['search', file, '--json']);
  const done = await second.exited;
  expect(done.code, second.stderr()).toBe(0);
  const summary = JSON.parse(second.stdout());
  expect(summary.trials.total).toBe(10);
  expect(summary.trials.reused).toBe(finishedBefore);
  expect(summary.trials.ran).toBe(10 - finishedBefore);
  expect(summary.trials.superseded).toBe(before.length - finishedBefore);

  const after = await allRuns(name);
  const trials = after.filter((r) => tagsOf(r)['reelab.kind'] === 'trial');
  const active = trials.filter((r) => r.info.lifecycle_stage === 'active');
  // none lost, none duplicated: exactly one active FINISHED run per planned trial
  expect(active.every((r) => r.info.status === 'FINISHED')).toBe(true);
  expect(active.map((r) => tagsOf(r)['reelab.trial.hash']).sort()).toEqual([...planned].sort());
  // the runs the interruption left behind are marked and deleted, not silently dropped
  const stale = trials.filter((r) => r.info.lifecycle_stage === 'deleted');
  expect(stale).toHaveLength(before.length - finishedBefore);
  for (const r of stale) {
    expect(tagsOf(r)['reelab.superseded']).toBe('true');
    expect(r.info.status).toBe('KILLED');
  }
  // the finished runs of the interrupted search were reused as they were
  const reusedIds = before.filter((r) => r.info.status === 'FINISHED').map((r) => r.info.run_id);
  for (const id of reusedIds) expect(active.map((r) => r.info.run_id)).toContain(id);
  // a third run finds everything
  const third = reelab(['search', file, '--json']);
  expect((await third.exited).code).toBe(0);
  expect(JSON.parse(third.stdout()).trials).toMatchObject({ ran: 0, reused: 10, superseded: 0 });
}

describe.runIf(HAS_ML100K)(
  'an interrupted search resumes without duplicates or losses (real MLflow, real CLI)',
  () => {
    it('SIGINT mid-way, then the same command again', async () => {
      await interruptAndResume('interrupt-sigint', 'SIGINT');
    }, 900_000);

    it('SIGKILL mid-way (runs left RUNNING), then the same command again', async () => {
      await interruptAndResume('interrupt-sigkill', 'SIGKILL');
    }, 900_000);
  },
);
