import { mkdirSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fitEvaluateRecord } from '../eval/fit-evaluate-record';
import { DEFAULT_RELEVANCE } from '../eval/protocols';
import type { EpochReport } from '../models/recommender';
import { createModel, modelEntry } from '../models/registry';
import { MODEL_ARTIFACT_PATH, type ServingMeta, saveServingModel } from '../serving/artifact';
import { itemCounts, modelView } from '../serving/model-view';
import { MovieTable } from '../serving/movies';
import { datasetInputs } from '../tracking/dataset-input';
import { logModelFolder } from '../tracking/mlmodel';
import { checkRegistration, type Registered, registerRunModel } from '../tracking/registry';
import { startRun } from '../tracking/run';
import { ConfigError } from '../util/errors';
import { fitFigureInput, logRunFigures } from '../viz/run-figures';
import { loadRunData, type RunSettings } from './run-data';

export interface TrainRequest extends RunSettings {
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
  onEpoch?: (report: EpochReport) => void;
  /** Register the logged model as a new version of this MLflow registered model (needs tracking). */
  register?: string;
  /** Point this alias (e.g. "champion") at the new version. */
  alias?: string;
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
  /** The MLflow 3 logged model created for it (null when not tracked or offline). */
  modelId: string | null;
  /** The registry version created with `register` (null otherwise). */
  registered: Registered | null;
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
  // Validate the params before any data is read or the folder is touched (a typo fails at once).
  createModel(request.model, request.params ?? {});
  if (request.register) {
    checkRegistration(request.register, request.alias);
    if (!request.tracking)
      throw new ConfigError('--register', 'needs MLflow tracking (drop --no-track, set MLFLOW_TRACKING_URI)');
  } else if (request.alias) throw new ConfigError('--alias', 'needs --register <name>');
  prepareOutDir(out, request.overwrite === true);
  const data = await loadRunData(request.dataset, request.split ?? null, request);
  const { seed, seeds, split, all } = data;
  const trainPart = split ? split.train : all;
  const inputs = data.side;
  const movies = inputs.movieTable();
  const sha256 = data.ratingsSha256;
  const file = data.ratingsFile;
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
    await run?.logDatasetInputs(
      datasetInputs({
        dataset: request.dataset,
        file,
        sha256,
        seed: seeds.split,
        split: split?.name ?? null,
        parts: split
          ? [
              { context: 'train', data: split.train },
              { context: 'test', data: split.test },
            ]
          : [{ context: 'train', data: all }],
      }),
    );
    const r = await fitEvaluateRecord({
      model: request.model,
      params: request.params,
      modelSeed: seeds.model,
      train: trainPart,
      heldOut: split?.test ?? null,
      heldOutRole: 'test',
      inputs,
      metrics: metricNames,
      protocols: ['full'],
      relevance: DEFAULT_RELEVANCE,
      evaluationSeed: seeds.evaluation,
      threads: request.threads,
      run,
      recordParams: { dataset: request.dataset, split: split?.name ?? 'none', seed },
      onEpoch: (report) => request.onEpoch?.(report),
    });
    const model = r.model;
    const metrics: Record<string, number> = {};
    for (const res of r.results) for (const [name, v] of Object.entries(res.metrics)) metrics[name] = v;
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
      fitSeconds: r.fitSeconds,
      runId: run?.runId ?? null,
      trainedAt: new Date().toISOString(),
    };
    await saveServingModel(out, model, table, meta);
    let artifactPath: string | null = null;
    let modelId: string | null = null;
    let registered: Registered | null = null;
    if (run) {
      const label = `${request.model} ${request.dataset}${split ? ` ${split.name}` : ''}`;
      await logRunFigures(run, fitFigureInput(label, r));
      await run.logJson(
        {
          kind: 'train',
          dataset: request.dataset,
          split: split?.name ?? null,
          model: request.model,
          params: r.params,
          seed,
          seeds,
          metrics: metricNames,
          protocols: ['full'],
          relevance: DEFAULT_RELEVANCE,
          datasetSha256: sha256,
        },
        'config.json',
      );
      modelId = (
        await logModelFolder(run, out, {
          artifactPath: MODEL_ARTIFACT_PATH,
          modelName: request.model,
          params: r.params,
          metadata: { dataset: request.dataset, split: split?.name ?? null, task: entry.task, metrics },
        })
      ).modelId;
      artifactPath = MODEL_ARTIFACT_PATH;
      await run.end('FINISHED');
      if (request.register && run.client)
        registered = await registerRunModel(run.client, run.runId, request.register, {
          alias: request.alias,
          artifactPath,
        });
    }
    return {
      model: request.model,
      dataset: request.dataset,
      split: split?.name ?? null,
      params: r.params,
      out,
      metrics,
      fitSeconds: r.fitSeconds,
      trainRatings: trainPart.size,
      users: view.users.size,
      movies: view.items.size,
      datasetSha256: sha256,
      runId: run?.runId ?? null,
      artifactPath,
      modelId,
      registered,
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
