/**
 * Opening a search's tracking: the MLflow experiment, the trials already in it (a TrialStore), the search runs
 * of this config left RUNNING by dead processes (ended KILLED), and the parent run with the search's params.
 * Untracked (no client): no store, and the parent run is a no-op context.
 */
import { hostname } from 'node:os';
import type { ExperimentConfig } from '../config/schema';
import type { MlflowClient } from '../tracking/mlflow-client';
import { type RunContext, type RunSource, startRun } from '../tracking/run';
import type { ParamValue } from '../util/params-text';
import type { ConfigSource } from './source';
import { TAG, TrialStore } from './store';

export interface SearchTrackingOptions {
  config: ExperimentConfig;
  source: ConfigSource;
  datasetSha256: string | null;
  runSource?: RunSource;
  sourceName?: string;
  log: (line: string) => void;
}

export interface SearchTracking {
  /** The experiment's trial runs; null when untracked. */
  store: TrialStore | null;
  parent: RunContext;
}

/** Opens the experiment, the store and the parent run (see the module comment). */
export async function openSearchTracking(
  client: MlflowClient | null,
  options: SearchTrackingOptions,
): Promise<SearchTracking> {
  const { config, source, log } = options;
  let store: TrialStore | null = null;
  if (client) {
    await client.checkServer();
    const experimentId = await client.getOrCreateExperiment(config.mlflow.experiment);
    store = await TrialStore.open(client, experimentId);
    const closed = await store.closeStaleParents(source.sha256);
    if (closed > 0) log(`marked ${closed} search run(s) left RUNNING by dead processes as KILLED`);
  }
  const parent = await startRun(client, {
    experiment: config.mlflow.experiment,
    runName: config.name,
    source: options.runSource ?? 'experiment',
    sourceName: options.sourceName ?? source.path ?? config.name,
    dataset: config.dataset,
    datasetSha256: options.datasetSha256 ?? undefined,
    seed: config.seed,
    description: config.description ?? undefined,
    tags: searchTags(config, source),
    params: searchParams(config),
  });
  return { store, parent };
}

export function searchTags(config: ExperimentConfig, source: ConfigSource): Record<string, string> {
  return {
    [TAG.kind]: 'search',
    [TAG.configSha]: source.sha256,
    [TAG.configPath]: source.path ?? '(in memory)',
    [TAG.configName]: config.name,
    [TAG.pid]: String(process.pid),
    [TAG.host]: hostname(),
  };
}

export function searchParams(config: ExperimentConfig): Record<string, ParamValue> {
  return {
    dataset: config.dataset,
    splits: config.splits.join(','),
    validation: config.validation?.join(',') ?? 'none',
    seed: config.seed,
    metrics: config.metrics.join(','),
    protocols: config.protocols.join(',') || 'none',
    relevance: config.relevance === null ? 'all' : config.relevance,
    select: `${config.select.metric} (${config.select.goal})`,
    strategy: config.search.strategy,
    trials_per_model: config.search.trials ?? 'grid',
    early_stopping: config.earlyStopping
      ? `${config.earlyStopping.metric} ${config.earlyStopping.goal} patience ${config.earlyStopping.patience} minDelta ${config.earlyStopping.minDelta}`
      : 'none',
    models: config.models.map((m) => m.label).join(', '),
  };
}
