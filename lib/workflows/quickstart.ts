import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { resolveDataDir } from '../data/data-dir';
import { executeNotebook } from '../notebooks/execute';
import { DEFAULT_TRACKING_URI } from '../tracking/connect';
import { MlflowClient } from '../tracking/mlflow-client';
import { isMlflowUp, type MlflowServer, startMlflowServer } from '../tracking/server';
import { projectRoot } from '../util/project';
import { evaluate } from './evaluate';

export interface QuickstartOptions {
  dataDir?: string;
  /** Called with progress lines for the user. */
  log: (line: string) => void;
}

export interface QuickstartResult {
  dataset: string;
  split: string;
  dataNote: string;
  rmse: number;
  runId: string | null;
  trackingUri: string;
  experimentId: string | null;
  notebook: string;
  notebookHtml: string;
  /** The server this run started (stop it when done), or null when one was already running. */
  server: MlflowServer | null;
}

/** Picks the dataset the quickstart runs on: real MovieLens when present, else synthetic data (said plainly). */
export function pickQuickstartData(dataDir: string): { dataset: string; split: string; note: string } {
  if (existsSync(join(dataDir, 'ml-100k', 'u1.base'))) {
    return { dataset: 'ml-100k', split: 'u1', note: `ml-100k from ${dataDir}` };
  }
  if (existsSync(join(dataDir, 'ml-latest-small', 'ratings.csv'))) {
    return { dataset: 'ml-latest-small', split: 'random:0.2', note: `ml-latest-small from ${dataDir}` };
  }
  return {
    dataset: 'synthetic:100000',
    split: 'random:0.2',
    note:
      `no MovieLens data in ${dataDir} (fetch it with \`reelab data fetch ml-100k\`, or set REELAB_DATA_DIR to a folder ` +
      'holding ml-100k/): running on 100,000 synthetic MovieLens-shaped ratings instead',
  };
}

/**
 * The main job: make sure an MLflow server is up (start one on 127.0.0.1 if needed), run the quickstart
 * experiment on the data found, execute the quickstart notebook, and report where everything is.
 */
export async function quickstart(options: QuickstartOptions): Promise<QuickstartResult> {
  const log = options.log;
  const dataDir = resolveDataDir(options.dataDir);
  const data = pickQuickstartData(dataDir);
  log(`data: ${data.note}`);

  let server: MlflowServer | null = null;
  let trackingUri = process.env.MLFLOW_TRACKING_URI ?? DEFAULT_TRACKING_URI;
  if (!(await isMlflowUp(trackingUri, 1000))) {
    if (process.env.MLFLOW_TRACKING_URI)
      log(`MLFLOW_TRACKING_URI=${trackingUri} does not answer; starting a local server instead`);
    log('starting the MLflow server (first start takes a few seconds) …');
    const port = Number(new URL(DEFAULT_TRACKING_URI).port);
    server = await startMlflowServer({
      port: (await isPortFree(port)) ? port : undefined,
      storeDir: process.env.REELAB_MLFLOW_DIR,
    });
    trackingUri = server.url;
  }
  log(`MLflow: ${trackingUri}`);
  const client = new MlflowClient({ trackingUri });
  const experiment = 'reelab-quickstart';

  log(`evaluating the baseline on ${data.dataset} (${data.split}) …`);
  const result = await evaluate({
    dataset: data.dataset,
    split: data.split,
    model: 'baseline',
    dataDir,
    tracking: client,
    experiment,
    source: 'cli',
    sourceName: 'reelab quickstart',
  });
  log(`baseline RMSE ${result.metrics.rmse.toFixed(4)} on ${data.dataset} ${data.split}`);

  log('executing notebooks/00-quickstart.ipynb with the tslab kernel …');
  const nb = await executeNotebook(join(projectRoot(), 'notebooks', '00-quickstart.ipynb'), {
    params: { dataset: data.dataset, split: data.split, dataDir, experiment },
    env: { MLFLOW_TRACKING_URI: trackingUri, REELAB_DATA_DIR: dataDir },
  });
  const experimentInfo = await client.getExperimentByName(experiment);
  return {
    dataset: data.dataset,
    split: data.split,
    dataNote: data.note,
    rmse: result.metrics.rmse,
    runId: result.runId,
    trackingUri,
    experimentId: experimentInfo?.experiment_id ?? null,
    notebook: nb.out,
    notebookHtml: nb.html,
    server,
  };
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const srv = createServer();
    srv.once('error', () => resolveFree(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolveFree(true)));
  });
}
