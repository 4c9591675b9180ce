import { userInfo } from 'node:os';
import { gitInfo } from '../util/git';
import type { MlflowClient, MlflowMetric, MlflowTag, RunStatus } from './mlflow-client';

export type RunSource = 'notebook' | 'cli' | 'experiment' | 'test' | 'script';

export interface StartRunOptions {
  experiment: string;
  runName: string;
  source: RunSource;
  /** Free-form source name (notebook path, CLI command line, config file). */
  sourceName?: string;
  tags?: Record<string, string>;
  parentRunId?: string;
  description?: string;
}

/** A live MLflow run: log params, metrics (with steps) and tags, then end it. */
export class RunContext {
  private ended = false;

  constructor(
    readonly client: MlflowClient,
    readonly runId: string,
    readonly experimentId: string,
  ) {}

  async logParams(params: Record<string, string | number | boolean>): Promise<void> {
    await this.client.logBatch(this.runId, {
      params: Object.entries(params).map(([key, v]) => ({ key, value: String(v) })),
    });
  }

  async logMetrics(metrics: Record<string, number>, step = 0): Promise<void> {
    const timestamp = Date.now();
    const list: MlflowMetric[] = Object.entries(metrics).map(([key, value]) => ({
      key,
      value,
      timestamp,
      step,
    }));
    await this.client.logBatch(this.runId, { metrics: list });
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    await this.client.logBatch(this.runId, {
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
  }

  async end(status: RunStatus = 'FINISHED'): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.client.updateRun(this.runId, status);
  }
}

/** Standard tags every reelab run carries: source, user, git commit and dirty flag, parent link, note. */
export function systemTags(options: StartRunOptions): MlflowTag[] {
  const git = gitInfo();
  const tags: Record<string, string> = {
    'mlflow.runName': options.runName,
    'mlflow.source.type':
      options.source === 'notebook' ? 'NOTEBOOK' : options.source === 'experiment' ? 'PROJECT' : 'LOCAL',
    'mlflow.source.name': options.sourceName ?? options.source,
    'mlflow.user': safeUser(),
    'reelab.source': options.source,
    ...options.tags,
  };
  if (git.commit) tags['mlflow.source.git.commit'] = git.commit;
  if (git.dirty !== null) tags['reelab.git.dirty'] = String(git.dirty);
  if (options.parentRunId) tags['mlflow.parentRunId'] = options.parentRunId;
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

export async function startRun(client: MlflowClient, options: StartRunOptions): Promise<RunContext> {
  const experimentId = await client.getOrCreateExperiment(options.experiment);
  const run = await client.createRun({ experimentId, runName: options.runName, tags: systemTags(options) });
  return new RunContext(client, run.info.run_id, experimentId);
}

/** Runs `fn` inside a run that ends FINISHED, or FAILED (with the error as a tag) when `fn` throws. */
export async function withRun<T>(
  client: MlflowClient,
  options: StartRunOptions,
  fn: (run: RunContext) => Promise<T>,
): Promise<T> {
  const run = await startRun(client, options);
  try {
    const result = await fn(run);
    await run.end('FINISHED');
    return result;
  } catch (err) {
    await run
      .setTags({ 'reelab.error': String(err instanceof Error ? err.message : err).slice(0, 5000) })
      .catch(() => {});
    await run.end('FAILED').catch(() => {});
    throw err;
  }
}
