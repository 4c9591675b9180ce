import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { afterAll, beforeAll } from 'vitest';
import { type MlflowServer, startMlflowServer } from '../../lib/tracking/server';

/**
 * Starts a real `mlflow server` from .venv on a free port with its store in a temp dir, for the tests of one
 * file; stops it and removes the store afterwards. Returns a getter because the server starts in beforeAll.
 * The file's runs keep their outbox in the same temp dir (REELAB_OUTBOX_DIR), never in the project.
 */
export function useMlflowServer(): () => MlflowServer {
  let server: MlflowServer | null = null;
  let dir = '';
  const previousOutbox = process.env.REELAB_OUTBOX_DIR;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reelab-mlflow-'));
    process.env.REELAB_OUTBOX_DIR = join(dir, 'outbox');
    server = await startMlflowServer({ storeDir: join(dir, 'store') });
  });
  afterAll(async () => {
    await server?.stop();
    if (previousOutbox === undefined) delete process.env.REELAB_OUTBOX_DIR;
    else process.env.REELAB_OUTBOX_DIR = previousOutbox;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!server) throw new Error('MLflow test server is not running (beforeAll failed?)');
    return server;
  };
}

/** A temp folder removed after the file's tests. */
export function useTempDir(prefix = 'reelab-test-'): () => string {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

type Json = Record<string, unknown>;

/** Raw REST calls (no reelab client in between) to check what the server really stored. */
export function rawMlflow(url: string) {
  const api = `${url}/api/2.0/mlflow`;
  return {
    async getRun(runId: string): Promise<RawRun> {
      return (await axios.get(`${api}/runs/get`, { params: { run_id: runId } })).data.run;
    },
    async history(
      runId: string,
      key: string,
    ): Promise<Array<{ key: string; value: number | string; step: number; timestamp: number }>> {
      return (
        (await axios.get(`${api}/metrics/get-history`, { params: { run_id: runId, metric_key: key } })).data
          .metrics ?? []
      );
    },
    async searchRuns(experimentId: string, filter?: string): Promise<RawRun[]> {
      const res = await axios.post(`${api}/runs/search`, {
        experiment_ids: [experimentId],
        filter,
        max_results: 1000,
        run_view_type: 'ALL',
      });
      return res.data.runs ?? [];
    },
    /** Artifact paths directly under `path` of a run (artifacts/list). */
    async artifacts(runId: string, path?: string): Promise<string[]> {
      const res = await axios.get(`${api}/artifacts/list`, { params: { run_id: runId, path } });
      return ((res.data.files ?? []) as Array<{ path: string }>).map((f) => f.path).sort();
    },
    async experimentId(name: string): Promise<string | null> {
      try {
        return (await axios.get(`${api}/experiments/get-by-name`, { params: { experiment_name: name } })).data
          .experiment.experiment_id;
      } catch {
        return null;
      }
    },
    async post(path: string, body: Json): Promise<Json> {
      return (await axios.post(`${api}${path}`, body)).data;
    },
  };
}

export interface RawRun {
  info: {
    run_id: string;
    experiment_id: string;
    status: string;
    run_name?: string;
    start_time?: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: string;
  };
  data: {
    metrics?: Array<{ key: string; value: number | string; step: number; timestamp: number }>;
    params?: Array<{ key: string; value: string }>;
    tags?: Array<{ key: string; value: string }>;
  };
}

export function tagsOf(run: RawRun): Record<string, string> {
  return Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
}

export function paramsOf(run: RawRun): Record<string, string> {
  return Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
}
