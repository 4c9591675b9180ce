import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ReelabError } from '../util/errors';
import { projectRoot, venvBin } from '../util/project';

export interface MlflowServerOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number;
  /** Interface to bind; loopback unless you mean to expose the server. */
  host?: string;
  /** Holds mlflow.db (SQLite backend) and artifacts/; defaults to experiments/mlflow in the project. */
  storeDir?: string;
  /** How long to wait for the server to answer (ms). */
  startTimeoutMs?: number;
  /** Where the server's own log lines go (default: discarded). */
  log?: (line: string) => void;
}

export interface MlflowServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the server and everything it spawned; resolves when they are gone. */
  stop(): Promise<void>;
}

/**
 * The venv's python and mlflow, or a ReelabError saying what is missing and how to get it (`npm run setup`
 * creates .venv with the pinned MLflow).
 */
export function mlflowExecutables(): { python: string; mlflow: string } {
  const venv = join(projectRoot(), '.venv');
  const python = venvBin('python');
  const mlflow = venvBin('mlflow');
  if (!existsSync(venv))
    throw new ReelabError(
      `no Python environment at ${venv}: run \`npm run setup\` (creates .venv with the pinned MLflow server)`,
    );
  if (!existsSync(python))
    throw new ReelabError(`${python} is missing: .venv is incomplete; recreate it with \`npm run setup\``);
  if (!existsSync(mlflow))
    throw new ReelabError(
      `MLflow is not installed in .venv (${mlflow} is missing): run \`npm run setup\`, which installs the ` +
        'version pinned in constraints.txt',
    );
  return { python, mlflow };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** True when an MLflow server answers /health at `url`. */
export async function isMlflowUp(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts the real `mlflow server` from the project's .venv (SQLite backend, proxied local artifacts), bound
 * to 127.0.0.1 by default, and waits until it answers. The server runs under scripts/supervise.py, so it is
 * taken down with its process group when this Node process exits in any way.
 */
export async function startMlflowServer(options: MlflowServerOptions = {}): Promise<MlflowServer> {
  const { mlflow, python } = mlflowExecutables();
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const storeDir = resolve(options.storeDir ?? join(projectRoot(), 'experiments', 'mlflow'));
  mkdirSync(join(storeDir, 'artifacts'), { recursive: true });
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (await isMlflowUp(url, 500))
    throw new ReelabError(`something already answers on ${url}; pick another port`);

  const args = [
    join(projectRoot(), 'scripts', 'supervise.py'),
    '--',
    mlflow,
    'server',
    '--host',
    host,
    '--port',
    String(port),
    '--workers',
    '1',
    '--backend-store-uri',
    `sqlite:///${join(storeDir, 'mlflow.db')}`,
    '--artifacts-destination',
    join(storeDir, 'artifacts'),
  ];
  const child = spawn(python, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      options.log?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // Keep the event loop free to exit: the supervisor notices our exit through its stdin.
  child.unref();
  (child.stdout as unknown as { unref?: () => void })?.unref?.();
  (child.stderr as unknown as { unref?: () => void })?.unref?.();
  (child.stdin as unknown as { unref?: () => void })?.unref?.();

  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  while (!(await isMlflowUp(url))) {
    if (child.exitCode !== null) {
      throw new ReelabError(
        `mlflow server exited with code ${child.exitCode} before answering:\n${output.slice(-20).join('\n')}`,
      );
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new ReelabError(
        `mlflow server did not answer on ${url} in time:\n${output.slice(-20).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, port, storeDir, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
