import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { errorMessage, ReelabError } from '../util/errors';
import { projectRoot } from '../util/project';
import { RunArtifacts } from './artifacts';
import { isUnavailable, type MlflowLoggedModel } from './mlflow-client';
import type { RunContext } from './run';

/** The file that makes a folder an MLflow model (read by `mlflow.models.Model.load` and the UI). */
export const MLMODEL_FILE = 'MLmodel';
/** The flavor reelab writes; MLflow lists it in the model's `flavors`. */
export const REELAB_FLAVOR = 'reelab';

/**
 * What a reelab model takes and returns, in MLflow's signature form (JSON text of column specs): a user id and
 * a list length in, ranked movie ids with scores out.
 */
export const REELAB_SIGNATURE = {
  inputs: JSON.stringify([
    { type: 'long', name: 'user', required: true },
    { type: 'long', name: 'k', required: true },
  ]),
  outputs: JSON.stringify([
    { type: 'long', name: 'movieId', required: true },
    { type: 'double', name: 'score', required: true },
  ]),
  params: null,
};

export interface MlmodelOptions {
  /** Where the folder sits in the run's artifacts (e.g. "model"). */
  artifactPath: string;
  runId: string | null;
  /** Extra `metadata` (dataset, task, metrics…). */
  metadata?: Record<string, unknown>;
}

/** The reelab version (package.json). */
export function reelabVersion(): string {
  try {
    return String(JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/**
 * Writes `<dir>/MLmodel` for a model folder saved by `saveServingModel`: the `reelab` flavor names the model
 * (its registry name), the folder format, the reelab version and how to load it; `signature` describes inputs
 * and outputs the way MLflow does, so `mlflow.models.get_model_info` and the UI can show them. Returns the
 * document written.
 */
export function writeMlmodel(dir: string, options: MlmodelOptions): Record<string, unknown> {
  const manifestFile = join(dir, 'model.json');
  if (!existsSync(manifestFile))
    throw new ReelabError(`${dir}: no model.json; write the model with saveServingModel before its MLmodel`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { name: string; format: string };
  const doc: Record<string, unknown> = {
    artifact_path: options.artifactPath,
    flavors: {
      [REELAB_FLAVOR]: {
        model: manifest.name,
        format: manifest.format,
        reelab_version: reelabVersion(),
        loader: 'reelab serve --model <dir>',
        data: 'model.json',
      },
    },
    model_uuid: randomUUID().replace(/-/g, ''),
    utc_time_created: utcTimeCreated(new Date()),
    signature: REELAB_SIGNATURE,
  };
  if (options.runId) doc.run_id = options.runId;
  if (options.metadata && Object.keys(options.metadata).length > 0) doc.metadata = options.metadata;
  writeFileSync(join(dir, MLMODEL_FILE), stringify(doc, { lineWidth: 0 }));
  return doc;
}

/** MLflow's `utc_time_created` form: `str(datetime)` of naive UTC, e.g. "2026-12-04 03:20:01.123000". */
function utcTimeCreated(date: Date): string {
  const iso = date.toISOString(); // 2026-12-04T03:20:01.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

export interface LoggedModelResult {
  /** Artifact path of the folder in the run. */
  artifactPath: string;
  /** The MLflow 3 logged model (null: the server was unreachable, or has no logged-models endpoint). */
  modelId: string | null;
}

/** MLflow's tag for logged models whose files are stored elsewhere (`mlflow.create_external_model`). */
export const MODEL_IS_EXTERNAL_TAG = 'mlflow.model.isExternal';

/**
 * Logs a saved model folder as an MLflow model of `run`:
 * 1. writes the MLmodel file into the folder (run id, artifact path, `reelab` flavor, signature) and uploads
 *    the folder as the run's `artifactPath` artifacts — so `runs:/<run>/model`,
 *    `mlflow.artifacts.download_artifacts(run_id=…, artifact_path="model")` and registry versions (whose source
 *    is that folder) bring back a directory `reelab serve --model` loads; offline, the outbox keeps it;
 * 2. online, also creates the MLflow 3 logged model (named after the reelab model, linked to the run, with
 *    the model's params), the way `mlflow.create_external_model` does for models whose files live elsewhere:
 *    tagged `mlflow.model.isExternal`, holding only the MLmodel file, pointing at the run's folder
 *    (`reelab.artifact_uri`); it is finalized READY and recorded as an output of the run.
 */
export async function logModelFolder(
  run: RunContext,
  dir: string,
  options: {
    artifactPath: string;
    modelName: string;
    params?: Record<string, unknown>;
    tags?: Record<string, string>;
    metadata?: Record<string, unknown>;
  },
): Promise<LoggedModelResult> {
  const runId = run.runId;
  const doc = writeMlmodel(dir, { artifactPath: options.artifactPath, runId, metadata: options.metadata });
  await run.logArtifacts(dir, options.artifactPath);
  const client = run.client;
  if (!client || !runId || run.offline) return { artifactPath: options.artifactPath, modelId: null };
  let logged: MlflowLoggedModel;
  try {
    const experimentId = run.experimentId ?? (await client.getRun(runId)).info.experiment_id;
    logged = await client.createLoggedModel({
      experimentId,
      name: options.modelName,
      modelType: `reelab:${options.modelName}`,
      sourceRunId: runId,
      params: Object.entries(options.params ?? {}).map(([key, value]) => ({ key, value: String(value) })),
      tags: Object.entries({
        [MODEL_IS_EXTERNAL_TAG]: 'true',
        'reelab.model': options.modelName,
        'reelab.artifact_uri': `runs:/${runId}/${options.artifactPath}`,
        ...options.tags,
      }).map(([key, value]) => ({ key, value })),
    });
  } catch (err) {
    // A server without logged models (MLflow 2.x answers 404) or one that went away meanwhile: the run's
    // artifacts still hold the model, which is what everything else reads.
    if (!isUnavailable(err)) client.warn(`could not create an MLflow logged model: ${errorMessage(err)}`);
    return { artifactPath: options.artifactPath, modelId: null };
  }
  const modelId = logged.info.model_id;
  try {
    if (logged.info.artifact_uri)
      await new RunArtifacts(client, logged.info.artifact_uri).uploadBytes(
        stringify({ ...doc, artifact_path: logged.info.artifact_uri, model_id: modelId }, { lineWidth: 0 }),
        MLMODEL_FILE,
      );
    await client.finalizeLoggedModel(modelId, 'READY');
    await client.logOutputs(runId, [{ modelId }]);
  } catch (err) {
    client.warn(`could not finish MLflow logged model ${modelId}: ${errorMessage(err)}`);
    await client.finalizeLoggedModel(modelId, 'UPLOAD_FAILED').catch(() => {});
  }
  return { artifactPath: options.artifactPath, modelId };
}
