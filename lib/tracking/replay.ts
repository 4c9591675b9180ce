import { ReelabError } from '../util/errors';
import { RunArtifacts } from './artifacts';
import { type KeyValue, type MetricRecord, metricIdentity, normalizeMetricValue } from './limits';
import { isUnavailable, type MlflowClient, type MlflowRun, type MlflowTag } from './mlflow-client';
import { blobPath, CLIENT_RUN_KEY_TAG, type CreateRunOp, type OutboxOp, type RunRef } from './outbox';
import { backoffDelay, sleep } from './retry';

/** A record the server will never accept (e.g. a param already logged with another value). */
export class ReplayError extends ReelabError {
  override readonly name = 'ReplayError';
}

export interface ReplayStats {
  runsCreated: number;
  runsFound: number;
  metricsLogged: number;
  metricsSkipped: number;
  paramsLogged: number;
  paramsSkipped: number;
  tagsLogged: number;
  runsEnded: number;
  artifacts: number;
  /** Dataset inputs sent (the server ignores ones it already has). */
  inputs: number;
}

export function emptyStats(): ReplayStats {
  return {
    runsCreated: 0,
    runsFound: 0,
    metricsLogged: 0,
    metricsSkipped: 0,
    paramsLogged: 0,
    paramsSkipped: 0,
    tagsLogged: 0,
    runsEnded: 0,
    artifacts: 0,
    inputs: 0,
  };
}

export function addStats(into: ReplayStats, from: ReplayStats): void {
  for (const k of Object.keys(into) as Array<keyof ReplayStats>) into[k] += from[k];
}

const KEY_PATTERN = /^[A-Za-z0-9-]{8,64}$/;

/** The run carrying `reelab.client_run_key = key` in the experiment, if any (deleted runs included). */
export async function findRunByKey(
  client: MlflowClient,
  experimentName: string,
  key: string,
): Promise<MlflowRun | null> {
  if (!KEY_PATTERN.test(key)) throw new ReplayError(`malformed client run key "${key}"`);
  const experiment = await client.getExperimentByName(experimentName);
  if (!experiment) return null;
  const page = await client.searchRuns({
    experimentIds: [experiment.experiment_id],
    filter: `tags.\`${CLIENT_RUN_KEY_TAG}\` = '${key}'`,
    viewType: 'ALL',
    maxResults: 10,
  });
  return page.items[0] ?? null;
}

/**
 * Creates a run exactly once even when answers get lost: attempts are not retried blindly; after a failed
 * attempt we first look the run up by its client key, since the server may have created it anyway.
 */
export async function createRunOnce(
  client: MlflowClient,
  args: {
    experiment: string;
    experimentId: string;
    runName: string;
    startTime: number;
    tags: MlflowTag[];
    key: string;
  },
): Promise<MlflowRun> {
  const once = client.withOptions({ retry: { retries: 0 } });
  const tags = [
    ...args.tags.filter((t) => t.key !== CLIENT_RUN_KEY_TAG),
    { key: CLIENT_RUN_KEY_TAG, value: args.key },
  ];
  for (let attempt = 0; ; attempt++) {
    try {
      return await once.createRun({
        experimentId: args.experimentId,
        runName: args.runName,
        startTime: args.startTime,
        tags,
      });
    } catch (err) {
      if (!isUnavailable(err) || attempt >= client.retry.retries) throw err;
    }
    await sleep(backoffDelay(client.retry, attempt));
    try {
      const found = await findRunByKey(once, args.experiment, args.key);
      if (found) return found;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
    }
  }
}

/**
 * Applies outbox operations to a server idempotently: runs are found by id or client key before anything is
 * created, params already present with the same value are skipped (a different value is a ReplayError),
 * metric points already in the run's history (same key, step, timestamp and value) are skipped.
 * Transient failures surface as MlflowUnavailableError so the caller can stop and try again later.
 */
export class Replayer {
  readonly stats = emptyStats();
  private readonly params = new Map<string, Map<string, string>>();
  private readonly seen = new Map<string, Set<string>>();
  private readonly roots = new Map<string, string>();

  constructor(
    readonly client: MlflowClient,
    /** run key → server run id; pass a shared map to remember resolutions across replays. */
    readonly ids: Map<string, string> = new Map(),
  ) {}

  async apply(op: OutboxOp, file: string): Promise<void> {
    switch (op.type) {
      case 'createRun':
        await this.resolve(op.run, op);
        return;
      case 'log':
        await this.applyLog(await this.resolve(op.run), op.params, op.tags, op.metrics);
        return;
      case 'end':
        await this.client.updateRun(await this.resolve(op.run), op.status, op.endTime);
        this.stats.runsEnded++;
        return;
      case 'inputs':
        await this.client.logInputs(await this.resolve(op.run), op.datasets);
        this.stats.inputs += op.datasets.length;
        return;
      case 'artifact': {
        const runId = await this.resolve(op.run);
        let root = this.roots.get(runId);
        if (!root) {
          const run = await this.client.getRun(runId);
          root = run.info.artifact_uri ?? '';
          this.roots.set(runId, root);
        }
        await new RunArtifacts(this.client, root).uploadFile(blobPath(file, op.blob), op.path);
        this.stats.artifacts++;
        return;
      }
    }
  }

  /** The server id of a run: remembered, by recorded id, by client key, or created from its creation record. */
  async resolve(ref: RunRef, create?: CreateRunOp): Promise<string> {
    const known = this.ids.get(ref.key);
    if (known) return known;
    if (ref.id) {
      const run = await this.client.findRun(ref.id);
      if (run && run.info.lifecycle_stage !== 'deleted')
        return this.remember(ref.key, run.info.run_id, 'found');
    }
    const found = await findRunByKey(this.client, ref.experiment, ref.key);
    if (found) return this.remember(ref.key, found.info.run_id, 'found');
    if (!create)
      throw new ReplayError(
        `run ${ref.id ?? ref.key} of experiment "${ref.experiment}" is not on ${this.client.trackingUri} ` +
          'and the outbox holds no record of its creation',
      );
    const tags = create.parent ? create.tags.filter((t) => t.key !== 'mlflow.parentRunId') : [...create.tags];
    if (create.parent) {
      const parentId = await this.resolve(create.parent);
      tags.push({ key: 'mlflow.parentRunId', value: parentId });
    }
    const experimentId = await this.client.getOrCreateExperiment(ref.experiment);
    const run = await createRunOnce(this.client, {
      experiment: ref.experiment,
      experimentId,
      runName: create.runName,
      startTime: create.startTime,
      tags,
      key: ref.key,
    });
    return this.remember(ref.key, run.info.run_id, 'created');
  }

  private remember(key: string, runId: string, how: 'found' | 'created'): string {
    this.ids.set(key, runId);
    if (how === 'created') this.stats.runsCreated++;
    else this.stats.runsFound++;
    return runId;
  }

  private async applyLog(
    runId: string,
    params: KeyValue[],
    tags: KeyValue[],
    metrics: MetricRecord[],
  ): Promise<void> {
    let existing = this.params.get(runId);
    if (!existing && params.length > 0) {
      const run = await this.client.getRun(runId);
      existing = new Map((run.data.params ?? []).map((p) => [p.key, p.value]));
      this.params.set(runId, existing);
    }
    const newParams: KeyValue[] = [];
    const conflicts: string[] = [];
    for (const p of params) {
      const had = existing?.get(p.key);
      if (had === undefined) newParams.push(p);
      else if (had === p.value) this.stats.paramsSkipped++;
      else conflicts.push(`${p.key}: server has "${had}", outbox has "${p.value}"`);
    }
    const newMetrics: MetricRecord[] = [];
    const fresh = new Set<string>();
    for (const m of metrics) {
      const point = { ...m, value: normalizeMetricValue(m.key, m.value) };
      const id = metricIdentity(point);
      if ((await this.history(runId, m.key)).has(id) || fresh.has(id)) {
        this.stats.metricsSkipped++;
        continue;
      }
      fresh.add(id);
      newMetrics.push(point);
    }
    try {
      await this.client.logBatch(runId, { params: newParams, tags, metrics: newMetrics });
    } catch (err) {
      // Part of the batch may have landed: read the server's state again next time instead of guessing.
      this.params.delete(runId);
      for (const m of newMetrics) this.seen.delete(`${runId}\u0000${m.key}`);
      throw err;
    }
    for (const p of newParams) existing?.set(p.key, p.value);
    for (const m of newMetrics) this.seen.get(`${runId}\u0000${m.key}`)?.add(metricIdentity(m));
    this.stats.paramsLogged += newParams.length;
    this.stats.tagsLogged += tags.length;
    this.stats.metricsLogged += newMetrics.length;
    if (conflicts.length > 0)
      throw new ReplayError(`params are immutable in MLflow; not changed: ${conflicts.join('; ')}`);
  }

  private async history(runId: string, key: string): Promise<Set<string>> {
    const id = `${runId}\u0000${key}`;
    let set = this.seen.get(id);
    if (!set) {
      set = new Set((await this.client.getMetricHistory(runId, key)).map(metricIdentity));
      this.seen.set(id, set);
    }
    return set;
  }
}
