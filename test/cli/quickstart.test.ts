import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/tracking/server';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import {
  MLFLOW_SERVER,
  processesMatching,
  processesWithEnv,
  TSLAB_KERNEL,
  waitFor,
} from '../helpers/processes';

const temp: string[] = [];
afterAll(() => {
  for (const d of temp) rmSync(d, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  marker: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the main job in its own process group (like a terminal would) with a marker in its environment. */
async function startQuickstart(args: string[], dataDir: string): Promise<Started> {
  const marker = randomUUID();
  const store = mkdtempSync(join(tmpdir(), 'reelab-qs-'));
  temp.push(store);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REELAB_TEST_MARKER: marker,
    REELAB_MLFLOW_PORT: String(await freePort()),
    REELAB_MLFLOW_DIR: store,
    REELAB_DATA_DIR: dataDir,
  };
  delete env.MLFLOW_TRACKING_URI;
  const child = spawn('node', ['bin/reelab.js', 'quickstart', ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, marker, stdout: () => out, stderr: () => err, exited };
}

async function expectNoLeftovers(marker: string): Promise<void> {
  const clean = await waitFor(() => processesWithEnv('REELAB_TEST_MARKER', marker).length === 0, 20_000);
  expect(clean ? [] : processesWithEnv('REELAB_TEST_MARKER', marker)).toEqual([]);
}

describe('the main job (reelab quickstart)', () => {
  it.runIf(HAS_ML100K)(
    'runs end to end on real data, reports where things are, leaves nothing running',
    async () => {
      const job = await startQuickstart(['--no-serve', '--json'], realDataDir());
      expect(await job.exited).toBe(0);
      const result = JSON.parse(job.stdout()) as Record<string, unknown>;
      expect(result).toMatchObject({ dataset: 'ml-100k', split: 'u1' });
      expect(result.rmse as number).toBeGreaterThan(0.94);
      expect(result.rmse as number).toBeLessThan(0.97);
      expect(existsSync(result.notebook as string)).toBe(true);
      expect(existsSync(result.notebookHtml as string)).toBe(true);
      expect(result.experimentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#\/experiments\/\d+$/);
      await expectNoLeftovers(job.marker);
    },
  );

  it('falls back to synthetic data, saying so, when no MovieLens data is found', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'reelab-nodata-'));
    temp.push(empty);
    const job = await startQuickstart(['--no-serve', '--json'], empty);
    expect(await job.exited).toBe(0);
    const result = JSON.parse(job.stdout()) as Record<string, unknown>;
    expect(result.dataset).toBe('synthetic:100000');
    expect(job.stderr()).toContain('no MovieLens data in');
    await expectNoLeftovers(job.marker);
  });

  it.runIf(HAS_ML100K)('Ctrl-C while serving the MLflow UI leaves no orphan processes', async () => {
    const job = await startQuickstart(['--serve'], realDataDir());
    expect(await waitFor(() => job.stderr().includes('press Ctrl-C'), 240_000)).toBe(true);
    expect(processesWithEnv('REELAB_TEST_MARKER', job.marker).length).toBeGreaterThan(1);
    // The MLflow UI it serves is up before Ctrl-C, so "no orphans" afterwards means it was stopped.
    expect(processesMatching('REELAB_TEST_MARKER', job.marker, MLFLOW_SERVER).length).toBeGreaterThan(0);
    process.kill(-job.child.pid!, 'SIGINT');
    await job.exited;
    await expectNoLeftovers(job.marker);
  });

  it.runIf(HAS_ML100K)(
    'Ctrl-C while the notebook kernel runs leaves no orphan MLflow or kernel process',
    async () => {
      const job = await startQuickstart(['--serve'], realDataDir());
      expect(await waitFor(() => job.stderr().includes('executing notebooks/00-quickstart'), 240_000)).toBe(
        true,
      );
      // Wait until the tslab kernel process exists (else this would pass without interrupting a kernel), with
      // the job's MLflow server alongside it; then interrupt the whole group as a terminal would.
      const kernelUp = await waitFor(
        () => processesMatching('REELAB_TEST_MARKER', job.marker, TSLAB_KERNEL).length > 0,
        60_000,
      );
      expect(kernelUp, `no tslab kernel process appeared; stderr:\n${job.stderr()}`).toBe(true);
      expect(processesMatching('REELAB_TEST_MARKER', job.marker, MLFLOW_SERVER).length).toBeGreaterThan(0);
      expect(job.child.exitCode).toBeNull(); // still executing the notebook when interrupted
      process.kill(-job.child.pid!, 'SIGINT');
      await job.exited;
      await expectNoLeftovers(job.marker);
    },
  );
});
