import { DEFAULT_TRACKING_URI } from '../tracking/connect';
import { MlflowClient } from '../tracking/mlflow-client';
import { defaultOutboxDir, listOutboxFiles, readOutboxFile } from '../tracking/outbox';
import { fetchRuns } from '../tracking/read';
import { isMlflowUp, startMlflowServer } from '../tracking/server';
import { syncOutbox } from '../tracking/sync';
import { ConfigError, errorMessage } from '../util/errors';
import { note, printResult, untilInterrupted } from './output';

function trackingUri(option?: string): string {
  return option ?? process.env.MLFLOW_TRACKING_URI ?? DEFAULT_TRACKING_URI;
}

export async function mlflowServerCommand(opts: {
  port: string;
  host: string;
  store?: string;
}): Promise<void> {
  note(`starting MLflow on ${opts.host}:${opts.port} …`);
  const server = await startMlflowServer({
    port: Number(opts.port),
    host: opts.host,
    storeDir: opts.store,
  });
  note(`MLflow UI and API: ${server.url}  (store: ${server.storeDir}); Ctrl-C stops it`);
  await untilInterrupted();
  note('stopping MLflow …');
  await server.stop();
}

export async function mlflowSyncCommand(opts: {
  to?: string;
  outbox?: string;
  json?: boolean;
}): Promise<void> {
  const to = opts.to ? new MlflowClient({ trackingUri: opts.to, warn: note }) : undefined;
  const result = await syncOutbox({ dir: opts.outbox ?? defaultOutboxDir(), to, warn: note });
  printResult(result, opts.json === true, (r: typeof result) => {
    const s = r.stats;
    const lines = r.files.map((f) => `  ${f.status.padEnd(11)} ${f.file}${f.error ? ` (${f.error})` : ''}`);
    return [
      `outbox ${r.dir}: ${r.files.length} file(s)`,
      ...lines,
      `runs created ${s.runsCreated}, found ${s.runsFound}; metrics logged ${s.metricsLogged}, already there ` +
        `${s.metricsSkipped}; params ${s.paramsLogged} (+${s.paramsSkipped} already there); tags ` +
        `${s.tagsLogged}; ends ${s.runsEnded}; artifacts ${s.artifacts}; still pending ${r.pending}`,
    ].join('\n');
  });
  if (result.pending > 0) process.exitCode = 3;
}

export async function mlflowStatusCommand(opts: {
  trackingUri?: string;
  outbox?: string;
  json?: boolean;
}): Promise<void> {
  const uri = trackingUri(opts.trackingUri);
  const up = await isMlflowUp(uri);
  let version: string | null = null;
  if (up) version = await new MlflowClient({ trackingUri: uri, warn: note }).serverVersion();
  const dir = opts.outbox ?? defaultOutboxDir();
  const outbox = listOutboxFiles(dir).map((file) => {
    try {
      const f = readOutboxFile(file);
      const waiting = f.ops.filter((op) => !f.acks.has(op.id)).length;
      return { file, trackingUri: f.header.trackingUri, pid: f.header.pid, waiting };
    } catch (err) {
      return { file, trackingUri: '', pid: 0, waiting: 0, error: errorMessage(err) };
    }
  });
  const result = { trackingUri: uri, up, version, outbox: { dir, files: outbox } };
  printResult(
    result,
    opts.json === true,
    (r: typeof result) =>
      `MLflow ${r.trackingUri}: ${r.up ? `up, version ${r.version}` : 'not answering'}\n` +
      `outbox ${r.outbox.dir}: ${r.outbox.files.length} file(s), ` +
      `${r.outbox.files.reduce((n, f) => n + f.waiting, 0)} record(s) waiting`,
  );
}

export async function mlflowRunsCommand(opts: {
  experiment: string;
  filter?: string;
  orderBy?: string;
  max?: string;
  trackingUri?: string;
  json?: boolean;
}): Promise<void> {
  const limit = opts.max === undefined ? undefined : Number(opts.max);
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0))
    throw new ConfigError('--max', `must be a positive integer, got "${opts.max}"`);
  const client = new MlflowClient({ trackingUri: trackingUri(opts.trackingUri), warn: note });
  const table = await fetchRuns(client, opts.experiment, {
    filter: opts.filter,
    orderBy: opts.orderBy
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    limit,
  });
  printResult(table, opts.json === true, (t: typeof table) =>
    [
      `${t.experiment} (${t.rows.length} run(s))`,
      ...t.rows.map(
        (r) =>
          `  ${r.runId}  ${r.status.padEnd(8)} ${r.runName}  ${t.metricKeys
            .filter((k) => r.metrics[k] !== undefined)
            .map((k) => `${k}=${r.metrics[k]}`)
            .join(' ')}`,
      ),
    ].join('\n'),
  );
}
