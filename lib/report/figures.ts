/**
 * The report's Plotly figures, built from a ReportModel with the shared builders of lib/viz/figures.ts:
 * leaderboards with confidence intervals, learning curves, and per searched model the configurations' curves,
 * parameter-vs-metric scatters and parallel coordinates. Each figure has a stable id (its name in the report).
 */

import { describeParams } from '../util/params-text';
import {
  type CurveSeries,
  leaderboardFigure,
  learningCurveFigure,
  type PlotlyFigure,
  parallelCoordinatesFigure,
  paramMetricFigure,
  type SearchPoint,
} from '../viz/figures';
import type { ReportModel } from './stats';

export interface NamedFigure {
  /** Stable id: letters, digits and dashes. */
  id: string;
  title: string;
  /** One sentence on what the figure shows. */
  caption: string;
  figure: PlotlyFigure;
}

const CURVE_NAMES: Record<string, string> = {
  train_rmse: 'training RMSE',
  validation_rmse: 'validation RMSE',
  test_rmse: 'test RMSE',
  loss: 'training loss',
};

function idOf(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .toLowerCase() || 'figure'
  );
}

/** Every figure of the report, in report order. */
export function reportFigures(model: ReportModel): NamedFigure[] {
  const out: NamedFigure[] = [];
  const { data } = model;
  const config = data.config;
  const subtitle = (method: string) =>
    method === 'folds'
      ? 'error bars: confidence interval over the test folds'
      : method === 'bootstrap'
        ? 'error bars: bootstrap interval over users'
        : undefined;

  // ---- leaderboards ----
  for (const info of model.metrics) {
    const entries = model.leaderboard
      .filter((r) => r.values[info.key] !== undefined)
      .map((r) => {
        const v = r.values[info.key]!;
        return {
          name: r.label,
          mean: v.value,
          lower: v.lower ?? undefined,
          upper: v.upper ?? undefined,
          n: v.n,
        };
      });
    if (entries.length === 0) continue;
    const method = model.leaderboard.find((r) => r.values[info.key])?.values[info.key]?.method ?? 'none';
    const label = info.protocol === 'rating' ? info.name : `${info.name} (${info.protocol})`;
    out.push({
      id: `leaderboard-${idOf(info.key)}`,
      title: `Leaderboard — ${label}`,
      caption: `${label} of every model's best configuration on the test folds, best on top.`,
      figure: leaderboardFigure(entries, {
        metric: label,
        higherIsBetter: info.goal === 'max',
        title: `Leaderboard — ${label}`,
        subtitle: subtitle(method),
      }),
    });
  }

  // ---- learning curves of the leaderboard (first split) ----
  const firstSplit = config.splits[0];
  const curveKeys = new Set<string>();
  for (const r of model.leaderboard)
    for (const t of r.trials)
      for (const k of Object.keys(data.curves[String(t.index)] ?? {})) curveKeys.add(k);
  for (const key of [...curveKeys].sort()) {
    const series: CurveSeries[] = [];
    for (const r of model.leaderboard) {
      const t = r.trials.find((x) => x.split === firstSplit);
      const s = t ? data.curves[String(t.index)]?.[key] : undefined;
      if (s && s.values.length > 1)
        series.push({ name: r.label, values: s.values, steps: s.steps, run: r.label });
    }
    if (series.length === 0) continue;
    const name = CURVE_NAMES[key] ?? key;
    const where =
      config.validation !== null
        ? 'final fits on the training part, held out = test part'
        : 'held out = test part';
    out.push({
      id: `curves-${idOf(key)}`,
      title: `Learning curves — ${name} (${firstSplit})`,
      caption: `${name} per epoch of each model's best configuration on ${firstSplit} (${where}).`,
      figure: learningCurveFigure(series, name, `Learning curves — ${name} (${firstSplit})`),
    });
  }

  // ---- per searched entry: configurations' curves, parameter vs metric, parallel coordinates ----
  const selectLabel = config.select.metric;
  for (const rows of model.configs) {
    if (rows.length < 2) continue;
    const m = config.models[rows[0]!.entry]!;
    const slugLabel = idOf(m.label);
    const watched = config.earlyStopping?.metric ?? 'validation_rmse';
    const firstValidation = config.validation?.[0] ?? null;
    const series: CurveSeries[] = [];
    for (const row of rows) {
      const t = data.trials.find(
        (x) =>
          x.entry === row.entry &&
          x.config === row.config &&
          x.role === 'search' &&
          x.split === firstSplit &&
          x.validation === firstValidation,
      );
      const curves = t ? data.curves[String(t.index)] : undefined;
      const s = curves?.[watched] ?? curves?.validation_rmse ?? curves?.loss;
      if (s && s.values.length > 1)
        series.push({
          name: `#${row.config} ${describeParams(row.searched)}`,
          values: s.values,
          steps: s.steps,
        });
    }
    if (series.length > 0) {
      const name = CURVE_NAMES[watched] ?? watched;
      out.push({
        id: `search-curves-${slugLabel}`,
        title: `${m.label}: every configuration — ${name}`,
        caption: `${name} per epoch of each configuration of ${m.label} on ${firstSplit}${firstValidation ? ` (validation part ${firstValidation})` : ''}.`,
        figure: learningCurveFigure(series, name, `${m.label}: configurations — ${name} (${firstSplit})`),
      });
    }
    const points: SearchPoint[] = rows
      .filter((r) => r.score !== null)
      .map((r) => ({
        params: r.searched,
        value: r.score!,
        label: `#${r.config} ${describeParams(r.searched)}`,
      }));
    const params = Object.keys(rows[0]!.searched).filter(
      (p) => new Set(rows.map((r) => String(r.searched[p]))).size > 1,
    );
    if (points.length < 2) continue;
    params.forEach((param, i) => {
      const colourBy = params.length > 1 ? params[(i + 1) % params.length] : undefined;
      out.push({
        id: `param-${slugLabel}-${idOf(param)}`,
        title: `${m.label}: ${selectLabel} vs ${param}`,
        caption: `Mean ${selectLabel} of each configuration of ${m.label} against ${param}${colourBy ? `, coloured by ${colourBy}` : ''}.`,
        figure: paramMetricFigure(points, param, {
          metric: selectLabel,
          colourBy,
          title: `${m.label}: ${selectLabel} vs ${param}`,
        }),
      });
    });
    if (params.length >= 2)
      out.push({
        id: `parallel-${slugLabel}`,
        title: `${m.label}: parallel coordinates`,
        caption: `Every configuration of ${m.label}: searched parameters and mean ${selectLabel}.`,
        figure: parallelCoordinatesFigure(points, params, {
          metric: selectLabel,
          higherIsBetter: config.select.goal === 'max',
          title: `${m.label}: search — ${selectLabel}`,
        }),
      });
  }
  return out;
}
