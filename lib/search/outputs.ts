/**
 * What a search leaves on its parent run: `trials.json` (the trials in plan order, what reports are rebuilt
 * from), `results.csv` (one row per trial), the best configuration of each entry as params, its mean and
 * per-fold selection scores as metrics, and the trial counts as tags.
 */
import type { ExperimentConfig } from '../config/schema';
import type { RunContext } from '../tracking/run';
import type { ParamValue } from '../util/params-text';
import type { TrialIdentity } from './plan';
import type { BestConfig, SearchCounts, TrialResult, TrialStatus } from './result';
import type { ConfigSource } from './source';

/** A trial's identity and outcome status, as written to trials.json and read back by reports. */
export interface TrialRecord extends TrialIdentity {
  runId: string | null;
  status: TrialStatus;
}

/** The TrialRecord fields of a trial (drops everything else it carries). */
export function trialRecord(t: TrialRecord): TrialRecord {
  return {
    index: t.index,
    hash: t.hash,
    role: t.role,
    entry: t.entry,
    label: t.label,
    model: t.model,
    task: t.task,
    config: t.config,
    split: t.split,
    validation: t.validation,
    searched: t.searched,
    params: t.params,
    runId: t.runId,
    status: t.status,
  };
}

/** What the report loader needs to rebuild everything from MLflow: the trials in plan order. */
export interface TrialsFile {
  version: 1;
  configSha256: string;
  datasetSha256: string | null;
  trials: TrialRecord[];
}

export function trialsJson(results: TrialResult[], source: ConfigSource, dataSha: string | null): string {
  const file: TrialsFile = {
    version: 1,
    configSha256: source.sha256,
    datasetSha256: dataSha,
    trials: results.map(trialRecord),
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per trial: identity, searched params, every final metric (full precision), run id. */
export function resultsCsv(results: TrialResult[]): string {
  const paramKeys = new Set<string>();
  const metricKeys = new Set<string>();
  for (const r of results) {
    for (const k of Object.keys(r.searched)) paramKeys.add(k);
    for (const k of Object.keys(r.metrics)) metricKeys.add(k);
  }
  const pk = [...paramKeys];
  const mk = [...metricKeys].sort();
  const header = [
    'index',
    'role',
    'label',
    'model',
    'config',
    'split',
    'validation',
    ...pk,
    ...mk,
    'status',
    'run_id',
    'hash',
  ];
  const lines = [header.map(csvCell).join(',')];
  for (const r of results)
    lines.push(
      [
        r.index,
        r.role,
        r.label,
        r.model,
        r.config,
        r.split,
        r.validation ?? '',
        ...pk.map((k) => r.searched[k]),
        ...mk.map((k) => r.metrics[k]),
        r.status,
        r.runId ?? '',
        r.hash,
      ]
        .map(csvCell)
        .join(','),
    );
  return `${lines.join('\n')}\n`;
}

/** Keys safe in MLflow names: letters, digits, `_ - .`. */
export function slug(label: string): string {
  return label.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '') || 'model';
}

/** `best.<label>.config` and `best.<label>.<param>` for every entry (fixed and searched params). */
export function bestParams(best: BestConfig[], config: ExperimentConfig): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const b of best) {
    const m = config.models[b.entry]!;
    const params = { ...m.params, ...b.searched };
    out[`best.${slug(b.label)}.config`] = b.config === null ? 'none (every configuration failed)' : b.config;
    for (const [k, v] of Object.entries(params))
      out[`best.${slug(b.label)}.${k}`] = typeof v === 'object' ? JSON.stringify(v) : v;
  }
  return out;
}

/** The parent's own metrics: each entry's best mean score, and its per-fold values (search trials). */
export function bestMetrics(
  best: BestConfig[],
  results: TrialResult[],
  key: string,
): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const b of best) {
    if (b.score === null) continue;
    out.push([`best/${slug(b.label)}/${key}`, b.score]);
    const folds = results.filter((r) => r.entry === b.entry && r.config === b.config && r.role === 'search');
    for (const r of folds)
      if (r.metrics[key] !== undefined)
        out.push([
          `best/${slug(b.label)}/${slug(r.split)}${r.validation ? `/${slug(r.validation)}` : ''}/${key}`,
          r.metrics[key]!,
        ]);
  }
  return out;
}

export interface SearchSummary {
  config: ExperimentConfig;
  source: ConfigSource;
  datasetSha256: string | null;
  /** The trials' results in plan order. */
  trials: TrialResult[];
  best: BestConfig[];
  selectKey: string;
  counts: SearchCounts;
}

/** Writes the results files, best params and metrics, and count tags to the (open) parent run. */
export async function writeSearchSummary(parent: RunContext, s: SearchSummary): Promise<void> {
  await parent.logText(trialsJson(s.trials, s.source, s.datasetSha256), 'trials.json');
  await parent.logText(resultsCsv(s.trials), 'results.csv');
  await parent.logParams(bestParams(s.best, s.config));
  for (const [k, v] of bestMetrics(s.best, s.trials, s.selectKey)) parent.logMetric(k, v);
  await parent.setTags({
    'reelab.trials.total': String(s.counts.total),
    'reelab.trials.ran': String(s.counts.ran),
    'reelab.trials.reused': String(s.counts.reused),
    'reelab.trials.failed': String(s.counts.failed),
  });
}
