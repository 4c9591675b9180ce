import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../lib/util/project';

export interface TsChild {
  child: ChildProcess;
  /** Resolves with the first stdout line matching `pattern` (rejects if the process exits first). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  send(line: string): void;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Runs test/tracking/fixtures/<name>.ts in a separate Node process (through tsx), line-oriented. */
export function runFixture(name: string, env: Record<string, string>): TsChild {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', `${name}.ts`)], {
    cwd: projectRoot(),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let err = '';
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let i = buffer.indexOf('\n');
    while (i >= 0) {
      lines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
      i = buffer.indexOf('\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
  let seen = 0;
  const waitFor = async (pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (seen < lines.length) {
        const m = lines[seen++]!.match(pattern);
        if (m) return m;
      }
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`fixture ${name} exited before printing ${pattern}; stderr:\n${err}`);
      if (Date.now() > deadline) throw new Error(`fixture ${name} did not print ${pattern}; stderr:\n${err}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 500);
      });
    }
  };
  return {
    child,
    waitFor,
    send: (line) => child.stdin!.write(`${line}\n`),
    exited,
    stderr: () => err,
  };
}
