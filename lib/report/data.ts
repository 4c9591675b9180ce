/**
 * Everything a report shows, as plain data, from one of two sources:
 * - `loadReportData(client, parentRunId)`: MLflow alone — the parent run's tags and artifacts (config.yaml,
 *   trials.json), each trial run's params, metrics and metric histories, and the per-user values artifacts.
 *   Nothing is recomputed; the same MLflow content always gives the same data.
 * - `reportDataFromSearch(result)`: a search that was not tracked (every trial ran in this process).
 * Tracked searches always go through MLflow, so `reelab experiment` and `reelab report --run` agree exactly.
 */
import { parseExperimentYaml } from '../config/load';
import type { ExperimentConfig } from '../config/schema';
import { bestConfig, configScores, selectKey } from '../search/plan';
import { type SearchResult, type TrialRecord, type TrialsFile, trialRecord } from '../search/runner';
import { TAG } from '../search/store';
import type { PerUserValues } from '../search/trial';
import { RunArtifacts } from '../tracking/artifacts';
import { MlflowApiError, type MlflowClient, type MlflowRun } from '../tracking/mlflow-client';
import { ConfigError } from '../util/errors';
import { gitInfo } from '../util/git';

export interface ReportTrial extends TrialRecord {
  error: string | null;
  metrics: Record<string, number>;
}

export interface Series {
  steps: number[];
  values: number[];
}

export interface ReportData {
  config: ExperimentConfig;
  configPath: string | null;
  configSha256: string;
  datasetSha256: string | null;
  gitCommit: string | null;
  gitDirty: boolean | null;
  /** Commits the trial runs were computed at (reused trials may come from older code), sorted. */
  trialCommits: string[];
  experiment: string;
  parentRunId: string | null;
  trials: ReportTrial[];
  /** Per-epoch metric series of the trials the report plots, by trial index, then metric key. */
  curves: Record<string, Record<string, Series>>;
  /** Per-user values of the leaderboard trials, by trial index, then metric key. */
  perUser: Record<string, Record<string, PerUserValues>>;
}

/** Default per-epoch metrics drawn as learning curves. */
export const DEFAULT_CURVES = ['train_rmse', 'validation_rmse', 'test_rmse', 'loss'];

/** Index of the selection metric's key and the trials each entry is ranked by on the leaderboard. */
export function leaderboardTrials(
  config: ExperimentConfig,
  trials: readonly ReportTrial[],
  selectKey: string,
): Array<{ entry: number; config: number | null; trials: ReportTrial[] }> {
  return config.models.map((_, e) => {
    const best = bestConfig(configScores(trials, e, selectKey), config.select.goal);
    const chosen =
      config.validation !== null
        ? trials.filter((t) => t.entry === e && t.role === 'final' && t.status !== 'failed')
        : trials.filter(
            (t) => t.entry === e && t.role === 'search' && t.config === best && t.status !== 'failed',
          );
    return { entry: e, config: best, trials: chosen };
  });
}

/** Trials whose learning curves the report draws: leaderboard trials, and every configuration on the first fold. */
export function curveTrials(
  config: ExperimentConfig,
  trials: readonly ReportTrial[],
  selectKey: string,
): ReportTrial[] {
  const out = new Set<ReportTrial>();
  for (const lb of leaderboardTrials(config, trials, selectKey)) for (const t of lb.trials) out.add(t);
  const firstSplit = config.splits[0];
  const firstValidation = config.validation?.[0] ?? null;
  for (const t of trials)
    if (
      t.role === 'search' &&
      t.split === firstSplit &&
      t.validation === firstValidation &&
      t.status !== 'failed'
    )
      out.add(t);
  return [...out].sort((a, b) => a.index - b.index);
}

function curveKeys(config: ExperimentConfig): string[] {
  return config.report.curves ?? DEFAULT_CURVES;
}

/** Report data of a search that ran untracked (see the module comment). */
export function reportDataFromSearch(result: SearchResult): ReportData {
  const trials: ReportTrial[] = result.trials.map((t) => ({
    ...trialRecord(t),
    error: t.error,
    metrics: { ...t.metrics, ...(t.bestEpoch !== null ? { best_epoch: t.bestEpoch } : {}) },
  }));
  const curves: ReportData['curves'] = {};
  const perUser: ReportData['perUser'] = {};
  const keys = curveKeys(result.config);
  for (const t of curveTrials(result.config, trials, result.selectKey)) {
    const outcome = result.trials[t.index]!.outcome;
    if (!outcome) continue;
    const series: Record<string, Series> = {};
    for (const key of keys) {
      const points = outcome.epochs.filter((e) => e.values[key] !== undefined);
      if (points.length > 0)
        series[key] = { steps: points.map((e) => e.epoch), values: points.map((e) => e.values[key]!) };
    }
    curves[String(t.index)] = series;
  }
  for (const lb of leaderboardTrials(result.config, trials, result.selectKey))
    for (const t of lb.trials) {
      const pu = result.trials[t.index]!.outcome?.perUser;
      if (pu) perUser[String(t.index)] = pu;
    }
  const git = gitInfo();
  return {
    config: result.config,
    configPath: result.source.path,
    configSha256: result.source.sha256,
    datasetSha256: result.datasetSha256,
    gitCommit: git.commit,
    gitDirty: git.dirty,
    trialCommits: git.commit ? [git.commit] : [],
    experiment: result.experiment,
    parentRunId: result.parentRunId,
    trials,
    curves,
    perUser,
  };
}

function tagsOf(run: MlflowRun): Record<string, string> {
  return Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
}

/** Rebuilds the report data of a search from MLflow alone (see the module comment). */
export async function loadReportData(client: MlflowClient, parentRunId: string): Promise<ReportData> {
  let parent: MlflowRun;
  try {
    parent = await client.getRun(parentRunId);
  } catch (err) {
    if (err instanceof MlflowApiError && (err.status === 404 || err.errorCode === 'RESOURCE_DOES_NOT_EXIST'))
      throw new ConfigError('--run', `MLflow at ${client.trackingUri} has no run ${parentRunId}`);
    throw err;
  }
  const ptags = tagsOf(parent);
  if (ptags[TAG.kind] !== 'search')
    throw new ConfigError(
      '--run',
      `run ${parentRunId} is not a reelab search run (its ${TAG.kind} tag is ${ptags[TAG.kind] ? `"${ptags[TAG.kind]}"` : 'missing'}); ` +
        'give the parent run of `reelab search` / `reelab experiment`',
    );
  if (!parent.info.artifact_uri)
    throw new ConfigError('--run', `run ${parentRunId} has no artifact location`);
  const artifacts = new RunArtifacts(client, parent.info.artifact_uri);
  const configText = (await artifacts.read('config.yaml')).toString('utf8');
  const configPath =
    ptags[TAG.configPath] && ptags[TAG.configPath] !== '(in memory)' ? ptags[TAG.configPath]! : null;
  const config = parseConfigText(configText, configPath);
  let file: TrialsFile;
  try {
    file = JSON.parse((await artifacts.read('trials.json')).toString('utf8')) as TrialsFile;
  } catch (err) {
    if (err instanceof ConfigError)
      throw new ConfigError(
        '--run',
        `run ${parentRunId} has no trials.json: the search did not get to the end (it was interrupted or failed); ` +
          'run the config again to complete it',
      );
    throw err;
  }

  const ids = file.trials.map((t) => t.runId).filter((id): id is string => id !== null);
  const runs = await fetchRunsById(client, parent.info.experiment_id, ids);
  const trials: ReportTrial[] = file.trials.map((t) => {
    const run = t.runId ? runs.get(t.runId) : undefined;
    const tags = run ? tagsOf(run) : {};
    const metrics = run ? Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value])) : {};
    return {
      ...trialRecord(t),
      error: t.status === 'failed' ? (tags['reelab.error'] ?? 'failed') : null,
      metrics: t.status === 'failed' ? {} : metrics,
    };
  });

  const selectKeyValue = selectKey(config);
  const curves: ReportData['curves'] = {};
  const keys = curveKeys(config);
  for (const t of curveTrials(config, trials, selectKeyValue)) {
    if (!t.runId) continue;
    const series: Record<string, Series> = {};
    for (const key of keys) {
      if (t.metrics[key] === undefined) continue;
      const points = await client.getMetricHistory(t.runId, key);
      points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
      series[key] = { steps: points.map((p) => p.step), values: points.map((p) => p.value) };
    }
    curves[String(t.index)] = series;
  }
  const perUser: ReportData['perUser'] = {};
  for (const lb of leaderboardTrials(config, trials, selectKeyValue))
    for (const t of lb.trials) {
      const run = t.runId ? runs.get(t.runId) : undefined;
      if (!run?.info.artifact_uri || t.validation !== null) continue;
      const store = new RunArtifacts(client, run.info.artifact_uri);
      perUser[String(t.index)] = JSON.parse((await store.read('per-user.json')).toString('utf8'));
    }
  return {
    config,
    configPath,
    configSha256: ptags[TAG.configSha] ?? file.configSha256,
    datasetSha256: ptags['reelab.dataset.sha256'] ?? file.datasetSha256,
    gitCommit: ptags['mlflow.source.git.commit'] ?? null,
    gitDirty: ptags['reelab.git.dirty'] === undefined ? null : ptags['reelab.git.dirty'] === 'true',
    trialCommits: [
      ...new Set(
        [...runs.values()].map((r) => tagsOf(r)['mlflow.source.git.commit']).filter((c): c is string => !!c),
      ),
    ].sort(),
    experiment: config.mlflow.experiment,
    parentRunId,
    trials,
    curves,
    perUser,
  };
}

function parseConfigText(text: string, path: string | null): ExperimentConfig {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    // An in-memory config was logged as its normalised JSON.
    return JSON.parse(trimmed) as ExperimentConfig;
  }
  return parseExperimentYaml(text, path ?? 'config.yaml');
}

/** Runs by id (any lifecycle stage: a later search may have superseded one), in chunks the server accepts. */
async function fetchRunsById(
  client: MlflowClient,
  experimentId: string,
  ids: string[],
): Promise<Map<string, MlflowRun>> {
  const out = new Map<string, MlflowRun>();
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const runs = await client.searchAllRuns({
      experimentIds: [experimentId],
      filter: `attributes.run_id IN (${chunk.map((id) => `'${id}'`).join(', ')})`,
      viewType: 'ALL',
      maxResults: 1000,
    });
    for (const r of runs) out.set(r.info.run_id, r);
  }
  const missing = ids.filter((id) => !out.has(id));
  for (const id of missing) {
    const run = await client.findRun(id);
    if (run) out.set(id, run);
  }
  return out;
}

/** The newest FINISHED search (parent) run of an experiment, or a ConfigError saying there is none. */
export async function latestSearchRun(client: MlflowClient, experiment: string): Promise<string> {
  const exp = await client.getExperimentByName(experiment);
  const runs = exp
    ? await client.searchRuns({
        experimentIds: [exp.experiment_id],
        filter: `tags.\`${TAG.kind}\` = 'search' and attributes.status = 'FINISHED'`,
        orderBy: ['attributes.start_time DESC'],
        maxResults: 1,
      })
    : { items: [] };
  const run = runs.items[0];
  if (!run)
    throw new ConfigError(
      'experiment',
      `no finished search run in MLflow experiment "${experiment}" on ${client.trackingUri}; run \`reelab experiment <config>\` first`,
    );
  return run.info.run_id;
}
