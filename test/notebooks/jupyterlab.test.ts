import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import { chromium, type Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../lib/tracking/server';
import { projectRoot, venvBin } from '../../lib/util/project';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { useMlflowServer, useTempDir } from '../helpers/mlflow';
import { processesMatching, processesWithEnv, TSLAB_KERNEL, waitFor } from '../helpers/processes';
import { chromiumComponent, requireComponentForEach } from '../helpers/require';

const server = useMlflowServer();

/** What a user sees in an element (rendered text: the status bar's separators, the cells' visible output). */
function renderedText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point here
  return locator.innerText();
}
const tempDir = useTempDir('reelab-lab-');
const chromiumBrowser = chromiumComponent();

/** JupyterLab from .venv (what `npm run lab` starts) on a free port, serving `dir`, in its own process group. */
async function startLab(
  dir: string,
  env: Record<string, string>,
): Promise<{ url: string; token: string; proc: ChildProcess }> {
  const port = await freePort();
  const token = `t${Date.now()}`;
  const args = ['lab', '--no-browser', '--ip', '127.0.0.1', '--port', String(port), '--notebook-dir', dir];
  args.push(`--ServerApp.token=${token}`);
  if (process.getuid?.() === 0) args.push('--allow-root');
  const proc = spawn(venvBin('jupyter'), args, {
    env: {
      ...process.env,
      ...env,
      PATH: `${join(projectRoot(), 'node_modules', '.bin')}:${process.env.PATH}`,
      JUPYTER_RUNTIME_DIR: join(dir, '.runtime'),
      JUPYTERLAB_WORKSPACES_DIR: join(dir, '.workspaces'),
    },
    stdio: 'ignore',
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const up = await waitFor(async () => {
    try {
      await axios.get(`${url}/api/status`, { params: { token }, timeout: 2000 });
      return true;
    } catch {
      return false;
    }
  }, 60_000);
  if (!up) throw new Error('JupyterLab did not answer within 60 s');
  return { url, token, proc };
}

describe.runIf(HAS_ML100K)('the quickstart notebook in JupyterLab', () => {
  requireComponentForEach(chromiumBrowser);

  it('runs all cells with the TypeScript kernel and draws its Plotly figures inline', async () => {
    const dir = tempDir();
    // A copy, so that JupyterLab's autosave never writes outputs into the committed notebook.
    copyFileSync(join(projectRoot(), 'notebooks', '00-quickstart.ipynb'), join(dir, 'quickstart.ipynb'));
    const marker = `lab-${process.pid}-${Date.now()}`;
    const lab = await startLab(dir, {
      REELAB_DATA_DIR: realDataDir(),
      MLFLOW_TRACKING_URI: server().url,
      REELAB_TEST_MARKER: marker,
    });
    const browser = await chromium.launch({
      executablePath: chromiumBrowser.executable,
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${lab.url}/lab/tree/quickstart.ipynb?token=${lab.token}`);
      await page.waitForSelector('.jp-Notebook', { timeout: 60_000 });
      await expect
        .poll(() => page.locator('.jp-Notebook-cell').count(), { timeout: 60_000 })
        .toBeGreaterThan(5);
      await expect
        .poll(
          async () => (await renderedText(page.locator('#jp-main-statusbar'))).includes('TypeScript | Idle'),
          {
            timeout: 60_000,
          },
        )
        .toBe(true);
      await page.click('.lm-MenuBar-itemLabel:text-is("Run")');
      await page.click('.lm-Menu-itemLabel:text-is("Run All Cells")');

      // Both figures drawn by JupyterLab's own Plotly renderer, the RMSE printed, the recommendations table shown.
      const notebook = page.locator('.jp-Notebook');
      await expect
        .poll(async () => (await renderedText(notebook)).includes('RMSE on ml-100k u1: 0.9599'), {
          timeout: 240_000,
          interval: 1000,
        })
        .toBe(true);
      await expect
        .poll(() => page.locator('.jp-OutputArea table').count(), { timeout: 120_000, interval: 1000 })
        .toBeGreaterThanOrEqual(2);
      await expect
        .poll(() => page.locator('.jp-OutputArea .js-plotly-plot .main-svg').count(), { timeout: 60_000 })
        .toBeGreaterThanOrEqual(2);
      expect(await page.locator('.jp-OutputArea .js-plotly-plot').count()).toBe(2);
      const text = await renderedText(notebook);
      expect(text).toContain('Baseline learning curve — ml-100k u1');
      expect(text).toMatch(/MLflow run: http:\/\/127\.0\.0\.1:\d+\/#\/experiments\/\d+\/runs\/[0-9a-f]{32}/);
      expect(text).not.toMatch(/Error:|Traceback/);
      mkdirSync('test-artifacts/notebooks', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/notebooks/jupyterlab-quickstart.png' });
      // The cells ran in a tslab kernel started by this JupyterLab (so "nothing left" below means something).
      expect(processesMatching('REELAB_TEST_MARKER', marker, TSLAB_KERNEL).length).toBeGreaterThan(0);
    } finally {
      await browser.close();
      process.kill(-lab.proc.pid!, 'SIGTERM');
    }
    // Stopping JupyterLab shuts its kernel down too: nothing of this test is left running.
    expect(await waitFor(() => processesWithEnv('REELAB_TEST_MARKER', marker).length === 0, 30_000)).toBe(
      true,
    );
  }, 600_000);
});
