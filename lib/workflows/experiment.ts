/**
 * `reelab experiment <config>`: the search (resumed from MLflow), then — with `register:` in the config — the
 * best configuration trained once more on the first split and registered in the MLflow Model Registry, then the
 * report files `experiments/reports/<name>.md` and `.html`; and `reelab report --run <id>`: the same files
 * rebuilt from MLflow alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ExperimentConfig, ParamInput } from '../config/schema';
import { loadReportData } from '../report/data';
import { type RenderedReport, type ReportRegistration, renderReport, writeReport } from '../report/report';
import type { TrialResult } from '../search/result';
import type { SearchOptions, SearchResult } from '../search/runner';
import { RunArtifacts } from '../tracking/artifacts';
import type { MlflowClient, MlflowTag } from '../tracking/mlflow-client';
import { registerRunModel } from '../tracking/registry';
import type { RunSource } from '../tracking/run';
import { ConfigError, ReelabError } from '../util/errors';
import { projectRoot } from '../util/project';
import { type ConfigArgument, resolveConfig, type SearchWorkflowResult, searchWithReport } from './search';
import { train } from './train';

/** Where reports go unless told otherwise: experiments/reports in the project. */
export function defaultReportDir(): string {
  return join(projectRoot(), 'experiments', 'reports');
}

export interface ExperimentOptions extends Omit<SearchOptions, 'source' | 'beforeEnd'> {
  /** Folder of the report files (default experiments/reports). */
  reportDir?: string;
}

/** What `register:` created: the registry version and the run that trained it. */
export interface RegisteredBest {
  name: string;
  version: string;
  alias: string | null;
  /** `models:/NAME/<version>` */
  uri: string;
  /** `models:/NAME@<alias>` (null without an alias). */
  aliasUri: string | null;
  /** The MLflow run that trained the registered model (nested under the search's parent run). */
  runId: string;
  parentRunId: string | null;
  /** Leaderboard label and registry model name of the chosen entry. */
  label: string;
  model: string;
  params: Record<string, unknown>;
  /** The split whose training part the model was fitted on (the experiment's first). */
  split: string;
  /** The trial whose configuration (and params, epoch budget included) was retrained. */
  trial: { index: number; role: 'search' | 'final'; runId: string | null };
  /** `validation (<part>)`, or `optimistic (test fold)` when configurations were compared on the test fold. */
  selection: string;
  /** The retrained model's metrics on the split's test part. */
  metrics: Record<string, number>;
}

export interface ExperimentResult {
  search: SearchResult;
  report: RenderedReport;
  files: { markdown: string; html: string };
  /** The registry version `register:` created (null without `register:`, or when MLflow was unreachable). */
  registered: RegisteredBest | null;
}

/** Tag on the registered version (and the training run) saying how its configuration was chosen. */
export const SELECTION_TAG = 'reelab.selection';
/** Parent-run tags recording the registration, read back by `reelab report --run`. */
const REGISTERED_TAGS = {
  uri: 'reelab.registered.uri',
  alias: 'reelab.registered.alias',
  run: 'reelab.registered.run',
  label: 'reelab.registered.label',
  split: 'reelab.registered.split',
  selection: 'reelab.registered.selection',
} as const;

export async function runExperiment(
  arg: ConfigArgument,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const { reportDir, ...searchOptions } = options;
  const out = await searchAndRegister(arg, searchOptions);
  const files = writeReport(out.report, resolve(reportDir ?? defaultReportDir()));
  return { search: out.result, report: out.report, files, registered: out.registered };
}

/**
 * `searchWithReport`, then — when the config has `register:` — `registerBest`, with the report (also the copy
 * logged to the parent run) naming the registered version. Without tracking, a config with `register:` fails
 * before the search starts.
 */
export async function searchAndRegister(
  arg: ConfigArgument,
  options: Omit<SearchOptions, 'source' | 'beforeEnd'> = {},
): Promise<SearchWorkflowResult & { registered: RegisteredBest | null }> {
  const resolved = resolveConfig(arg);
  const { config } = resolved;
  const client = options.tracking ?? null;
  if (config.register && !client)
    throw new ConfigError(
      'register',
      'registering the best configuration needs MLflow tracking (drop --no-track, set MLFLOW_TRACKING_URI)',
    );
  const out = await searchWithReport(resolved, options);
  if (!config.register || !client) return { ...out, registered: null };
  const registered = await registerBest(client, out.result, options);
  if (!registered) return { ...out, registered };
  const report = renderReport(out.data, { registered: reportRegistration(registered) });
  await relogReport(client, out.result.parentRunId, report);
  return { ...out, report, registered };
}

/** How a config's selection compared configurations, as the version's `reelab.selection` tag says it. */
export function selectionOf(config: ExperimentConfig): string {
  return config.validation === null
    ? 'optimistic (test fold)'
    : `validation (${config.validation.length > 1 ? `${config.validation.length}-fold` : config.validation[0]})`;
}

/** The best entry over all models by the selection score, and the trial of the first split to retrain. */
export function bestTrial(result: SearchResult): { entry: number; trial: TrialResult } | null {
  const { config } = result;
  let bestEntry: (typeof result.best)[number] | null = null;
  for (const b of result.best) {
    if (b.score === null || b.config === null || !Number.isFinite(b.score)) continue;
    if (
      !bestEntry ||
      (config.select.goal === 'min' ? b.score < bestEntry.score! : b.score > bestEntry.score!)
    )
      bestEntry = b;
  }
  if (!bestEntry) return null;
  const split = config.splits[0];
  const { entry: e, config: chosen } = bestEntry;
  const trial =
    config.validation !== null
      ? result.trials.find((t) => t.role === 'final' && t.entry === e && t.split === split)
      : result.trials.find(
          (t) => t.role === 'search' && t.entry === e && t.config === chosen && t.split === split,
        );
  return trial ? { entry: e, trial } : null;
}

/**
 * Trains the search's best configuration with `train()` — the config's dataset, its first split and seed, and
 * the params of that configuration's trial on the first split (the final trial with a validation part, whose
 * epoch budget early stopping may have set; else the search trial) — as its own MLflow run nested under the
 * search's parent run, and registers it as a new version of `config.register.name` (alias moved to it). The
 * refit is the same fit as that trial: same data, split and model seed.
 */
export async function registerBest(
  client: MlflowClient,
  result: SearchResult,
  options: {
    dataDir?: string;
    runSource?: RunSource;
    sourceName?: string;
    log?: (line: string) => void;
  } = {},
): Promise<RegisteredBest | null> {
  const { config } = result;
  const register = config.register;
  if (!register) return null;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const best = bestTrial(result);
  if (!best) throw new ReelabError(`register: no configuration has a ${result.selectKey} score to select by`);
  const { entry, trial } = best;
  const m = config.models[entry]!;
  const params = trainParams(trial.params, m.params);
  const selection = selectionOf(config);
  const split = config.splits[0]!;
  log(
    `registering ${m.label} (${trial.role} trial ${trial.index}) as ${register.name}: training on ${split}…`,
  );
  const out = mkdtempSync(join(tmpdir(), 'reelab-register-'));
  try {
    const trained = await train({
      dataset: config.dataset,
      split,
      model: m.model,
      params,
      out,
      overwrite: true,
      metrics: trial.spec.metrics,
      seed: config.seed,
      dataDir: options.dataDir,
      tracking: client,
      experiment: result.experiment,
      source: options.runSource ?? 'experiment',
      sourceName: options.sourceName,
    });
    if (!trained.runId) {
      log(`not registering "${register.name}": MLflow is unreachable (the runs are in the outbox)`);
      return null;
    }
    const tags: Record<string, string> = {
      [SELECTION_TAG]: selection,
      'reelab.register.label': m.label,
      'reelab.register.trial': String(trial.index),
      'reelab.register.trial.role': trial.role,
      ...(trial.runId ? { 'reelab.register.trial.run': trial.runId } : {}),
      ...(result.parentRunId
        ? { 'mlflow.parentRunId': result.parentRunId, 'reelab.search.parent': result.parentRunId }
        : {}),
    };
    for (const [key, value] of Object.entries(tags)) await client.setTag(trained.runId, key, value);
    const versionTags: MlflowTag[] = [
      { key: SELECTION_TAG, value: selection },
      { key: 'reelab.experiment', value: config.name },
      { key: 'reelab.register.label', value: m.label },
      ...(result.parentRunId ? [{ key: 'reelab.search.parent', value: result.parentRunId }] : []),
    ];
    const reg = await registerRunModel(client, trained.runId, register.name, {
      alias: register.alias,
      artifactPath: trained.artifactPath ?? undefined,
      description: `${m.label} from experiment ${config.name}, trained on ${split}; selection: ${selection}`,
      tags: versionTags,
    });
    if (!reg) return null;
    const registered: RegisteredBest = {
      name: reg.name,
      version: reg.version,
      alias: reg.alias,
      uri: reg.uri,
      aliasUri: reg.alias ? `models:/${reg.name}@${reg.alias}` : null,
      runId: trained.runId,
      parentRunId: result.parentRunId,
      label: m.label,
      model: m.model,
      params: trained.params,
      split,
      trial: { index: trial.index, role: trial.role, runId: trial.runId },
      selection,
      metrics: trained.metrics,
    };
    if (result.parentRunId) {
      const parentTags: Record<string, string> = {
        [REGISTERED_TAGS.uri]: registered.uri,
        [REGISTERED_TAGS.run]: registered.runId,
        [REGISTERED_TAGS.label]: registered.label,
        [REGISTERED_TAGS.split]: registered.split,
        [REGISTERED_TAGS.selection]: registered.selection,
        ...(registered.alias ? { [REGISTERED_TAGS.alias]: registered.alias } : {}),
      };
      for (const [key, value] of Object.entries(parentTags))
        await client.setTag(result.parentRunId, key, value);
    }
    log(
      `registered ${registered.uri}${registered.aliasUri ? ` (${registered.aliasUri})` : ''} from run ${registered.runId}`,
    );
    return registered;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * The params to refit with: the trial's resolved params (schema defaults, derived model seed, epoch budget), with
 * structured params (lists, objects, which a trial records as JSON text) taken as the config gives them.
 */
function trainParams(
  resolved: Record<string, unknown>,
  given: Record<string, ParamInput>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...resolved };
  for (const [key, value] of Object.entries(given))
    if (value !== null && typeof value === 'object') out[key] = value;
  return out;
}

function reportRegistration(r: RegisteredBest): ReportRegistration {
  return {
    uri: r.uri,
    alias: r.alias,
    name: r.name,
    runId: r.runId,
    label: r.label,
    split: r.split,
    selection: r.selection,
  };
}

/** Replaces the report files logged to the (ended) parent run with the ones naming the registered version. */
async function relogReport(
  client: MlflowClient,
  parentRunId: string | null,
  report: RenderedReport,
): Promise<void> {
  if (!parentRunId) return;
  const run = await client.getRun(parentRunId);
  if (!run.info.artifact_uri) return;
  const artifacts = new RunArtifacts(client, run.info.artifact_uri);
  await artifacts.uploadBytes(report.markdown, `report/${report.name}.md`);
  await artifacts.uploadBytes(report.html, `report/${report.name}.html`);
}

/** The registration a parent run's tags record (see registerBest), or null. */
function registrationOf(tags: Record<string, string>): ReportRegistration | null {
  const uri = tags[REGISTERED_TAGS.uri];
  if (!uri) return null;
  return {
    uri,
    alias: tags[REGISTERED_TAGS.alias] ?? null,
    name: uri.slice('models:/'.length).split('/')[0]!,
    runId: tags[REGISTERED_TAGS.run] ?? null,
    label: tags[REGISTERED_TAGS.label] ?? '',
    split: tags[REGISTERED_TAGS.split] ?? '',
    selection: tags[REGISTERED_TAGS.selection] ?? '',
  };
}

/** Rebuilds a search's report from MLflow (no recomputation) and writes it to `dir` (default experiments/reports). */
export async function rebuildReport(
  client: MlflowClient,
  parentRunId: string,
  dir?: string,
): Promise<{ report: RenderedReport; files: { markdown: string; html: string } }> {
  const data = await loadReportData(client, parentRunId);
  const parent = await client.getRun(parentRunId);
  const tags = Object.fromEntries((parent.data.tags ?? []).map((t) => [t.key, t.value]));
  const report = renderReport(data, { registered: registrationOf(tags) });
  return { report, files: writeReport(report, resolve(dir ?? defaultReportDir())) };
}
