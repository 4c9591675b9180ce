import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, saveModel } from '../models/persist';
import type { Recommender } from '../models/recommender';
import { RunArtifacts } from '../tracking/artifacts';
import type { MlflowClient } from '../tracking/mlflow-client';
import { downloadRegistryModel, isModelUri } from '../tracking/registry';
import { ConfigError, ReelabError } from '../util/errors';
import { projectRoot } from '../util/project';
import { type ModelView, modelView } from './model-view';
import { MovieTable } from './movies';

/** Where in a run's artifacts `reelab train` puts the model directory. */
export const MODEL_ARTIFACT_PATH = 'model';

/** What `reelab train` records about a saved model (stored as `meta` in model.json). */
export interface ServingMeta {
  dataset: string;
  /** sha256 of the ratings file the model was trained from (null for synthetic data). */
  datasetSha256: string | null;
  ratingsFile: string | null;
  /** Split whose training part was fitted (null: all ratings). */
  split: string | null;
  seed: number;
  task: 'rating' | 'ranking';
  /** Smallest and largest training rating (cold-start input is checked against them). */
  ratingMin: number;
  ratingMax: number;
  trainRatings: number;
  /** Metrics on the split's test part (empty without a split). */
  metrics: Record<string, number>;
  fitSeconds: number;
  /** MLflow run the model was logged to, when tracked. */
  runId: string | null;
  trainedAt: string;
}

/** A model directory loaded for serving. */
export interface LoadedModel {
  dir: string;
  model: Recommender;
  meta: ServingMeta;
  movies: MovieTable;
  view: ModelView;
}

/** Writes the model (saveModel), its serving metadata and the movie table to `dir`. */
export async function saveServingModel(
  dir: string,
  model: Recommender,
  movies: MovieTable,
  meta: ServingMeta,
): Promise<void> {
  await saveModel(model, dir, { ...meta });
  await movies.write(dir);
}

export interface ServingLoadOptions {
  /** MLflow server to fetch run artifacts from when `ref` is a run id. */
  tracking?: MlflowClient | null;
  /** Where downloaded run artifacts are kept (default: REELAB_MODEL_CACHE, else <project>/.cache/models). */
  cacheDir?: string;
}

const RUN_ID = /^[0-9a-f]{32}$/i;

/**
 * Loads a model for serving from a directory written by `reelab train`, or from an MLflow run: `ref` is then the
 * run id (or `runs:/<id>`), and the run's `model/` artifacts are downloaded once into the cache.
 */
export async function loadServingModel(ref: string, options: ServingLoadOptions = {}): Promise<LoadedModel> {
  const dir = await resolveModelDir(ref, options);
  const { model, meta } = await loadModel(dir);
  const movies = MovieTable.read(dir);
  const view = modelView(model);
  if (movies.size !== view.items.size)
    throw new ReelabError(
      `${dir}: movies.json has ${movies.size} movies but the model has ${view.items.size} items`,
    );
  for (let i = 0; i < movies.size; i++) {
    if (movies.movieIds[i] !== view.items.ids[i])
      throw new ReelabError(`${dir}: movies.json does not follow the model's item order (row ${i})`);
  }
  return { dir, model, meta: checkMeta(meta, dir), movies, view };
}

function checkMeta(meta: Record<string, unknown>, dir: string): ServingMeta {
  for (const key of ['dataset', 'ratingMin', 'ratingMax', 'task'] as const) {
    if (meta[key] === undefined)
      throw new ReelabError(`${dir}: model.json has no "${key}" in its meta; save it with \`reelab train\``);
  }
  return meta as unknown as ServingMeta;
}

/** True when loading `ref` needs the tracking server: an MLflow run id, `runs:/…` or a `models:/…` URI. */
export function modelNeedsTracking(ref: string): boolean {
  return isModelUri(ref) || (!existsSync(ref) && /^(runs:\/)?[0-9a-f]{32}/i.test(ref));
}

/**
 * The local folder a `--model` spec names: a folder as is; an MLflow run id / `runs:/<id>`: the run's `model/`
 * artifacts, downloaded once; `models:/NAME/3` or `models:/NAME@alias`: resolved through the Model Registry and
 * the version's files downloaded once (lib/tracking/registry.ts; `.registry.json` in the folder says which).
 */
export async function resolveModelDir(ref: string, options: ServingLoadOptions = {}): Promise<string> {
  if (isModelUri(ref)) {
    if (!options.tracking)
      throw new ConfigError(
        '--model',
        `${ref} is a registry URI, but no tracking server is configured (set MLFLOW_TRACKING_URI)`,
      );
    return (await downloadRegistryModel(options.tracking, ref, { cacheDir: options.cacheDir })).dir;
  }
  if (existsSync(ref)) {
    if (!statSync(ref).isDirectory()) throw new ConfigError('--model', `${ref} is not a folder`);
    return ref;
  }
  const runId = ref.startsWith('runs:/') ? ref.slice('runs:/'.length).split('/')[0]! : ref;
  if (!RUN_ID.test(runId))
    throw new ConfigError('--model', `${ref} is neither a model folder nor an MLflow run id (32 hex digits)`);
  const client = options.tracking;
  if (!client)
    throw new ConfigError(
      '--model',
      `${ref} looks like an MLflow run id, but no tracking server is configured (set MLFLOW_TRACKING_URI)`,
    );
  const cache = join(
    options.cacheDir ?? process.env.REELAB_MODEL_CACHE ?? join(projectRoot(), '.cache', 'models'),
    runId.toLowerCase(),
  );
  if (existsSync(join(cache, '.complete'))) return cache;
  const run = await client.findRun(runId);
  if (!run) throw new ConfigError('--model', `MLflow has no run ${runId}`);
  if (!run.info.artifact_uri) throw new ReelabError(`MLflow run ${runId} has no artifact location`);
  const artifacts = new RunArtifacts(client, run.info.artifact_uri);
  const partial = `${cache}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    await artifacts.downloadDir(partial, MODEL_ARTIFACT_PATH);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    if (err instanceof ConfigError)
      throw new ConfigError('--model', `MLflow run ${runId} has no saved model (${err.message})`);
    throw err;
  }
  writeFileSync(join(partial, '.complete'), `${new Date().toISOString()}\n`);
  rmSync(cache, { recursive: true, force: true });
  renameSync(partial, cache);
  return cache;
}
