import { readdirSync, readFileSync } from 'node:fs';

/** PIDs of live processes whose environment contains `KEY=value` (how tests find what a command left behind). */
export function processesWithEnv(key: string, value: string): number[] {
  const needle = `${key}=${value}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // zombies are already dead
      if (env.includes(needle)) pids.push(Number(entry));
    } catch {
      // process ended or not readable
    }
  }
  return pids;
}

/** Waits until `check` is true or the timeout passes; returns the last value of `check`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The command line of a live process ('' when it has ended or cannot be read). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Live processes with `KEY=value` in their environment whose command line matches `pattern`. */
export function processesMatching(key: string, value: string, pattern: RegExp): number[] {
  return processesWithEnv(key, value).filter((pid) => pattern.test(commandLine(pid)));
}

/** How a tslab kernel process shows up (scripts/tslab-kernel.sh execs `tslab kernel --config-path …`). */
export const TSLAB_KERNEL = /\btslab\b.*\bkernel\b/;
/** How the MLflow tracking server shows up (`mlflow server …` from .venv, and its gunicorn/uvicorn workers). */
export const MLFLOW_SERVER = /\bmlflow\b.*\bserver\b|\bmlflow\.server\b/;
