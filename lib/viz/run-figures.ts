/**
 * The figures every training and evaluation run carries in MLflow (`figures/<name>.html`): its learning curves
 * and the per-user distribution of each evaluated metric. Built from what the fit and the evaluation returned
 * (lib/eval EpochRecord, per-user values), so a figure shows exactly the numbers the run recorded.
 */
import { type EpochRecord, type FitEvaluateResult, metricKey } from '../eval/fit-evaluate-record';
import type { RunContext } from '../tracking/run';
import { type CurveSeries, histogramFigure, learningCurveFigure, type PlotlyFigure } from './figures';
import { type SaveFigureOptions, saveFigures } from './save';

/** What a run's figures are made of. */
export interface RunFigureInput {
  /** Shown in every title, e.g. "svd ml-100k u1". */
  label: string;
  epochs: readonly EpochRecord[];
  /** Per-user values by recorded metric key (`full/ndcg_at_10`, `rmse`, …); empty when none were kept. */
  perUser?: Readonly<Record<string, ArrayLike<number>>>;
}

/** A fit's figure input: its epochs and the per-user values of every metric it was evaluated with. */
export function fitFigureInput(
  label: string,
  fit: Pick<FitEvaluateResult, 'epochs' | 'results'>,
): RunFigureInput {
  const perUser: Record<string, Float64Array> = {};
  for (const r of fit.results)
    for (const [name, pu] of Object.entries(r.perUser)) perUser[metricKey(name, r.protocol)] = pu.values;
  return { label, epochs: fit.epochs, perUser };
}

/** Per-epoch keys that are timings, not quality: left out of the curves. */
const TIMING_KEYS = new Set(['epoch_seconds']);

/**
 * Learning curves (one figure per kind of number: RMSE curves together, loss alone, every other per-epoch
 * metric alone, since their scales differ) and one histogram per metric with per-user values.
 * Figure names are file names: `learning-curve-rmse`, `learning-curve-loss`, `per-user-full-ndcg_at_10`.
 */
export function runFigures(input: RunFigureInput): Record<string, PlotlyFigure> {
  const figures: Record<string, PlotlyFigure> = {};
  const keys: string[] = [];
  for (const e of input.epochs)
    for (const k of Object.keys(e.values)) if (!TIMING_KEYS.has(k) && !keys.includes(k)) keys.push(k);
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const group = /(^|_)rmse$/.test(k) ? 'rmse' : k;
    groups.set(group, [...(groups.get(group) ?? []), k]);
  }
  for (const [group, members] of groups) {
    const series: CurveSeries[] = members.map((k) => {
      const points = input.epochs.filter((e) => e.values[k] !== undefined);
      return { name: k, values: points.map((e) => e.values[k]!), steps: points.map((e) => e.epoch) };
    });
    figures[`learning-curve-${fileName(group)}`] = learningCurveFigure(
      series,
      group === 'rmse' ? 'RMSE' : group,
      `Learning curve — ${input.label}`,
    );
  }
  for (const [key, values] of Object.entries(input.perUser ?? {})) {
    if (values.length === 0) continue;
    figures[`per-user-${fileName(key)}`] = histogramFigure([{ name: key, values }], {
      title: `${key} per user — ${input.label} (${values.length} users)`,
      xTitle: key,
      bins: 30,
    });
  }
  return figures;
}

function fileName(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '-');
}

/**
 * Logs `runFigures(input)` to the run as `figures/<name>.html` (no PNG: a run's figures are for the MLflow UI;
 * `saveFigure` renders PNGs where wanted). `plotly: 'cdn'` keeps each page small (a search's trials); the default
 * embeds plotly.js so the page opens with no network. Returns the artifact paths written.
 */
export async function logRunFigures(
  run: RunContext | null,
  input: RunFigureInput,
  options: Pick<SaveFigureOptions, 'plotly'> = {},
): Promise<string[]> {
  if (!run?.client) return [];
  return saveFigures(run, runFigures(input), { png: false, plotly: options.plotly });
}
