import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { ConfigError, ReelabError } from '../util/errors';
import {
  checkParamValue,
  checkRecordKey,
  clipTagValue,
  type LogBatch,
  metricFromJson,
  metricToJson,
  normalizeMetricValue,
  splitBatch,
} from './limits';
import {
  backoffDelay,
  DEFAULT_RETRY,
  isTransientFailure,
  parseRetryAfter,
  type RetryPolicy,
  sleep,
} from './retry';

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface MlflowParam {
  key: string;
  value: string;
}
export interface MlflowTag {
  key: string;
  value: string;
}

export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  user_id?: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: string;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowParam[]; tags?: MlflowTag[] };
  inputs?: { dataset_inputs?: MlflowDatasetInput[] };
  outputs?: { model_outputs?: Array<{ model_id: string; step?: number | string }> };
}

/**
 * A dataset as MLflow stores it (`mlflow.entities.Dataset`): `source`, `schema` and `profile` are JSON text.
 * `source_type` "local" with `{"uri": "file:///…"}` is what `mlflow.data.get_source` resolves to a local file.
 */
export interface MlflowDataset {
  name: string;
  /** At most 36 characters (MLflow's limit). */
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

/** One input of a run: a dataset and its input tags (`mlflow.data.context`: "train", "test", …). */
export interface MlflowDatasetInput {
  dataset: MlflowDataset;
  tags?: MlflowTag[];
}

/** An MLflow 3 logged model (the entity behind `models:/<model_id>`). */
export interface MlflowLoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    artifact_uri?: string;
    status?: string;
    model_type?: string;
    source_run_id?: string;
    creation_timestamp_ms?: number | string;
    tags?: MlflowTag[];
  };
  data?: { params?: MlflowParam[]; metrics?: MlflowMetric[] };
}

/** MLflow's limits on dataset fields (mlflow/utils/validation.py). */
export const MLFLOW_DATASET_LIMITS = {
  name: 500,
  digest: 36,
  source: 65_535,
  schema: 1_048_575,
  profile: 16_777_215,
} as const;
const MAX_DATASETS_PER_REQUEST = 1000;

/** Rejects a dataset input MLflow would refuse, naming the field (ConfigError). */
export function checkDatasetInput(input: MlflowDatasetInput): void {
  const d = input.dataset;
  for (const field of ['name', 'digest', 'source_type', 'source'] as const)
    if (typeof d?.[field] !== 'string' || d[field].length === 0)
      throw new ConfigError(`dataset input ${field}`, 'must be a non-empty string');
  for (const field of ['name', 'digest', 'source', 'schema', 'profile'] as const) {
    const v = d[field];
    if (v !== undefined && v.length > MLFLOW_DATASET_LIMITS[field])
      throw new ConfigError(
        `dataset input ${field}`,
        `is ${v.length} characters; MLflow keeps at most ${MLFLOW_DATASET_LIMITS[field]}`,
      );
  }
  for (const t of input.tags ?? []) checkRecordKey('tag', t.key);
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  tags?: MlflowTag[];
  creation_time?: number;
  last_update_time?: number;
}

export interface SearchRunsOptions {
  experimentIds: string[];
  /** MLflow search syntax, e.g. `metrics.rmse < 0.9 and params.model = 'svd'`. */
  filter?: string;
  /** e.g. `['metrics.rmse ASC', 'attributes.start_time DESC']`. */
  orderBy?: string[];
  /** Page size (server maximum 50000). */
  maxResults?: number;
  pageToken?: string;
  viewType?: ViewType;
}

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

export interface ArtifactFileInfo {
  /** Name relative to the listed folder. */
  path: string;
  isDir: boolean;
  fileSize?: number;
}

export interface MlflowClientOptions {
  /** e.g. http://127.0.0.1:5000 */
  trackingUri: string;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  /** Retries on transient failures (connection refused/reset, timeouts, 429, 5xx). */
  retry?: Partial<RetryPolicy>;
  /** Receives one-line warnings (e.g. an untested server version); default: stderr. */
  warn?: (message: string) => void;
  /**
   * Where runs keep their records while the server is unreachable (default: REELAB_OUTBOX_DIR or
   * experiments/outbox); false turns the outbox off, so failures surface as errors instead.
   */
  outboxDir?: string | false;
  /** The server did not answer when we connected: runs start in the outbox without waiting for retries. */
  startOffline?: boolean;
}

/** The MLflow major versions this client speaks to; the 2.0 REST endpoints it uses exist in 2.x as well. */
export const SUPPORTED_MLFLOW_MAJOR = 3;
export const TESTED_MLFLOW_VERSION = '3.17.2';

/**
 * 3.x: supported; 2.x: untested (the 2.0 REST endpoints used here exist there too); anything else,
 * including text that is not a version: unsupported.
 */
export function classifyServerVersion(version: string): 'supported' | 'untested' | 'unsupported' {
  const m = /^(\d+)\.\d+(\.\d+)?([.+-]?[A-Za-z0-9.+-]*)?$/.exec(version.trim());
  if (!m) return 'unsupported';
  const major = Number(m[1]);
  if (major === SUPPORTED_MLFLOW_MAJOR) return 'supported';
  if (major === SUPPORTED_MLFLOW_MAJOR - 1) return 'untested';
  return 'unsupported';
}

export interface ServerInfo {
  version: string;
  major: number;
}

/** Typed calls to the MLflow tracking REST API (2.0 endpoints, as served by MLflow 3.x), with retries. */
export class MlflowClient {
  readonly trackingUri: string;
  readonly retry: RetryPolicy;
  readonly warn: (message: string) => void;
  protected readonly http: AxiosInstance;
  private serverInfo: Promise<ServerInfo> | null = null;

  constructor(readonly options: MlflowClientOptions) {
    this.trackingUri = options.trackingUri.replace(/\/+$/, '');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.warn = options.warn ?? ((m) => process.stderr.write(`${m}\n`));
    this.http = axios.create({
      baseURL: this.trackingUri,
      timeout: options.timeoutMs ?? 30_000,
      maxBodyLength: Number.POSITIVE_INFINITY,
      maxContentLength: Number.POSITIVE_INFINITY,
      // Our own errors carry the server's message; never follow redirects off the server.
      maxRedirects: 0,
    });
  }

  /** A client for the same server with some options changed (e.g. fewer retries). */
  withOptions(changes: Partial<MlflowClientOptions>): MlflowClient {
    return new MlflowClient({
      ...this.options,
      ...changes,
      retry: { ...this.retry, ...changes.retry },
    });
  }

  /**
   * One HTTP exchange with retries: transient failures (no answer, 429, 5xx) are retried with exponential
   * backoff and jitter; 4xx answers fail at once with the server's error code and message.
   */
  protected async request<T>(
    config: AxiosRequestConfig,
    what: string,
    policy: RetryPolicy = this.retry,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.http.request<T>(config);
        return res.data;
      } catch (err) {
        if (!axios.isAxiosError(err)) throw err;
        const status = err.response?.status;
        const transient = isTransientFailure(status, err.code);
        if (transient && attempt < policy.retries) {
          await sleep(backoffDelay(policy, attempt, parseRetryAfter(err.response?.headers?.['retry-after'])));
          continue;
        }
        const data = decodeErrorBody(err.response?.data);
        const detail = data?.message
          ? `${data.error_code ?? ''} ${data.message}`.trim()
          : status !== undefined
            ? `HTTP ${status}`
            : (err.code ?? err.message);
        if (transient)
          throw new MlflowUnavailableError(
            `${what}: MLflow at ${this.trackingUri} is unavailable (${detail}) after ${attempt + 1} attempt(s)`,
            status,
            data?.error_code,
          );
        throw new MlflowApiError(`${what}: ${detail}`, status, data?.error_code);
      }
    }
  }

  protected call<T>(method: 'get' | 'post', path: string, body?: object): Promise<T> {
    return this.api<T>(method, path, body);
  }

  /**
   * One call to a 2.0 REST endpoint under /api/2.0/mlflow (e.g. `/registered-models/get`): GET sends `body` as
   * query parameters, POST, PATCH and DELETE as JSON (what MLflow's handlers read). Used by the typed calls here and in registry.ts.
   */
  api<T>(method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object): Promise<T> {
    const url = `/api/2.0/mlflow${path}`;
    return this.request<T>(
      method === 'get' ? { method, url, params: body } : { method, url, data: body ?? {} },
      `${method.toUpperCase()} ${path}`,
    );
  }

  /** The server's MLflow version (GET /version). */
  async serverVersion(): Promise<string> {
    const text = await this.request<string>(
      { method: 'get', url: '/version', responseType: 'text' },
      'GET /version',
    );
    return String(text).trim();
  }

  /**
   * Checks once per client that the server speaks a supported MLflow version: 3.x passes, 2.x passes with a
   * warning (untested), anything else is an MlflowVersionError.
   */
  checkServer(): Promise<ServerInfo> {
    if (!this.serverInfo) {
      this.serverInfo = this.serverVersion().then((version) => {
        const verdict = classifyServerVersion(version);
        if (verdict === 'unsupported')
          throw new MlflowVersionError(
            `MLflow at ${this.trackingUri} reports version "${version}"; reelab supports MLflow ` +
              `${SUPPORTED_MLFLOW_MAJOR}.x (tested with ${TESTED_MLFLOW_VERSION}). Use the server from .venv ` +
              '(`npm run mlflow`).',
          );
        if (verdict === 'untested')
          this.warn(
            `MLflow at ${this.trackingUri} is ${version}; reelab is tested with ${TESTED_MLFLOW_VERSION} (3.x)`,
          );
        return { version, major: Number.parseInt(version, 10) };
      });
      // A failed check (server down) may be retried later.
      this.serverInfo.catch(() => {
        this.serverInfo = null;
      });
    }
    return this.serverInfo;
  }

  // ---- experiments -------------------------------------------------------------------------------------

  async getExperimentByName(name: string): Promise<MlflowExperiment | null> {
    try {
      const res = await this.call<{ experiment: MlflowExperiment }>('get', '/experiments/get-by-name', {
        experiment_name: name,
      });
      return res.experiment;
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
  }

  async getExperiment(experimentId: string): Promise<MlflowExperiment> {
    const res = await this.call<{ experiment: MlflowExperiment }>('get', '/experiments/get', {
      experiment_id: experimentId,
    });
    return res.experiment;
  }

  async createExperiment(name: string, tags: MlflowTag[] = []): Promise<string> {
    const res = await this.call<{ experiment_id: string }>('post', '/experiments/create', { name, tags });
    return res.experiment_id;
  }

  /** Id of the experiment called `name`, created when missing. */
  async getOrCreateExperiment(name: string): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found) return found.experiment_id;
    try {
      return await this.createExperiment(name);
    } catch (err) {
      // Another process may have created it between our two calls.
      const again = await this.getExperimentByName(name);
      if (again) return again.experiment_id;
      throw err;
    }
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    checkRecordKey('tag', key);
    await this.call('post', '/experiments/set-experiment-tag', { experiment_id: experimentId, key, value });
  }

  async searchExperiments(
    options: {
      filter?: string;
      orderBy?: string[];
      maxResults?: number;
      pageToken?: string;
      viewType?: ViewType;
    } = {},
  ): Promise<Page<MlflowExperiment>> {
    const res = await this.call<{ experiments?: MlflowExperiment[]; next_page_token?: string }>(
      'post',
      '/experiments/search',
      {
        filter: options.filter,
        order_by: options.orderBy,
        max_results: options.maxResults ?? 1000,
        page_token: options.pageToken,
        view_type: options.viewType ?? 'ACTIVE_ONLY',
      },
    );
    return { items: res.experiments ?? [], nextPageToken: res.next_page_token || undefined };
  }

  // ---- runs ----------------------------------------------------------------------------------------------

  async createRun(args: {
    experimentId: string;
    runName?: string;
    startTime?: number;
    tags?: MlflowTag[];
  }): Promise<MlflowRun> {
    const tags = (args.tags ?? []).map((t) => {
      checkRecordKey('tag', t.key);
      return { key: t.key, value: clipTagValue(t.value) };
    });
    const res = await this.call<{ run: MlflowRun }>('post', '/runs/create', {
      experiment_id: args.experimentId,
      run_name: args.runName,
      start_time: args.startTime ?? Date.now(),
      tags,
    });
    return normalizeRun(res.run);
  }

  async updateRun(runId: string, status: RunStatus, endTime?: number): Promise<void> {
    const ending = status !== 'RUNNING' && status !== 'SCHEDULED';
    await this.call('post', '/runs/update', {
      run_id: runId,
      status,
      end_time: ending ? (endTime ?? Date.now()) : undefined,
    });
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const res = await this.call<{ run: MlflowRun }>('get', '/runs/get', { run_id: runId });
    return normalizeRun(res.run);
  }

  /** The run, or null when the server does not know it. */
  async findRun(runId: string): Promise<MlflowRun | null> {
    try {
      return await this.getRun(runId);
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
  }

  async deleteRun(runId: string): Promise<void> {
    await this.call('post', '/runs/delete', { run_id: runId });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.call('post', '/runs/restore', { run_id: runId });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.logBatch(runId, { tags: [{ key, value }] });
  }

  /** One page of runs. */
  async searchRuns(options: SearchRunsOptions): Promise<Page<MlflowRun>> {
    const res = await this.call<{ runs?: MlflowRun[]; next_page_token?: string }>('post', '/runs/search', {
      experiment_ids: options.experimentIds,
      filter: options.filter,
      order_by: options.orderBy,
      max_results: options.maxResults ?? 1000,
      page_token: options.pageToken,
      run_view_type: options.viewType ?? 'ACTIVE_ONLY',
    });
    return { items: (res.runs ?? []).map(normalizeRun), nextPageToken: res.next_page_token || undefined };
  }

  /** Every run matching the search, following page tokens (stops after `limit` runs when given). */
  async searchAllRuns(
    options: Omit<SearchRunsOptions, 'pageToken'> & { limit?: number },
  ): Promise<MlflowRun[]> {
    const out: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.searchRuns({ ...options, pageToken });
      out.push(...page.items);
      pageToken = page.nextPageToken;
    } while (pageToken && (options.limit === undefined || out.length < options.limit));
    return options.limit === undefined ? out : out.slice(0, options.limit);
  }

  /**
   * Logs params, metrics and tags, split into as many log-batch requests as the server's limits need.
   * Param values longer than the server keeps are a ConfigError naming the param (MLflow would silently cut
   * them); tag values are cut to the server's limit; ±Infinity metrics are stored as ±MAX_DOUBLE.
   */
  async logBatch(runId: string, batch: Partial<LogBatch>): Promise<void> {
    const params = (batch.params ?? []).map((p) => {
      checkRecordKey('param', p.key);
      checkParamValue(p.key, p.value);
      return p;
    });
    const tags = (batch.tags ?? []).map((t) => {
      checkRecordKey('tag', t.key);
      return { key: t.key, value: clipTagValue(t.value) };
    });
    const metrics = (batch.metrics ?? []).map((m) => {
      checkRecordKey('metric', m.key);
      return { ...m, value: normalizeMetricValue(m.key, m.value) };
    });
    for (const part of splitBatch({ params, tags, metrics })) {
      await this.call('post', '/runs/log-batch', {
        run_id: runId,
        metrics: part.metrics.map(metricToJson),
        params: part.params,
        tags: part.tags,
      });
    }
  }

  /** Every recorded value of one metric of a run (all pages), in the server's order (step, then time). */
  async getMetricHistory(runId: string, key: string, pageSize = 25_000): Promise<MlflowMetric[]> {
    const out: MlflowMetric[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.call<{
        metrics?: Array<MlflowMetric & { value: number | string }>;
        next_page_token?: string;
      }>('get', '/metrics/get-history', {
        run_id: runId,
        metric_key: key,
        max_results: pageSize,
        page_token: pageToken,
      });
      for (const m of res.metrics ?? [])
        out.push({
          key: m.key,
          value: metricFromJson(m.value),
          timestamp: Number(m.timestamp),
          step: Number(m.step ?? 0),
        });
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  // ---- inputs and logged models (MLflow 3) ----------------------------------------------------------------

  /**
   * Logs dataset inputs of a run (POST runs/log-inputs). The server keeps one dataset per (experiment, name,
   * digest) and one input per (dataset, run), so logging the same inputs again changes nothing.
   */
  async logInputs(runId: string, datasets: MlflowDatasetInput[]): Promise<void> {
    for (const d of datasets) checkDatasetInput(d);
    for (let i = 0; i < datasets.length; i += MAX_DATASETS_PER_REQUEST)
      await this.call('post', '/runs/log-inputs', {
        run_id: runId,
        datasets: datasets.slice(i, i + MAX_DATASETS_PER_REQUEST),
      });
  }

  /** Creates a logged model (POST /logged-models, MLflow 3); it starts PENDING until finalized. */
  async createLoggedModel(args: {
    experimentId: string;
    name: string;
    modelType?: string;
    sourceRunId?: string;
    params?: MlflowParam[];
    tags?: MlflowTag[];
  }): Promise<MlflowLoggedModel> {
    const res = await this.api<{ model: MlflowLoggedModel }>('post', '/logged-models', {
      experiment_id: args.experimentId,
      name: args.name,
      model_type: args.modelType,
      source_run_id: args.sourceRunId,
      params: args.params,
      tags: (args.tags ?? []).map((t) => ({ key: t.key, value: clipTagValue(t.value) })),
    });
    return res.model;
  }

  /** Marks a logged model READY (its artifacts are complete) or UPLOAD_FAILED. */
  async finalizeLoggedModel(
    modelId: string,
    status: 'READY' | 'UPLOAD_FAILED' = 'READY',
  ): Promise<MlflowLoggedModel> {
    const res = await this.api<{ model: MlflowLoggedModel }>(
      'patch',
      `/logged-models/${encodeURIComponent(modelId)}`,
      {
        model_id: modelId,
        status: `LOGGED_MODEL_${status}`,
      },
    );
    return res.model;
  }

  async getLoggedModel(modelId: string): Promise<MlflowLoggedModel> {
    const res = await this.api<{ model: MlflowLoggedModel }>(
      'get',
      `/logged-models/${encodeURIComponent(modelId)}`,
    );
    return res.model;
  }

  /** Records logged models as outputs of a run (POST runs/outputs): the run page lists them. */
  async logOutputs(runId: string, models: Array<{ modelId: string; step?: number }>): Promise<void> {
    await this.call('post', '/runs/outputs', {
      run_id: runId,
      models: models.map((m) => ({ model_id: m.modelId, step: m.step ?? 0 })),
    });
  }

  // ---- artifacts (through the server's proxy) ------------------------------------------------------------

  /** Uploads one local file to `path` under the proxy root (e.g. `<exp>/<run>/artifacts/model/state.bin`). */
  async putArtifactFile(path: string, localFile: string): Promise<void> {
    const size = statSync(localFile).size;
    await this.putArtifact(path, size === 0 ? Buffer.alloc(0) : () => createReadStream(localFile), size);
  }

  /** Uploads bytes to `path` under the proxy root. */
  async putArtifact(path: string, body: Buffer | (() => Readable), size?: number): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (size !== undefined) headers['Content-Length'] = String(size);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.request(
          {
            method: 'put',
            url: artifactUrl(path),
            headers,
            data: typeof body === 'function' ? body() : body,
          },
          `PUT artifact ${path}`,
          { ...this.retry, retries: 0 },
        );
        return;
      } catch (err) {
        if (!(err instanceof MlflowUnavailableError) || attempt >= this.retry.retries) throw err;
        await sleep(backoffDelay(this.retry, attempt));
      }
    }
  }

  /** Downloads the file at `path` under the proxy root into `localFile` (written atomically). */
  async getArtifactToFile(path: string, localFile: string): Promise<void> {
    const tmp = `${localFile}.part-${process.pid}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const stream = await this.request<Readable>(
          { method: 'get', url: artifactUrl(path), responseType: 'stream' },
          `GET artifact ${path}`,
          { ...this.retry, retries: 0 },
        );
        await pipeline(stream, createWriteStream(tmp));
        renameSync(tmp, localFile);
        return;
      } catch (err) {
        rmSync(tmp, { force: true });
        const retryable =
          err instanceof MlflowUnavailableError ||
          (err instanceof Error && 'code' in err && err.code === 'ECONNRESET');
        if (!retryable || attempt >= this.retry.retries) throw err;
        await sleep(backoffDelay(this.retry, attempt));
      }
    }
  }

  /** Downloads the file at `path` under the proxy root into memory. */
  async getArtifact(path: string): Promise<Buffer> {
    const data = await this.request<ArrayBuffer>(
      { method: 'get', url: artifactUrl(path), responseType: 'arraybuffer' },
      `GET artifact ${path}`,
    );
    return Buffer.from(data);
  }

  /** Direct children of the folder `path` under the proxy root (empty when it does not exist). */
  async listArtifactsAt(path: string): Promise<ArtifactFileInfo[]> {
    const res = await this.request<{
      files?: Array<{ path: string; is_dir?: boolean; file_size?: number | string }>;
    }>(
      { method: 'get', url: '/api/2.0/mlflow-artifacts/artifacts', params: { path } },
      `list artifacts ${path}`,
    );
    return (res.files ?? []).map((f) => ({
      path: f.path,
      isDir: f.is_dir === true,
      fileSize: f.file_size === undefined ? undefined : Number(f.file_size),
    }));
  }
}

function artifactUrl(path: string): string {
  return `/api/2.0/mlflow-artifacts/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`;
}

function decodeErrorBody(data: unknown): { error_code?: string; message?: string } | undefined {
  if (data === undefined || data === null) return undefined;
  if (Buffer.isBuffer(data) || data instanceof ArrayBuffer) {
    try {
      return JSON.parse(Buffer.from(data as ArrayBuffer).toString('utf8'));
    } catch {
      return undefined;
    }
  }
  if (typeof data === 'string') {
    try {
      return JSON.parse(data);
    } catch {
      return data ? { message: data.slice(0, 300) } : undefined;
    }
  }
  if (typeof data === 'object') return data as { error_code?: string; message?: string };
  return undefined;
}

/** Metric values arrive as numbers or as "NaN"/"Infinity" strings; int64 fields may arrive as strings. */
function normalizeRun(run: MlflowRun): MlflowRun {
  const metrics = run.data?.metrics?.map((m) => ({
    key: m.key,
    value: metricFromJson(m.value as number | string),
    timestamp: Number(m.timestamp),
    step: Number(m.step ?? 0),
  }));
  const info = { ...run.info };
  if (info.start_time !== undefined) info.start_time = Number(info.start_time);
  if (info.end_time !== undefined) info.end_time = Number(info.end_time);
  return { ...run, info, data: { ...run.data, metrics } };
}

export class MlflowApiError extends ReelabError {
  override readonly name: string = 'MlflowApiError';
  constructor(
    message: string,
    readonly status?: number,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/** The server did not answer (or answered 429/5xx) even after retries: a candidate for the outbox. */
export class MlflowUnavailableError extends MlflowApiError {
  override readonly name = 'MlflowUnavailableError';
}

/** The server runs an MLflow version this client does not support. */
export class MlflowVersionError extends ReelabError {
  override readonly name = 'MlflowVersionError';
}

/** True when `err` means "the server is not reachable right now" (as opposed to a rejected request). */
export function isUnavailable(err: unknown): err is MlflowUnavailableError {
  return err instanceof MlflowUnavailableError;
}
