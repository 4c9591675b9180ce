/**
 * Headless Chromium, when installed (Debian package `chromium`; `scripts/setup-chromium.sh`): renders figure
 * HTML to PNG and reports the DOM a page ends up with (to check that exported notebooks draw their figures
 * with no network). Everything here is optional: callers check `findChromium()` first.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReelabError } from '../util/errors';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The Chromium executable: REELAB_CHROMIUM, else the first of chromium / chromium-browser / google-chrome on PATH. */
export function findChromium(): string | null {
  const explicit = process.env.REELAB_CHROMIUM;
  if (explicit) return isExecutable(explicit) ? explicit : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of NAMES) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when `unshare -n` can give a child process an empty network namespace (root on Linux). */
function canUnshareNetwork(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/unshare');
}

export interface ChromiumRun {
  stdout: string;
  stderr: string;
  code: number;
  /** How the network was cut: an empty network namespace, or DNS/proxy rules pointing nowhere. */
  offline: 'namespace' | 'rules' | null;
}

export interface RunChromiumOptions {
  /** No network at all for the page (default false). */
  offline?: boolean;
  /** Kill Chromium after this many ms (default 60 000). */
  timeoutMs?: number;
}

/** Runs headless Chromium with `args` plus the flags every run needs; returns its output. */
export function runChromium(args: string[], options: RunChromiumOptions = {}): Promise<ChromiumRun> {
  const chromium = findChromium();
  if (!chromium)
    throw new ReelabError(
      'headless Chromium is not installed (run scripts/setup-chromium.sh or set REELAB_CHROMIUM)',
    );
  const profile = mkdtempSync(join(tmpdir(), 'reelab-chromium-'));
  const base = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--hide-scrollbars',
    '--mute-audio',
    `--user-data-dir=${profile}`,
  ];
  let command = chromium;
  let commandArgs = [...base, ...args];
  let offline: ChromiumRun['offline'] = null;
  if (options.offline) {
    if (canUnshareNetwork()) {
      command = '/usr/bin/unshare';
      commandArgs = ['-n', chromium, ...commandArgs];
      offline = 'namespace';
    } else {
      commandArgs = [
        '--host-resolver-rules=MAP * ~NOTFOUND',
        '--proxy-server=http://127.0.0.1:9',
        '--proxy-bypass-list=<-loopback>',
        ...commandArgs,
      ];
      offline = 'rules';
    }
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      resolvePromise({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? (signal ? 128 : 1),
        offline,
      });
    });
  });
}

export interface RenderOptions {
  /** Cut the network (default true: figures must not need it). */
  offline?: boolean;
  /** Virtual time given to the page's scripts before the result is taken (ms, default 15 000). */
  budgetMs?: number;
  timeoutMs?: number;
}

/** Loads a local HTML file headless and returns the DOM after its scripts ran (e.g. to find Plotly's SVG). */
export async function renderedDom(htmlFile: string, options: RenderOptions = {}): Promise<string> {
  const run = await runChromium(
    [
      `--virtual-time-budget=${options.budgetMs ?? 15_000}`,
      '--dump-dom',
      pathToFileURL(resolve(htmlFile)).href,
    ],
    { offline: options.offline ?? true, timeoutMs: options.timeoutMs },
  );
  if (run.code !== 0 || !run.stdout)
    throw new ReelabError(
      `chromium could not render ${htmlFile} (exit ${run.code}): ${run.stderr.slice(-400)}`,
    );
  return run.stdout;
}

export interface ScreenshotOptions extends RenderOptions {
  width?: number;
  height?: number;
}

/** Screenshot of a local HTML file as PNG (offline by default). */
export async function screenshotHtml(
  htmlFile: string,
  pngFile: string,
  options: ScreenshotOptions = {},
): Promise<void> {
  const run = await runChromium(
    [
      `--window-size=${options.width ?? 1000},${options.height ?? 700}`,
      `--virtual-time-budget=${options.budgetMs ?? 15_000}`,
      `--screenshot=${resolve(pngFile)}`,
      pathToFileURL(resolve(htmlFile)).href,
    ],
    { offline: options.offline ?? true, timeoutMs: options.timeoutMs },
  );
  if (run.code !== 0 || !existsSync(pngFile))
    throw new ReelabError(
      `chromium could not screenshot ${htmlFile} (exit ${run.code}): ${run.stderr.slice(-400)}`,
    );
}

/** What a rendered page shows of its Plotly figures. */
export interface PlotlyDomSummary {
  /** Plotly figure containers that were drawn (`.js-plotly-plot`). */
  plots: number;
  /** Plotly's main SVG elements (one or more per drawn figure). */
  svgs: number;
  /** Drawn marks: scatter markers and bars (plotly.js gives both the class "point"). */
  points: number;
  /** Bar traces. */
  barTraces: number;
}

/** Counts drawn Plotly figures and marks in a DOM dump (class names plotly.js gives its SVG elements). */
export function summarisePlotlyDom(dom: string): PlotlyDomSummary {
  const count = (re: RegExp) => (dom.match(re) ?? []).length;
  return {
    plots: count(/class="[^"]*\bjs-plotly-plot\b/g),
    svgs: count(/<svg[^>]*class="main-svg"/g),
    points: count(/class="point"/g),
    barTraces: count(/class="trace bars"/g),
  };
}
