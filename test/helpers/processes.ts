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
