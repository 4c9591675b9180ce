import { defaultThreads } from '../compute/pool';
import { type EpochRecord, fitEvaluateRecord } from '../eval/fit-evaluate-record';
import { mlflowMetricKey, parseMetrics } from '../eval/names';
import { DEFAULT_RELEVANCE, evaluateModel, type ProtocolResult } from '../eval/protocols';
import type { EnsembleModel, EnsembleReport, MemberSpec } from '../models/ensemble';
import { modelEntry } from '../models/registry';
import { type RunContext, startRun } from '../tracking/run';
import { ConfigError } from '../util/errors';
import { type MeanInterval, meanConfidenceInterval } from '../viz/aggregate';
import { barFigure, type CurveSeries, type LeaderboardEntry, type PlotlyFigure } from '../viz/figures';
import { fitFigureInput, logRunFigures } from '../viz/run-figures';
import { type EvaluateResult, evaluate } from './evaluate';
import { loadRunData, type RunSettings } from './run-data';

/** One contender: a registry model, its params and the label it shows under (default: the model name). */
export interface ContenderSpec {
  model: string;
  params?: Record<string, unknown>;
  label?: string;
}

/** Settings every contender is evaluated under. */
/** Shared by model comparison and the ensemble comparison (each model is logged as its own MLflow run). */
export interface CompareSettings extends RunSettings {
  dataset: string;
  split: string;
  /**
   * Metrics to compute; each model gets those that apply to it (rating metrics such as rmse are skipped for
   * ranking models). Default: rmse, mae, ndcg@10.
   */
  metrics?: string[];
  relevance?: number | null;
}

export interface CompareRequest extends CompareSettings {
  models: ContenderSpec[];
  /** Called after each model (progress in a notebook). */
  onResult?: (row: ComparisonRow) => void;
}

/** One model's line of a comparison: metric values, per-user 95 % intervals, fit time and MLflow run. */
export interface ComparisonRow {
  label: string;
  model: string;
  task: 'rating' | 'ranking';
  metrics: Record<string, number>;
  /** Mean and 95 % confidence interval over users of each metric that has per-user values. */
  intervals: Record<string, MeanInterval>;
  fitSeconds: number;
  runId: string | null;
  /** Per-epoch reports of the fit (learning curves). */
  /** Per-epoch numbers as recorded (`train_rmse`, `test_rmse`, `loss`, …). */
  epochs: EpochRecord[];
}

export interface ModelComparison {
  dataset: string;
  split: string;
  rows: ComparisonRow[];
}

const DEFAULT_METRICS = ['rmse', 'mae', 'ndcg@10'];

/** The metrics of `metrics` that a model of this task can be evaluated on. */
export function metricsForTask(task: 'rating' | 'ranking', metrics: readonly string[]): string[] {
  const specs = parseMetrics(metrics);
  return specs.filter((s) => task === 'rating' || s.family !== 'rating').map((s) => s.name);
}

/**
 * Evaluates each model on the same dataset, split and seed through `evaluate` (one MLflow run each when
 * tracking) and collects a leaderboard row per model, in the given order.
 */
export async function compareRecommenders(request: CompareRequest): Promise<ModelComparison> {
  if (request.models.length === 0) throw new ConfigError('models', 'name at least one model to compare');
  const metrics = request.metrics ?? DEFAULT_METRICS;
  const labels = new Set<string>();
  const rows: ComparisonRow[] = [];
  for (const [i, spec] of request.models.entries()) {
    const entry = modelEntry(spec.model);
    const label = spec.label ?? spec.model;
    if (labels.has(label))
      throw new ConfigError(
        `models[${i}].label`,
        `"${label}" is used twice; give the models distinct labels`,
      );
    labels.add(label);
    const own = metricsForTask(entry.task, metrics);
    if (own.length === 0)
      throw new ConfigError(
        'metrics',
        `none of ${metrics.join(', ')} applies to ${spec.model} (${entry.task})`,
      );
    const result = await evaluate({
      dataset: request.dataset,
      split: request.split,
      model: spec.model,
      params: spec.params,
      metrics: own,
      relevance: request.relevance,
      seed: request.seed,
      dataDir: request.dataDir,
      threads: request.threads,
      tracking: request.tracking,
      experiment: request.experiment,
      source: request.source,
      sourceName: request.sourceName,
    });
    const row = rowOf(label, entry.task, result);
    rows.push(row);
    request.onResult?.(row);
  }
  return { dataset: request.dataset, split: request.split, rows };
}

function rowOf(label: string, task: 'rating' | 'ranking', result: EvaluateResult): ComparisonRow {
  return {
    label,
    model: result.model,
    task,
    metrics: { ...result.metrics },
    intervals: intervalsOf(result.protocols),
    fitSeconds: result.fitSeconds,
    runId: result.runId,
    epochs: result.epochs,
  };
}

function intervalsOf(protocols: ProtocolResult[]): Record<string, MeanInterval> {
  const out: Record<string, MeanInterval> = {};
  for (const p of protocols)
    for (const [name, per] of Object.entries(p.perUser)) out[name] = meanConfidenceInterval(per.values);
  return out;
}

function lowerIsBetter(metric: string): boolean {
  const kind = parseMetrics([metric])[0]!.kind;
  return kind === 'rmse' || kind === 'mae' || kind === 'popularity-bias';
}

/** Rows that have `metric`, best first. */
export function rankComparison(rows: readonly ComparisonRow[], metric: string): ComparisonRow[] {
  const lower = lowerIsBetter(metric);
  return rows
    .filter((r) => r.metrics[metric] !== undefined)
    .sort((a, b) =>
      lower ? a.metrics[metric]! - b.metrics[metric]! : b.metrics[metric]! - a.metrics[metric]!,
    );
}

/** A leaderboard table: rank, label, the metric, its per-user mean and 95 % interval, fit seconds, run id. */
export function comparisonTable(rows: readonly ComparisonRow[], metric: string): Record<string, unknown>[] {
  return rankComparison(rows, metric).map((r, i) => {
    const ci = r.intervals[metric];
    return {
      rank: i + 1,
      model: r.label,
      [metric]: r.metrics[metric],
      'per-user mean': ci?.mean,
      'CI low': ci?.lower,
      'CI high': ci?.upper,
      users: ci?.n,
      'fit s': r.fitSeconds,
      run: r.runId ?? '',
    };
  });
}

/** Entries for `leaderboardFigure`: the per-user mean of `metric` with its 95 % interval (or the value alone). */
export function comparisonEntries(rows: readonly ComparisonRow[], metric: string): LeaderboardEntry[] {
  return rankComparison(rows, metric).map((r) => {
    const ci = r.intervals[metric];
    return ci
      ? { name: r.label, mean: ci.mean, lower: ci.lower, upper: ci.upper, n: ci.n }
      : { name: r.label, mean: r.metrics[metric]! };
  });
}

/**
 * Leaderboard as bars, best first: the per-user mean of `metric` with 95 % confidence intervals as error bars
 * (rows without per-user values get a bar without one).
 */
export function comparisonBarFigure(
  rows: readonly ComparisonRow[],
  metric: string,
  title?: string,
): PlotlyFigure {
  const entries = comparisonEntries(rows, metric);
  const fig = barFigure(
    entries.map((e) => e.name),
    [{ name: metric, values: entries.map((e) => e.mean) }],
    {
      title: title ?? `Leaderboard — ${metric}`,
      yTitle: `${metric}, per-user mean (${lowerIsBetter(metric) ? 'lower' : 'higher'} is better)`,
      subtitle: 'error bars: 95% confidence interval over users',
    },
  );
  fig.data[0]!.error_y = {
    type: 'data',
    symmetric: false,
    array: entries.map((e) => (e.upper ?? e.mean) - e.mean),
    arrayminus: entries.map((e) => e.mean - (e.lower ?? e.mean)),
  };
  return fig;
}

/**
 * Learning curves of the rows that report several epochs: per model, training RMSE (solid) and held-out RMSE
 * (dashed) per epoch, as `learningCurveFigure` takes them.
 */
export function comparisonCurves(rows: readonly ComparisonRow[]): CurveSeries[] {
  const out: CurveSeries[] = [];
  for (const r of rows) {
    if (r.epochs.length < 2) continue;
    const steps = r.epochs.map((e) => e.epoch);
    const train = r.epochs.map((e) => e.values.train_rmse ?? Number.NaN);
    const held = r.epochs.map((e) => e.values.test_rmse ?? Number.NaN);
    if (train.some(Number.isFinite))
      out.push({ name: `${r.label} train`, values: train, steps, run: r.label, kind: 'train' });
    if (held.some(Number.isFinite))
      out.push({ name: `${r.label} test`, values: held, steps, run: r.label, kind: 'test' });
  }
  return out;
}

// ---- the ensemble against its members ------------------------------------------------------------------

export interface EnsembleComparisonRequest extends CompareSettings {
  /** Registry name: 'ensemble' (rating) or 'ensemble-ranking'. */
  model?: 'ensemble' | 'ensemble-ranking';
  members: MemberSpec[];
  /** Other ensemble params (validationFraction, ridge, nonNegative, refit, parallel, seed, negatives). */
  params?: Record<string, unknown>;
  label?: string;
}

export interface EnsembleMemberRow {
  label: string;
  model: string;
  weight: number;
  /** The member's (and the blend's) metric on the ensemble's validation slice. */
  validation: number;
  /** Test metrics of the member as refitted inside the ensemble, and of the blend. */
  test: Record<string, number>;
  fitSeconds: number;
}

export interface EnsembleComparison {
  report: EnsembleReport;
  /** Members in order, then the blend (label = the ensemble's label, weight = the intercept). */
  table: EnsembleMemberRow[];
  /** The blend as a leaderboard row (append it to a comparison). */
  row: ComparisonRow;
  /** The members as leaderboard rows, evaluated exactly like the blend. */
  memberRows: ComparisonRow[];
  runId: string | null;
}

/**
 * Fits one ensemble, then evaluates the blend and each of its (refitted) members on the test part — the same
 * fitted members, so the comparison costs no extra training. Tracked as one MLflow run for the ensemble with a
 * nested run per member (weight, validation metric, test metrics).
 */
export async function compareEnsemble(request: EnsembleComparisonRequest): Promise<EnsembleComparison> {
  const name = request.model ?? 'ensemble';
  const entry = modelEntry(name);
  const label = request.label ?? name;
  const seed = request.seed ?? 42;
  const threads = request.threads ?? defaultThreads();
  const metrics = metricsForTask(entry.task, request.metrics ?? DEFAULT_METRICS);
  const data = await loadRunData(request.dataset, request.split, { seed, dataDir: request.dataDir });
  const { seeds } = data;
  const split = data.split!;
  const inputs = data.side;
  const relevance = request.relevance === undefined ? DEFAULT_RELEVANCE : request.relevance;

  const run: RunContext | null = request.tracking
    ? await startRun(request.tracking, {
        experiment: request.experiment ?? `reelab-${request.dataset}`,
        runName: `${label} ${request.dataset} ${request.split}`,
        source: request.source ?? 'script',
        sourceName: request.sourceName,
        dataset: request.dataset,
        datasetSha256: data.ratingsSha256 ?? undefined,
        seed,
        tags: {
          'reelab.split': request.split,
          'reelab.model': name,
          'reelab.task': entry.task,
        },
      })
    : null;
  try {
    const fitted = await fitEvaluateRecord({
      model: name,
      params: { ...(request.params ?? {}), members: request.members },
      modelSeed: seeds.model,
      train: split.train,
      heldOut: split.test,
      heldOutRole: 'test',
      inputs,
      metrics,
      protocols: ['full'],
      relevance,
      evaluationSeed: seeds.evaluation,
      threads,
      run,
      recordParams: { dataset: request.dataset, split: request.split, seed },
    });
    const model = fitted.model as EnsembleModel;
    const { epochs, fitSeconds } = fitted;
    const report = model.report();
    const evalOptions = { metrics, relevance, seed: seeds.evaluation, threads };
    const test = async (m: Parameters<typeof evaluateModel>[0]) =>
      evaluateModel(m, split.train, split.test, evalOptions);
    const blendResults = fitted.results;
    const flat = (rs: ProtocolResult[]) =>
      Object.assign({}, ...rs.map((r) => r.metrics)) as Record<string, number>;
    const memberRows: ComparisonRow[] = [];
    const table: EnsembleMemberRow[] = [];
    for (const [m, member] of model.memberModels.entries()) {
      const info = report.members[m]!;
      const results = await test(member);
      const row: ComparisonRow = {
        label: info.label,
        model: info.model,
        task: modelEntry(info.model).task,
        metrics: flat(results),
        intervals: intervalsOf(results),
        fitSeconds: info.refitSeconds ?? info.fitSeconds,
        runId: null,
        epochs: [],
      };
      if (run) {
        const child = await run.startChild(`${label} member ${info.label}`, {
          tags: { 'reelab.model': info.model, 'reelab.ensemble.member': info.label },
        });
        await child.logParams({ ...primitiveParams(model.memberSpecs[m]!.params), model: info.model });
        await child.logMetrics({
          ...trackedMetrics(results),
          weight: info.weight,
          [`validation_${mlflowMetricKey(report.metric)}`]: info.validation,
        });
        await child.end('FINISHED');
        row.runId = child.runId;
      }
      memberRows.push(row);
      table.push({
        label: info.label,
        model: info.model,
        weight: info.weight,
        validation: info.validation,
        test: row.metrics,
        fitSeconds: row.fitSeconds,
      });
    }
    const blendMetrics = flat(blendResults);
    table.push({
      label,
      model: name,
      weight: report.intercept,
      validation: report.blend,
      test: blendMetrics,
      fitSeconds,
    });
    if (run) {
      const weights: Record<string, number> = { intercept: report.intercept };
      for (const mr of report.members)
        weights[`weight_${mr.label.replace(/[^A-Za-z0-9_.\-/ ]/g, '_')}`] = mr.weight;
      await run.logMetrics({
        ...weights,
        [`validation_${mlflowMetricKey(report.metric)}`]: report.blend,
        validation_gain: report.gain,
      });
      await run.logText(`${JSON.stringify(report, null, 2)}\n`, 'ensemble-report.json');
      await logRunFigures(run, fitFigureInput(`${label} ${request.dataset} ${request.split}`, fitted));
      await run.end('FINISHED');
    }
    return {
      report,
      table,
      row: {
        label,
        model: name,
        task: entry.task,
        metrics: blendMetrics,
        intervals: intervalsOf(blendResults),
        fitSeconds,
        runId: run?.runId ?? null,
        epochs,
      },
      memberRows,
      runId: run?.runId ?? null,
    };
  } catch (err) {
    if (run?.isOpen) await run.end('FAILED', { error: err }).catch(() => {});
    throw err;
  }
}

function primitiveParams(params: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(params))
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  return out;
}

/** Metric keys as `evaluate` logs them: rating metrics by name, ranking ones as "<protocol>/<metric_at_k>". */
function trackedMetrics(results: ProtocolResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results)
    for (const [name, v] of Object.entries(r.metrics))
      out[r.protocol === 'rating' ? name : mlflowMetricKey(name, r.protocol)] = v;
  return out;
}
