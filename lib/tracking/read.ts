import { ConfigError } from '../util/errors';
import type { MlflowClient, MlflowRun, RunStatus, ViewType } from './mlflow-client';

/** One run as a flat row: what leaderboards and report tables need. */
export interface RunRow {
  runId: string;
  runName: string;
  experimentId: string;
  status: RunStatus;
  /** ms since the epoch. */
  startTime: number | null;
  endTime: number | null;
  params: Record<string, string>;
  /** Latest value of each metric (the value at the highest step, as MLflow reports it). */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  parentRunId: string | null;
  artifactUri: string | null;
}

export interface RunTable {
  experiment: string;
  experimentId: string;
  rows: RunRow[];
  /** Union of param / metric names over the rows, sorted (table columns). */
  paramKeys: string[];
  metricKeys: string[];
}

export interface FetchRunsOptions {
  /** MLflow search filter, e.g. `params.model = 'svd' and metrics.rmse < 0.95`. */
  filter?: string;
  /** e.g. `['metrics.rmse ASC']`; default: newest first. */
  orderBy?: string[];
  /** At most this many runs (default: all). */
  limit?: number;
  viewType?: ViewType;
}

export function runToRow(run: MlflowRun): RunRow {
  const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
  return {
    runId: run.info.run_id,
    runName: run.info.run_name ?? tags['mlflow.runName'] ?? '',
    experimentId: run.info.experiment_id,
    status: run.info.status,
    startTime: run.info.start_time ?? null,
    endTime: run.info.end_time ?? null,
    params: Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value])),
    metrics: Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value])),
    tags,
    parentRunId: tags['mlflow.parentRunId'] ?? null,
    artifactUri: run.info.artifact_uri ?? null,
  };
}

/** The runs of an experiment (by name) as a typed table; every page of the search is fetched. */
export async function fetchRuns(
  client: MlflowClient,
  experiment: string,
  options: FetchRunsOptions = {},
): Promise<RunTable> {
  const exp = await client.getExperimentByName(experiment);
  if (!exp)
    throw new ConfigError(
      'experiment',
      `no MLflow experiment named "${experiment}" on ${client.trackingUri}`,
    );
  const runs = await client.searchAllRuns({
    experimentIds: [exp.experiment_id],
    filter: options.filter,
    orderBy: options.orderBy ?? ['attributes.start_time DESC'],
    viewType: options.viewType,
    limit: options.limit,
    maxResults: Math.min(options.limit ?? 1000, 1000),
  });
  const rows = runs.map(runToRow);
  const paramKeys = new Set<string>();
  const metricKeys = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.params)) paramKeys.add(k);
    for (const k of Object.keys(r.metrics)) metricKeys.add(k);
  }
  return {
    experiment,
    experimentId: exp.experiment_id,
    rows,
    paramKeys: [...paramKeys].sort(),
    metricKeys: [...metricKeys].sort(),
  };
}

/** A metric's history as parallel arrays sorted by step (then time): ready for a learning-curve plot. */
export interface MetricSeries {
  runId: string;
  key: string;
  steps: number[];
  values: number[];
  timestamps: number[];
}

export async function metricHistory(client: MlflowClient, runId: string, key: string): Promise<MetricSeries> {
  const points = await client.getMetricHistory(runId, key);
  points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  return {
    runId,
    key,
    steps: points.map((p) => p.step),
    values: points.map((p) => p.value),
    timestamps: points.map((p) => p.timestamp),
  };
}
