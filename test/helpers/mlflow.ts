import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type MlflowServer, startMlflowServer } from '../../lib/tracking/server';

/**
 * Starts a real `mlflow server` from .venv on a free port with its store in a temp dir, for the tests of one
 * file; stops it and removes the store afterwards. Returns a getter because the server starts in beforeAll.
 */
export function useMlflowServer(): () => MlflowServer {
  let server: MlflowServer | null = null;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reelab-mlflow-'));
    server = await startMlflowServer({ storeDir: dir });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!server) throw new Error('MLflow test server is not running (beforeAll failed?)');
    return server;
  };
}
