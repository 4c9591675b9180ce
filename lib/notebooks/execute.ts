import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ReelabError } from '../util/errors';
import { projectRoot, venvBin } from '../util/project';

export interface ExecuteNotebookOptions {
  /** Values for the notebook's `parameters` cell (JSON-serialisable). */
  params?: Record<string, unknown>;
  /** Where the executed .ipynb and .html go (default notebooks/out). */
  outDir?: string;
  /** Budget for the whole notebook in seconds (default 900). */
  timeoutSeconds?: number;
  /** Extra environment for the kernel (e.g. REELAB_DATA_DIR, MLFLOW_TRACKING_URI). */
  env?: Record<string, string>;
  /** Receives the runner's stderr lines (progress, errors). */
  log?: (line: string) => void;
}

export interface ExecutedNotebook {
  notebook: string;
  out: string;
  html: string;
  seconds: number;
  /** The executed notebook (nbformat JSON). */
  content: NotebookJson;
}

export interface NotebookJson {
  cells: Array<{
    cell_type: string;
    source: string | string[];
    outputs?: NotebookOutput[];
    metadata?: Record<string, unknown>;
  }>;
}

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

/**
 * Executes a notebook headless through the project venv's nbclient with the tslab kernel (the same
 * path as JupyterLab), under the process-group supervisor so no kernel outlives this process.
 */
export async function executeNotebook(
  notebook: string,
  options: ExecuteNotebookOptions = {},
): Promise<ExecutedNotebook> {
  const python = venvBin('python');
  if (!existsSync(python)) throw new ReelabError('the Python tooling is missing: run `npm run setup` first');
  const path = resolve(notebook);
  if (!existsSync(path)) throw new ReelabError(`${path}: notebook not found`);
  const outDir = resolve(options.outDir ?? join(projectRoot(), 'notebooks', 'out'));
  mkdirSync(outDir, { recursive: true });
  const stem = basename(path, '.ipynb');
  const out = join(outDir, `${stem}.ipynb`);
  const html = join(outDir, `${stem}.html`);
  const args = [
    join(projectRoot(), 'scripts', 'supervise.py'),
    '--',
    python,
    join(projectRoot(), 'scripts', 'run_notebook.py'),
    path,
    '--out',
    out,
    '--html',
    html,
    '--timeout',
    String(options.timeoutSeconds ?? 900),
  ];
  for (const [name, value] of Object.entries(options.params ?? {}))
    args.push('--param', `${name}=${JSON.stringify(value)}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    PATH: `${join(projectRoot(), 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    REELAB_SOURCE: 'notebook',
    REELAB_NOTEBOOK: `notebooks/${basename(path)}`,
  };
  const started = performance.now();
  const stderr: string[] = [];
  const code = await new Promise<number>((resolveCode, reject) => {
    const child = spawn(python, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        stderr.push(line);
        if (stderr.length > 400) stderr.shift();
        options.log?.(line);
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (c, signal) => resolveCode(c ?? (signal ? 128 : 1)));
  });
  if (code !== 0) {
    throw new ReelabError(
      `notebook ${basename(path)} failed (exit ${code}):\n${stderr.slice(-60).join('\n')}`,
    );
  }
  const content = JSON.parse(readFileSync(out, 'utf8')) as NotebookJson;
  return { notebook: path, out, html, seconds: (performance.now() - started) / 1000, content };
}

/** All outputs of code cells, flattened in order. */
export function notebookOutputs(nb: NotebookJson): NotebookOutput[] {
  return nb.cells.flatMap((c) => (c.cell_type === 'code' ? (c.outputs ?? []) : []));
}

/** Concatenated text of stream outputs and text/plain results. */
export function notebookText(nb: NotebookJson): string {
  const join = (v: unknown) => (Array.isArray(v) ? v.join('') : typeof v === 'string' ? v : '');
  return notebookOutputs(nb)
    .map((o) => join(o.text) + join(o.data?.['text/plain']))
    .join('\n');
}
