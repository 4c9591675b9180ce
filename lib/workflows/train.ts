import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { datasetDir, resolveDataDir } from '../data/data-dir';
import { loadRatings, parseDatasetName } from '../data/load';
import { makeSplit } from '../data/split';
import { mlflowMetricKey } from '../eval/names';
import { evaluateModel } from '../eval/protocols';
import type { EpochReport } from '../models/recommender';
import { createModel, modelEntry } from '../models/registry';
import { MODEL_ARTIFACT_PATH, type ServingMeta, saveServingModel } from '../serving/artifact';
import { itemCounts, modelView } from '../serving/model-view';
import { MovieTable } from '../serving/movies';
import type { MlflowClient } from '../tracking/mlflow-client';
import { type RunSource, startRun } from '../tracking/run';
import { ConfigError } from '../util/errors';
import { sha256FileCached } from '../util/hash';
import { ModelInputs, withDatasetParams } from './model-inputs';

export interface TrainRequest {
  dataset: string;
  /** Fit on this split's training part and report test metrics; omitted or null: fit on every rating. */
  split?: string | null;
  model: string;
  params?: Record<string, unknown>;
  /** Folder to write the model to (created; must be empty or absent unless `overwrite`). */
  out: string;
  overwrite?: boolean;
  /** Test metrics with a split (default: rmse, mae for rating models; ndcg@10, precision@10, recall@10 else). */
  metrics?: string[];
  seed?: number;
  dataDir?: string;
  threads?: number;
  tracking?: MlflowClient | null;
  experiment?: string;
  source?: RunSource;
  sourceName?: string;
  onEpoch?: (report: EpochReport) => void;
}

export interface TrainResult {
  model: string;
  dataset: string;
  split: string | null;
  params: Record<string, number | string | boolean>;
  out: string;
  metrics: Record<string, number>;
  fitSeconds: number;
  trainRatings: number;
  users: number;
  movies: number;
  datasetSha256: string | null;
  runId: string | null;
  /** Artifact path of the model directory in the MLflow run (null when not tracked). */
  artifactPath: string | null;
}

/**
 * Loads a dataset, fits a model on all of it (or a split's training part, then scores the test part), and saves
 * a servable model directory: the model (weights, id maps, params) via `saveModel` with serving metadata (dataset
 * name and ratings sha256, rating scale, metrics, run id) and movies.json. When tracking, the run gets params,
 * per-epoch and test metrics, and the directory as the `model/` artifact.
 */
export async function train(request: TrainRequest): Promise<TrainResult> {
  const entry = modelEntry(request.model);
  const out = resolve(request.out);
  prepareOutDir(out, request.overwrite === true);
  const seed = request.seed ?? 42;
  const params = withDatasetParams(request.model, request.params ?? {}, request.dataset, request.dataDir);
  const model = createModel(request.model, params);
  const all = loadRatings(request.dataset, { dataDir: request.dataDir, seed });
  const split = request.split
    ? makeSplit(all, request.split, request.dataset, { seed, dataDir: request.dataDir })
    : null;
  const trainPart = split ? split.train : all;
  const inputs = new ModelInputs(request.dataset, all, { dataDir: request.dataDir, seed });
  inputs.give(model);
  const movies = inputs.movieTable();
  const { sha256, file } = await ratingsFileHash(request.dataset, request.dataDir);
  const metricNames =
    request.metrics ?? (entry.task === 'rating' ? ['rmse', 'mae'] : ['ndcg@10', 'precision@10', 'recall@10']);

  const run = request.tracking
    ? await startRun(request.tracking, {
        experiment: request.experiment ?? `reelab-${request.dataset}`,
        runName: `train ${request.model} ${request.dataset}${split ? ` ${split.name}` : ''}`,
        source: request.source ?? 'script',
        sourceName: request.sourceName,
        dataset: request.dataset,
        datasetSha256: sha256 ?? undefined,
        seed,
        tags: {
          'reelab.model': request.model,
          'reelab.task': entry.task,
          'reelab.split': split ? split.name : 'none',
          'reelab.kind': 'train',
        },
      })
    : null;
  try {
    if (run)
      await run.logParams({ ...model.params, dataset: request.dataset, split: split?.name ?? 'none', seed });
    const pending: Promise<void>[] = [];
    const started = performance.now();
    await model.fit(trainPart, {
      threads: request.threads,
      validation: split?.test,
      onEpoch: (report) => {
        request.onEpoch?.(report);
        if (!run) return;
        const m: Record<string, number> = { epoch_seconds: report.seconds };
        if (report.trainRmse !== undefined) m.train_rmse = report.trainRmse;
        if (report.validationRmse !== undefined) m.validation_rmse = report.validationRmse;
        if (report.loss !== undefined) m.loss = report.loss;
        pending.push(run.logMetrics(m, report.epoch));
      },
    });
    const fitSeconds = (performance.now() - started) / 1000;
    await Promise.all(pending);
    const metrics: Record<string, number> = {};
    const tracked: Record<string, number> = { fit_seconds: fitSeconds };
    if (split) {
      const results = await evaluateModel(model, split.train, split.test, {
        metrics: metricNames,
        seed,
        threads: request.threads,
      });
      for (const r of results) {
        for (const [name, v] of Object.entries(r.metrics)) {
          metrics[name] = v;
          tracked[r.protocol === 'rating' ? name : mlflowMetricKey(name, r.protocol)] = v;
        }
      }
    }
    const view = modelView(model);
    const table = MovieTable.fromMovies(request.dataset, movies, view.items, itemCounts(view));
    const [ratingMin, ratingMax] = range(trainPart.ratings);
    const meta: ServingMeta = {
      dataset: request.dataset,
      datasetSha256: sha256,
      ratingsFile: file,
      split: split?.name ?? null,
      seed,
      task: entry.task,
      ratingMin,
      ratingMax,
      trainRatings: trainPart.size,
      metrics,
      fitSeconds,
      runId: run?.runId ?? null,
      trainedAt: new Date().toISOString(),
    };
    await saveServingModel(out, model, table, meta);
    let artifactPath: string | null = null;
    if (run) {
      await run.logMetrics(tracked);
      await run.logArtifacts(out, MODEL_ARTIFACT_PATH);
      artifactPath = MODEL_ARTIFACT_PATH;
      await run.end('FINISHED');
    }
    return {
      model: request.model,
      dataset: request.dataset,
      split: split?.name ?? null,
      params: { ...model.params },
      out,
      metrics,
      fitSeconds,
      trainRatings: trainPart.size,
      users: view.users.size,
      movies: view.items.size,
      datasetSha256: sha256,
      runId: run?.runId ?? null,
      artifactPath,
    };
  } catch (err) {
    if (run?.isOpen) await run.end('FAILED', { error: err }).catch(() => {});
    throw err;
  }
}

function prepareOutDir(out: string, overwrite: boolean): void {
  mkdirSync(out, { recursive: true });
  const existing = readdirSync(out);
  if (existing.length > 0 && !overwrite)
    throw new ConfigError(
      '--out',
      `${out} is not empty (${existing.length} entries); pass --overwrite to replace`,
    );
}

async function ratingsFileHash(
  dataset: string,
  dataDir: string | undefined,
): Promise<{ sha256: string | null; file: string | null }> {
  const parsed = parseDatasetName(dataset);
  if (parsed.kind === 'synthetic') return { sha256: null, file: null };
  const dir = datasetDir(resolveDataDir(dataDir), parsed.spec.name, parsed.spec.ratingsFile);
  const file = join(dir, parsed.spec.ratingsFile);
  return { sha256: await sha256FileCached(file), file };
}

function range(values: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
