import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, isMlflowUp } from '../../lib/tracking/server';
import { processesWithEnv, waitFor } from '../helpers/processes';

describe('npm run mlflow (reelab mlflow server)', () => {
  it('keeps the server up until Ctrl-C, then stops it and everything it started', async () => {
    const store = mkdtempSync(join(tmpdir(), 'reelab-mlflow-cli-'));
    const port = await freePort();
    const marker = randomUUID();
    const child = spawn(
      'node',
      ['bin/reelab.js', 'mlflow', 'server', '--port', String(port), '--store', store],
      {
        env: { ...process.env, REELAB_TEST_MARKER: marker },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = `http://127.0.0.1:${port}`;
    expect(await waitFor(() => isMlflowUp(url, 1000), 120_000, 500)).toBe(true);
    // Still serving a while later (nothing but the wait for Ctrl-C holds the command open).
    await new Promise((r) => setTimeout(r, 3000));
    expect(await isMlflowUp(url, 2000)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await isMlflowUp(url, 1000)).toBe(false);
    expect(await waitFor(() => processesWithEnv('REELAB_TEST_MARKER', marker).length === 0, 20_000)).toBe(
      true,
    );
    rmSync(store, { recursive: true, force: true });
  });
});
