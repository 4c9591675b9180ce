import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError, errorMessage, ReelabError } from '../util/errors';
import { gitInfo } from '../util/git';
import { checkArtifactPath, listLocalFiles, RunArtifacts } from './artifacts';
import { connectTracking } from './connect';
import { trackOpenRun, untrackOpenRun } from './lifecycle';
import {
  checkParamValue,
  checkRecordKey,
  checkStep,
  checkTimestamp,
  clipTagValue,
  type KeyValue,
  type MetricRecord,
  MLFLOW_LIMITS,
  normalizeMetricValue,
} from './limits';
import { type TrackingLink, trackingLink } from './link';
import {
  checkDatasetInput,
  isUnavailable,
  MlflowClient,
  type MlflowDatasetInput,
  type MlflowRun,
  type MlflowTag,
  type RunStatus,
} from './mlflow-client';
import { CLIENT_RUN_KEY_TAG, defaultOutboxDir, describeError, type NewOp, type RunRef } from './outbox';
import { createRunOnce } from './replay';
import { syncOutbox } from './sync';

export type RunSource = 'notebook' | 'cli' | 'experiment' | 'test' | 'script';

import type { ParamValue } from '../util/params-text';

export type { ParamValue };

export interface StartRunOptions {
  experiment: string;
  runName: string;
  source: RunSource;
  /** Free-form source name (notebook path, CLI command line, config file). */
  sourceName?: string;
  tags?: Record<string, string>;
  /** Logged once at the start (params are immutable in MLflow). */
  params?: Record<string, ParamValue>;
  /** Parent run (nested runs): a live run context, or the id of a run on the server. */
  parent?: RunContext;
  parentRunId?: string;
  /** The run's note/description (Markdown). */
  description?: string;
  dataset?: string;
  datasetSha256?: string;
  seed?: number;
  /** Buffered metrics are sent at least this often (ms; default 2000). */
  flushIntervalMs?: number;
  /** While the server is unreachable, look for it again this often (ms; default 5000). */
  recoverEveryMs?: number;
}

export interface WithRunOptions extends StartRunOptions {
  /** The server to log to; omitted: `connectTracking()`; null: run untracked (every call is a no-op). */
  client?: MlflowClient | null;
}

/** Standard tags every reelab run carries: source, user, git commit and dirty flag, parent link, note, data. */
export function systemTags(options: StartRunOptions): MlflowTag[] {
  const git = gitInfo();
  const tags: Record<string, string> = {
    'mlflow.runName': options.runName,
    'mlflow.source.type':
      options.source === 'notebook' ? 'NOTEBOOK' : options.source === 'experiment' ? 'PROJECT' : 'LOCAL',
    'mlflow.source.name': options.sourceName ?? options.source,
    'mlflow.user': safeUser(),
    'reelab.source': options.source,
  };
  if (git.commit) tags['mlflow.source.git.commit'] = git.commit;
  if (git.dirty !== null) tags['reelab.git.dirty'] = String(git.dirty);
  if (options.dataset) tags['reelab.dataset'] = options.dataset;
  if (options.datasetSha256) tags['reelab.dataset.sha256'] = options.datasetSha256;
  if (options.seed !== undefined) tags['reelab.seed'] = String(options.seed);
  Object.assign(tags, options.tags);
  const parentId = options.parent?.runId ?? options.parentRunId;
  if (parentId) tags['mlflow.parentRunId'] = parentId;
  if (options.description) tags['mlflow.note.content'] = options.description;
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

const DEFAULT_FLUSH_MS = 2000;
const DEFAULT_RECOVER_MS = 5000;

/**
 * A live MLflow run. Metrics are buffered (`logMetric` is synchronous) and sent in batches on a timer, when
 * many are waiting, and at the end; params are logged once (same value again: fine, another value: error);
 * when the server is unreachable everything goes to the outbox and is replayed later. End it with `end()`,
 * or let `withRun` do it.
 */
/** The MLflow UI page of an experiment, or of one of its runs. */
export function mlflowUiUrl(trackingUri: string, experimentId: string, runId?: string): string {
  const experiment = `${trackingUri}/#/experiments/${experimentId}`;
  return runId ? `${experiment}/runs/${runId}` : experiment;
}

export class RunContext {
  readonly runKey = randomUUID();
  readonly depth: number;
  private id: string | null = null;
  private expId: string | null = null;
  private artifactUri: string | null = null;
  private state: 'open' | RunStatus = 'open';
  private metrics: MetricRecord[] = [];
  private params: KeyValue[] = [];
  private tags = new Map<string, string>();
  private readonly loggedParams = new Map<string, string>();
  private readonly metricKeys = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private timer: NodeJS.Timeout | null = null;
  private ending: Promise<void> | null = null;
  private sizeFlushQueued = false;
  /** @internal set by startRun: the background replay of older outbox files, awaited at the end. */
  autoSync: Promise<unknown> | null = null;

  constructor(
    readonly client: MlflowClient | null,
    readonly options: StartRunOptions,
    private readonly link: TrackingLink | null,
  ) {
    this.depth = options.parent ? options.parent.depth + 1 : 0;
  }

  get experiment(): string {
    return this.options.experiment;
  }
  get runName(): string {
    return this.options.runName;
  }
  /** The server's run id; null for untracked runs and for runs created in the outbox until replayed. */
  get runId(): string | null {
    if (!this.id) this.id = this.link?.writer.resolved.get(this.runKey) ?? null;
    return this.id;
  }
  get experimentId(): string | null {
    return this.expId;
  }
  /** The run's page in the MLflow UI; null while the server has no id for it. */
  get uiUrl(): string | null {
    const id = this.runId;
    return this.client && id && this.expId ? mlflowUiUrl(this.client.trackingUri, this.expId, id) : null;
  }
  get isOpen(): boolean {
    return this.state === 'open';
  }
  /** RUNNING while open, then how it ended. */
  get status(): RunStatus {
    return this.state === 'open' ? 'RUNNING' : this.state;
  }
  /** True while this run's records go to the outbox. */
  get offline(): boolean {
    return this.link?.offline === true || (this.client !== null && this.runId === null);
  }

  /** @internal */
  ref(): RunRef {
    return { key: this.runKey, id: this.runId, experiment: this.experiment };
  }

  /** @internal */
  attach(run: MlflowRun): void {
    this.id = run.info.run_id;
    this.expId = run.info.experiment_id;
    this.artifactUri = run.info.artifact_uri ?? null;
  }

  /** @internal */
  begin(): void {
    if (!this.client) return;
    trackOpenRun(this);
    this.timer = setInterval(() => {
      void this.enqueueFlush();
    }, this.options.flushIntervalMs ?? DEFAULT_FLUSH_MS);
    this.timer.unref();
  }

  // ---- logging ---------------------------------------------------------------------------------------------

  /** Buffers one metric point (sent within the flush interval). Infinity is stored as ±MAX_DOUBLE by MLflow. */
  logMetric(key: string, value: number, step = 0, timestamp = Date.now()): void {
    this.assertOpen();
    if (!this.metricKeys.has(key)) {
      checkRecordKey('metric', key);
      this.metricKeys.add(key);
    }
    checkStep(key, step);
    checkTimestamp(key, timestamp);
    if (!this.client) return;
    this.metrics.push({ key, value: normalizeMetricValue(key, value), timestamp, step });
    if (this.metrics.length >= MLFLOW_LIMITS.metricsPerBatch && !this.sizeFlushQueued) {
      this.sizeFlushQueued = true;
      void this.enqueueFlush();
    }
  }

  /** Buffers several metrics at one step (one timestamp). Resolves at once; `flush()` waits for the server. */
  logMetrics(metrics: Record<string, number>, step = 0): Promise<void> {
    const timestamp = Date.now();
    for (const [key, value] of Object.entries(metrics)) this.logMetric(key, value, step, timestamp);
    return Promise.resolve();
  }

  /**
   * Logs params (stringified). Re-logging a param with the same value is a no-op; another value is a
   * ConfigError (MLflow params are immutable), as is a value longer than MLflow keeps.
   */
  async logParams(params: Record<string, ParamValue>): Promise<void> {
    this.assertOpen();
    const fresh: KeyValue[] = [];
    for (const [key, raw] of Object.entries(params)) {
      const value = String(raw);
      checkRecordKey('param', key);
      checkParamValue(key, value);
      const had = this.loggedParams.get(key) ?? fresh.find((p) => p.key === key)?.value;
      if (had === value) continue;
      if (had !== undefined)
        throw new ConfigError(
          `param "${key}"`,
          `already logged as "${had}", cannot change it to "${value}": MLflow params are immutable ` +
            '(log changing values as metrics or tags, or start a new run)',
        );
      fresh.push({ key, value });
    }
    for (const p of fresh) this.loggedParams.set(p.key, p.value);
    this.params.push(...fresh);
    await this.flush();
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    this.assertOpen();
    for (const key of Object.keys(tags)) checkRecordKey('tag', key);
    for (const [key, value] of Object.entries(tags)) {
      this.tags.delete(key);
      this.tags.set(key, clipTagValue(String(value)));
    }
    await this.flush();
  }

  setTag(key: string, value: string): Promise<void> {
    return this.setTags({ [key]: value });
  }

  /**
   * Logs dataset inputs (MLflow `runs/log-inputs`): what the run trained on and was evaluated on, with an
   * `mlflow.data.context` tag each (see `datasetInputs` in dataset-input.ts). Kept in the outbox while the
   * server is away and replayed in order; sending an input the server already has changes nothing.
   */
  async logDatasetInputs(inputs: MlflowDatasetInput[]): Promise<void> {
    this.assertOpen();
    for (const input of inputs) checkDatasetInput(input);
    if (!this.client || inputs.length === 0) return;
    // Buffered records first, so the outbox keeps the order in which things were logged.
    await this.flush();
    const runId = this.runId;
    if (this.link && (this.link.offline || runId === null)) {
      this.record({ type: 'inputs', run: this.ref(), datasets: inputs });
      this.maybeRecover();
      return;
    }
    if (runId === null) return;
    try {
      await this.client.logInputs(runId, inputs);
    } catch (err) {
      if (!(isUnavailable(err) && this.link)) throw err;
      this.link.goOffline(err);
      this.record({ type: 'inputs', run: this.ref(), datasets: inputs });
    }
  }

  /** One dataset input (see `logDatasetInputs`). */
  logDatasetInput(input: MlflowDatasetInput): Promise<void> {
    return this.logDatasetInputs([input]);
  }

  /** Writes `value` as pretty JSON to the artifact `path` (e.g. the resolved request as `config.json`). */
  logJson(value: unknown, path: string): Promise<void> {
    return this.logText(`${JSON.stringify(value, null, 2)}\n`, path);
  }

  /** Sends everything buffered (or writes it to the outbox); rejects with any error a background flush met. */
  async flush(): Promise<void> {
    await this.enqueueFlush();
    this.throwFailure();
  }

  private enqueueFlush(): Promise<void> {
    this.chain = this.chain
      .then(() => this.flushNow())
      .catch((err) => {
        this.failure ??= err;
      });
    return this.chain;
  }

  private takeBuffer(): { metrics: MetricRecord[]; params: KeyValue[]; tags: KeyValue[] } {
    const batch = {
      metrics: this.metrics,
      params: this.params,
      tags: [...this.tags].map(([key, value]) => ({ key, value })),
    };
    this.metrics = [];
    this.params = [];
    this.tags = new Map();
    this.sizeFlushQueued = false;
    return batch;
  }

  private async flushNow(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const batch = this.takeBuffer();
    const empty = batch.metrics.length + batch.params.length + batch.tags.length === 0;
    const runId = this.runId;
    if (this.link && (this.link.offline || runId === null)) {
      if (!empty) this.record({ type: 'log', run: this.ref(), ...batch });
      this.maybeRecover();
      return;
    }
    if (empty || runId === null) return;
    try {
      await client.logBatch(runId, batch);
    } catch (err) {
      if (!(isUnavailable(err) && this.link)) throw err;
      this.link.goOffline(err);
      this.record({ type: 'log', run: this.ref(), ...batch });
    }
  }

  private record(op: NewOp): void {
    this.link!.writer.append(op);
  }

  private maybeRecover(): void {
    const link = this.link;
    if (!link || !this.client || !this.isOpen) return;
    if (link.sinceLastAttempt() < (this.options.recoverEveryMs ?? DEFAULT_RECOVER_MS)) return;
    void link.recover(this.client).catch(() => {});
  }

  // ---- artifacts -------------------------------------------------------------------------------------------

  /** The run's artifacts on the server (null for untracked runs and runs still in the outbox). */
  async artifacts(): Promise<RunArtifacts | null> {
    if (!this.client || !this.runId) return null;
    if (!this.artifactUri) {
      const run = await this.client.getRun(this.runId);
      this.artifactUri = run.info.artifact_uri ?? null;
      this.expId = run.info.experiment_id;
    }
    return this.artifactUri ? new RunArtifacts(this.client, this.artifactUri) : null;
  }

  /** Uploads a file to `path` (default: its name) in the run's artifacts; kept in the outbox when offline. */
  async logArtifact(localFile: string, path?: string): Promise<void> {
    this.assertOpen();
    const dest = checkArtifactPath(path ?? localFile.split(/[\\/]/).pop() ?? '');
    await this.upload({ file: localFile }, dest);
  }

  /** Uploads every file under `localDir` below `path` (default: the artifact root). */
  async logArtifacts(localDir: string, path?: string): Promise<void> {
    this.assertOpen();
    const prefix = path ? `${checkArtifactPath(path)}/` : '';
    for (const rel of listLocalFiles(localDir))
      await this.upload({ file: join(localDir, ...rel.split('/')) }, `${prefix}${rel}`);
  }

  /** Writes text (e.g. a report, a figure's HTML, a CSV table) as the artifact `path`. */
  async logText(text: string, path: string): Promise<void> {
    this.assertOpen();
    await this.upload({ bytes: Buffer.from(text, 'utf8') }, checkArtifactPath(path));
  }

  private async upload(source: { file: string } | { bytes: Buffer }, path: string): Promise<void> {
    if (!this.client) return;
    if (!this.offline) {
      try {
        const store = await this.artifacts();
        if (store) {
          if ('file' in source) await store.uploadFile(source.file, path);
          else await store.uploadBytes(source.bytes, path);
          return;
        }
      } catch (err) {
        if (!(isUnavailable(err) && this.link)) throw err;
        this.link.goOffline(err);
      }
    }
    if (!this.link) return;
    const blob = this.link.writer.storeBlob(source);
    this.record({ type: 'artifact', run: this.ref(), path, blob: blob.sha, size: blob.size });
  }

  // ---- nesting ---------------------------------------------------------------------------------------------

  /** Starts a nested run (its `mlflow.parentRunId` is this run); end it yourself or use `child`. */
  startChild(runName: string, options: Partial<StartRunOptions> = {}): Promise<RunContext> {
    this.assertOpen();
    return startRun(this.client, {
      experiment: this.experiment,
      source: this.options.source,
      sourceName: this.options.sourceName,
      flushIntervalMs: this.options.flushIntervalMs,
      recoverEveryMs: this.options.recoverEveryMs,
      ...options,
      runName,
      parent: this,
    });
  }

  /** Runs `fn` in a nested run that ends FINISHED, or FAILED when `fn` throws. */
  async child<T>(
    runName: string,
    fn: (run: RunContext) => Promise<T>,
    options: Partial<StartRunOptions> = {},
  ): Promise<T> {
    return runBody(await this.startChild(runName, options), fn);
  }

  // ---- ending ------------------------------------------------------------------------------------------------

  /**
   * Ends the run: flushes, then sets the status and end time (in the outbox when the server is away). FAILED
   * with `error` records the error in the `reelab.error` tag and the run's note. Rejects afterwards if a
   * background flush had failed.
   */
  end(
    status: RunStatus = 'FINISHED',
    options: { error?: unknown; reason?: string; fast?: boolean } = {},
  ): Promise<void> {
    if (!this.ending) this.ending = this.finish(status, options);
    return this.ending.then(() => this.throwFailure());
  }

  private async finish(
    status: RunStatus,
    options: { error?: unknown; reason?: string; fast?: boolean },
  ): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const client = this.client;
    if (!client) {
      this.state = status;
      return;
    }
    try {
      const endTags = this.endTags(status, options);
      for (const [key, value] of Object.entries(endTags)) {
        this.tags.delete(key);
        this.tags.set(key, clipTagValue(value));
      }
      await this.enqueueFlush();
      const endTime = Date.now();
      const runId = this.runId;
      const link = this.link;
      if (link && (link.offline || runId === null)) {
        this.record({ type: 'end', run: this.ref(), status, endTime });
        if (!options.fast) await link.recover(client, { fresh: true }).catch(() => false);
      } else if (runId !== null) {
        try {
          await (options.fast ? client.withOptions({ retry: { retries: 1 } }) : client).updateRun(
            runId,
            status,
            endTime,
          );
        } catch (err) {
          if (!(isUnavailable(err) && link)) throw err;
          link.goOffline(err);
          this.record({ type: 'end', run: this.ref(), status, endTime });
        }
      }
      this.state = status;
      if (this.autoSync) await this.autoSync.catch(() => {});
      if (this.link?.offline)
        client.warn(
          `run "${this.runName}" ended ${status}; its records wait in the outbox (${this.link.writer.path}). ` +
            'They are replayed by the next run or `reelab mlflow sync` once MLflow answers.',
        );
    } catch (err) {
      this.state = status;
      this.failure ??= err;
    } finally {
      untrackOpenRun(this);
    }
  }

  private endTags(status: RunStatus, options: { error?: unknown; reason?: string }): Record<string, string> {
    const tags: Record<string, string> = {};
    if (options.reason) tags['reelab.end_reason'] = options.reason;
    if (status === 'FAILED' && options.error !== undefined) {
      const err = options.error;
      const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      tags['reelab.error'] = err instanceof Error ? err.message : String(err);
      const note = this.options.description ? `${this.options.description}\n\n` : '';
      const stack = err instanceof Error && err.stack ? `\n\n\`\`\`\n${err.stack}\n\`\`\`` : '';
      tags['mlflow.note.content'] = `${note}**FAILED**: ${text}${stack}`;
    }
    return tags;
  }

  /** @internal used by the signal handler */
  async kill(signal: NodeJS.Signals): Promise<void> {
    await this.end('KILLED', { reason: `received ${signal}`, fast: true }).catch(() => {});
  }

  /** @internal used when the process exits with the run open: synchronous, to the outbox. */
  saveOnExit(status: RunStatus, reason: string): void {
    if (!this.link || !this.isOpen) return;
    const batch = this.takeBuffer();
    batch.tags.push({ key: 'reelab.end_reason', value: reason });
    this.record({ type: 'log', run: this.ref(), ...batch });
    this.record({ type: 'end', run: this.ref(), status, endTime: Date.now() });
    this.state = status;
  }

  private assertOpen(): void {
    if (this.state !== 'open' || this.ending)
      throw new ReelabError(`run "${this.runName}" has already ended; start a new run to log more`);
  }

  private throwFailure(): void {
    if (this.failure !== null) {
      const err = this.failure;
      this.failure = null;
      throw err;
    }
  }
}

const autoSynced = new Set<string>();

/**
 * Starts a run: the experiment is created when missing; with the server away, the run starts in the outbox
 * (it gets a client key tag so replay creates it exactly once). The first run of a process also replays
 * older outbox files recorded for the same server, in the background.
 */
export async function startRun(client: MlflowClient | null, options: StartRunOptions): Promise<RunContext> {
  if (!options.experiment) throw new ConfigError('experiment', 'must not be empty');
  if (!options.runName) throw new ConfigError('runName', 'must not be empty');
  const dir =
    client && client.options.outboxDir !== false ? (client.options.outboxDir ?? defaultOutboxDir()) : null;
  const link = client && dir ? trackingLink(dir, client) : null;
  const run = new RunContext(client, options, link);
  if (!client) return run;

  if (link && !autoSynced.has(`${dir}\u0000${client.trackingUri}`)) {
    autoSynced.add(`${dir}\u0000${client.trackingUri}`);
    run.autoSync = syncOutbox({ dir: dir!, onlyTrackingUri: client.trackingUri, warn: client.warn })
      .then((res) => {
        const s = res.stats;
        if (s.runsCreated + s.metricsLogged + s.paramsLogged + s.tagsLogged + s.runsEnded + s.artifacts > 0)
          client.warn(
            `replayed the outbox: ${s.runsCreated} run(s) created, ${s.metricsLogged} metric point(s), ` +
              `${s.paramsLogged} param(s), ${s.runsEnded} run end(s)`,
          );
      })
      .catch((err) => client.warn(`could not replay the outbox: ${describeError(err)}`));
  }

  const tags = [...systemTags(options), { key: CLIENT_RUN_KEY_TAG, value: run.runKey }];
  const startTime = Date.now();
  const parentOffline = options.parent !== undefined && options.parent.runId === null;
  let online = !(link?.offline || parentOffline);
  if (online) {
    try {
      await client.checkServer();
      const experimentId = await client.getOrCreateExperiment(options.experiment);
      run.attach(
        await createRunOnce(client, {
          experiment: options.experiment,
          experimentId,
          runName: options.runName,
          startTime,
          tags,
          key: run.runKey,
        }),
      );
    } catch (err) {
      if (!(isUnavailable(err) && link)) throw err;
      link.goOffline(err);
      online = false;
    }
  }
  if (!online) {
    link!.writer.append({
      type: 'createRun',
      run: run.ref(),
      runName: options.runName,
      startTime,
      tags,
      parent: options.parent ? options.parent.ref() : null,
    });
  }
  run.begin();
  if (options.params) {
    try {
      await run.logParams(options.params);
    } catch (err) {
      await run.end('FAILED', { error: err }).catch(() => {});
      throw err;
    }
  }
  return run;
}

async function runBody<T>(run: RunContext, fn: (run: RunContext) => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(run);
  } catch (err) {
    if (run.isOpen) {
      await run.end('FAILED', { error: err }).catch((endErr) => {
        run.client?.warn(`could not end run "${run.runName}" as FAILED: ${errorMessage(endErr)}`);
      });
    }
    throw err;
  }
  await run.end('FINISHED');
  return result;
}

/**
 * Runs `fn` inside a run that ends FINISHED, FAILED (error in the `reelab.error` tag and the note) when `fn`
 * throws, or KILLED on SIGINT/SIGTERM. Two forms: `withRun(options, fn)` (client from `options.client`, else
 * `connectTracking()`) and `withRun(client, options, fn)`.
 */
export function withRun<T>(options: WithRunOptions, fn: (run: RunContext) => Promise<T>): Promise<T>;
export function withRun<T>(
  client: MlflowClient | null,
  options: StartRunOptions,
  fn: (run: RunContext) => Promise<T>,
): Promise<T>;
export async function withRun<T>(
  a: MlflowClient | null | WithRunOptions,
  b: StartRunOptions | ((run: RunContext) => Promise<T>),
  c?: (run: RunContext) => Promise<T>,
): Promise<T> {
  let client: MlflowClient | null;
  let options: StartRunOptions;
  let fn: (run: RunContext) => Promise<T>;
  if (isClientArgument(a)) {
    client = a;
    options = b as StartRunOptions;
    fn = c!;
  } else {
    options = a;
    fn = b as (run: RunContext) => Promise<T>;
    if (a.client !== undefined) client = a.client;
    else client = await connectTracking({ warn: (m) => process.stderr.write(`${m}\n`) });
  }
  return runBody(await startRun(client, options), fn);
}

// A type guard (not an inline check) so the narrowing also holds where strictNullChecks is off (tslab).
function isClientArgument(a: MlflowClient | null | WithRunOptions): a is MlflowClient | null {
  return a === null || a instanceof MlflowClient;
}
