/**
 * Plotly figure builders. Each takes plain arrays (counts, series, points) and returns a plain figure spec
 * (what plotly.js's `newPlot` takes), so the same spec is shown in a notebook (`showFigure`), saved to MLflow
 * (`saveFigure`) or checked in a test. Aggregations from Interactions / the movie catalogue live in
 * `lib/viz/aggregate.ts`; UMAP and embedding maps in `lib/viz/umap.ts` and `lib/viz/embeddings.ts`.
 */
import type { FeatureImportance } from '../models/gbdt/booster';

/** A Plotly figure as plain data (what plotly.js's newPlot takes); builders return these, display shows them. */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout?: PlotlyLayout;
}

export type PlotlyTrace = Record<string, unknown> & { type: string; name?: string };

export interface PlotlyLayout extends Record<string, unknown> {
  title?: { text: string };
  height?: number;
}

/**
 * 20 distinguishable colours (Plotly's default ten followed by their lighter pairs, as in D3's category20),
 * for categorical traces such as genres; more groups cycle.
 */
export const CATEGORY_COLOURS: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#aec7e8',
  '#ffbb78',
  '#98df8a',
  '#ff9896',
  '#c5b0d5',
  '#c49c94',
  '#f7b6d2',
  '#c7c7c7',
  '#dbdb8d',
  '#9edae5',
];

function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: { text: title }, ...extra };
}

/** Title text with an optional smaller second line (works in every plotly.js version). */
export function titleWithSubtitle(title: string, subtitle?: string): { text: string } {
  return { text: subtitle ? `${title}<br><sup>${subtitle}</sup>` : title };
}

function sumOf(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// ---- ratings -------------------------------------------------------------------------------------------------

/** Distinct values and how often each occurs (values ascending). */
export interface ValueCounts {
  values: number[];
  counts: number[];
}

function countValues(ratings: ArrayLike<number>): ValueCounts {
  const counts = new Map<number, number>();
  for (let k = 0; k < ratings.length; k++) counts.set(ratings[k]!, (counts.get(ratings[k]!) ?? 0) + 1);
  const values = [...counts.keys()].sort((a, b) => a - b);
  return { values, counts: values.map((v) => counts.get(v)!) };
}

/** Bar chart of how often each rating value occurs, with each bar's share of all ratings in its hover. */
export function ratingDistributionFigure(
  ratings: ArrayLike<number> | ValueCounts,
  title = 'Rating distribution',
): PlotlyFigure {
  const vc = 'values' in ratings && 'counts' in ratings ? ratings : countValues(ratings as ArrayLike<number>);
  const total = sumOf(vc.counts);
  return {
    data: [
      {
        type: 'bar',
        name: 'ratings',
        x: vc.values,
        y: vc.counts,
        customdata: vc.counts.map((c) => round((100 * c) / Math.max(1, total), 2)),
        hovertemplate: 'rating %{x}: %{y} ratings (%{customdata}%)<extra></extra>',
      },
    ],
    layout: {
      title: titleWithSubtitle(title, `${total} ratings`),
      xaxis: axis('rating', { dtick: vc.values.length > 5 ? 0.5 : 1 }),
      yaxis: axis('number of ratings'),
      height: 400,
    },
  };
}

// ---- long tail ---------------------------------------------------------------------------------------------

/** Counts sorted from largest to smallest (a copy). */
export function sortedDescending(counts: ArrayLike<number>): Float64Array {
  return Float64Array.from(counts as ArrayLike<number>).sort((a, b) => b - a);
}

export interface TopShare {
  /** Requested fraction of items, e.g. 0.1. */
  fraction: number;
  /** ceil(fraction × items): how many of the most popular items that is. */
  items: number;
  /** Share of all ratings those items hold, in [0, 1]. */
  share: number;
}

/** Share of all ratings held by the top `fraction` most-rated items, for each fraction. */
export function longTailShares(
  counts: ArrayLike<number>,
  fractions: number[] = [0.01, 0.1, 0.2, 0.5],
): TopShare[] {
  const sorted = sortedDescending(counts);
  const total = sumOf(sorted);
  const cumulative = new Float64Array(sorted.length + 1);
  for (let i = 0; i < sorted.length; i++) cumulative[i + 1] = cumulative[i]! + sorted[i]!;
  return fractions.map((fraction) => {
    const items = Math.min(sorted.length, Math.ceil(fraction * sorted.length - 1e-9));
    return { fraction, items, share: total > 0 ? cumulative[items]! / total : 0 };
  });
}

/** Indices 0..n-1 thinned to at most `max` (always keeps the first and the last). */
function thinned(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  const step = (n - 1) / (max - 1);
  let last = -1;
  for (let j = 0; j < max; j++) {
    const i = Math.round(j * step);
    if (i !== last) out.push(i);
    last = i;
  }
  return out;
}

export interface LongTailOptions {
  title?: string;
  /** Fractions of items marked on the cumulative curve (default 1 %, 10 %, 20 %, 50 %). */
  marks?: number[];
  /** Plot at most this many points per curve (evenly spaced ranks; default 4000). */
  maxPoints?: number;
  /** Name of the counted things (default "items"). */
  entity?: string;
}

/**
 * The long tail of item popularity, two panels: ratings per item by popularity rank (log y), and the share of
 * all ratings covered by the top x % of items, with marks such as "top 10 % of items → 58 % of ratings".
 * `counts` are the ratings per item in any order.
 */
export function longTailFigure(counts: ArrayLike<number>, options: LongTailOptions = {}): PlotlyFigure {
  const entity = options.entity ?? 'items';
  const sorted = sortedDescending(counts);
  const n = sorted.length;
  const total = sumOf(sorted);
  const keep = thinned(n, options.maxPoints ?? 4000);
  const cumulative = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cumulative[i + 1] = cumulative[i]! + sorted[i]!;
  const shares = longTailShares(sorted, options.marks ?? [0.01, 0.1, 0.2, 0.5]);
  const positive = keep.filter((i) => sorted[i]! > 0);
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        name: `ratings per ${entity.replace(/s$/, '')}`,
        x: positive.map((i) => i + 1),
        y: positive.map((i) => sorted[i]!),
        xaxis: 'x',
        yaxis: 'y',
        hovertemplate: 'rank %{x}: %{y} ratings<extra></extra>',
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: 'cumulative share',
        x: keep.map((i) => round((100 * (i + 1)) / n, 4)),
        y: keep.map((i) => round((100 * cumulative[i + 1]!) / Math.max(1, total), 4)),
        xaxis: 'x2',
        yaxis: 'y2',
        hovertemplate: `top %{x:.1f}% of ${entity}: %{y:.1f}% of ratings<extra></extra>`,
      },
      {
        type: 'scatter',
        mode: 'markers+text',
        name: 'marks',
        x: shares.map((s) => round(100 * s.fraction, 4)),
        y: shares.map((s) => round(100 * s.share, 2)),
        text: shares.map((s) => `top ${round(100 * s.fraction, 1)}% → ${round(100 * s.share, 1)}%`),
        textposition: 'bottom right',
        xaxis: 'x2',
        yaxis: 'y2',
        showlegend: false,
      },
    ],
    layout: {
      title: titleWithSubtitle(
        options.title ?? 'Long tail of item popularity',
        `${n} ${entity}, ${total} ratings`,
      ),
      xaxis: axis(`${entity} by popularity rank`, { domain: [0, 0.45] }),
      yaxis: axis(`ratings per ${entity.replace(/s$/, '')} (log)`, { type: 'log' }),
      xaxis2: axis(`% of ${entity} (most rated first)`, { domain: [0.55, 1], anchor: 'y2', range: [0, 100] }),
      yaxis2: axis('% of ratings covered', { anchor: 'x2', range: [0, 101] }),
      showlegend: false,
      height: 420,
    },
  };
}

// ---- activity ----------------------------------------------------------------------------------------------

export interface LogBins {
  /** Bin k holds the integers lower[k] … upper[k] (inclusive). */
  lower: number[];
  upper: number[];
  counts: number[];
}

/**
 * Histogram of positive integer counts over logarithmic bins: bin edges at 10^(j / binsPerDecade), rounded up
 * to integers, empty integer ranges dropped, starting at the first non-empty bin. Zeros are not counted (log
 * scale); `zeros` reports how many there were.
 */
export function logBinnedCounts(values: ArrayLike<number>, binsPerDecade = 5): LogBins & { zeros: number } {
  if (!(Number.isInteger(binsPerDecade) && binsPerDecade >= 1))
    throw new RangeError(`binsPerDecade must be a positive integer, got ${binsPerDecade}`);
  let max = 0;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v <= 0) zeros++;
    else if (v > max) max = v;
  }
  const edges: number[] = [];
  for (let j = 0; ; j++) {
    const e = Math.ceil(10 ** (j / binsPerDecade) - 1e-9);
    if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
    if (e > max) break;
  }
  // bins [edges[k], edges[k+1] - 1]; the last edge is > max.
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = Math.floor(values[i]!);
    if (v <= 0) continue;
    let lo = 0;
    let hi = edges.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (edges[mid]! <= v) lo = mid;
      else hi = mid - 1;
    }
    counts[lo]!++;
  }
  // Start at the first non-empty bin (counts below the minimum would only add empty bars).
  let first = 0;
  while (first < counts.length - 1 && counts[first] === 0) first++;
  return {
    lower: edges.slice(first, -1),
    upper: edges.slice(first + 1).map((e) => e - 1),
    counts: counts.slice(first),
    zeros,
  };
}

export interface ActivityOptions {
  title?: string;
  binsPerDecade?: number;
  /** Who is counted, e.g. "users" (default) or "items". */
  entity?: string;
  /** What each value counts, e.g. "ratings" (default). */
  what?: string;
}

/** How many users have how many ratings, over logarithmic bins (labelled with their integer ranges). */
export function activityHistogramFigure(
  counts: ArrayLike<number>,
  options: ActivityOptions = {},
): PlotlyFigure {
  const entity = options.entity ?? 'users';
  const what = options.what ?? 'ratings';
  const bins = logBinnedCounts(counts, options.binsPerDecade ?? 5);
  const sorted = sortedDescending(counts);
  const median = sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : 0;
  const labels = bins.lower.map((lo, k) => (lo === bins.upper[k] ? String(lo) : `${lo}–${bins.upper[k]}`));
  const single = entity.replace(/s$/, '');
  return {
    data: [
      {
        type: 'bar',
        name: entity,
        x: labels,
        y: bins.counts,
        hovertemplate: `%{x} ${what}: %{y} ${entity}<extra></extra>`,
      },
    ],
    layout: {
      title: titleWithSubtitle(
        options.title ?? `${what[0]!.toUpperCase()}${what.slice(1)} per ${single}`,
        `${counts.length} ${entity}; median ${median}, max ${sorted[0] ?? 0} ${what} per ${single}` +
          (bins.zeros ? `; ${bins.zeros} with none (not shown)` : ''),
      ),
      xaxis: axis(`${what} per ${single} (logarithmic bins)`, { type: 'category' }),
      yaxis: axis(`number of ${entity}`),
      bargap: 0.05,
      height: 400,
    },
  };
}

// ---- genres and time ---------------------------------------------------------------------------------------

/** Counts per (year, genre), row-major `counts[y * genres.length + g]`, and the total per year. */
export interface GenreYearCounts {
  years: number[];
  genres: string[];
  counts: ArrayLike<number>;
  /** Denominator of the shares per year (e.g. all ratings that year). */
  totals: ArrayLike<number>;
}

export interface GenreTrendOptions {
  title?: string;
  /** The `top` genres with the most counts overall are visible; the others start hidden in the legend. */
  top?: number;
  /** Years whose total is below this are left out (shares of tiny years are noise). Default 1. */
  minTotal?: number;
  yTitle?: string;
  subtitle?: string;
}

/** One line per genre: its share (%) of each year's total. Genres ordered by overall count. */
export function genreTrendsFigure(table: GenreYearCounts, options: GenreTrendOptions = {}): PlotlyFigure {
  const g = table.genres.length;
  const overall = table.genres.map((_, j) => {
    let s = 0;
    for (let y = 0; y < table.years.length; y++) s += table.counts[y * g + j]!;
    return s;
  });
  const order = table.genres.map((_, j) => j).sort((a, b) => overall[b]! - overall[a]! || a - b);
  const top = options.top ?? 8;
  const minTotal = options.minTotal ?? 1;
  const rows = table.years.map((_, y) => y).filter((y) => table.totals[y]! >= minTotal);
  return {
    data: order.map((j, rank) => ({
      type: 'scatter',
      mode: 'lines+markers',
      name: table.genres[j]!,
      x: rows.map((y) => table.years[y]!),
      y: rows.map((y) => round((100 * table.counts[y * g + j]!) / table.totals[y]!, 3)),
      line: { color: CATEGORY_COLOURS[rank % CATEGORY_COLOURS.length] },
      visible: rank < top ? true : 'legendonly',
      hovertemplate: `${table.genres[j]} %{x}: %{y:.1f}%<extra></extra>`,
    })),
    layout: {
      title: titleWithSubtitle(options.title ?? 'Genres over time', options.subtitle),
      xaxis: axis('year'),
      yaxis: axis(options.yTitle ?? "% of the year's ratings"),
      legend: { title: { text: 'genre (click to show/hide)' } },
      height: 480,
    },
  };
}

export interface YearSeries {
  years: number[];
  counts: ArrayLike<number>;
  /** Mean rating per year (optional second axis). */
  meanRating?: ArrayLike<number>;
}

/** Ratings per calendar year (bars) and, when given, the year's mean rating (line, right axis). */
export function ratingsByYearFigure(series: YearSeries, title = 'Ratings by year'): PlotlyFigure {
  const data: PlotlyTrace[] = [
    {
      type: 'bar',
      name: 'ratings',
      x: series.years,
      y: Array.from(series.counts),
      hovertemplate: '%{x}: %{y} ratings<extra></extra>',
    },
  ];
  const layout: PlotlyLayout = {
    title: titleWithSubtitle(title, `${sumOf(series.counts)} ratings, ${series.years.length} years`),
    xaxis: axis('year of the rating'),
    yaxis: axis('number of ratings'),
    legend: { orientation: 'h', y: -0.2 },
    height: 420,
  };
  if (series.meanRating) {
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: 'mean rating',
      x: series.years,
      y: Array.from(series.meanRating, (v) => round(v, 4)),
      yaxis: 'y2',
      hovertemplate: '%{x}: mean %{y:.2f}<extra></extra>',
    });
    layout.yaxis2 = axis('mean rating', { overlaying: 'y', side: 'right', showgrid: false });
  }
  return { data, layout };
}

// ---- training and comparison -------------------------------------------------------------------------------

export interface CurveSeries {
  name: string;
  /** y values in order. */
  values: number[];
  /** x values (epochs / steps); default 1, 2, 3, … */
  steps?: number[];
  /** Run the series belongs to: series of one run share a colour and a legend group. */
  run?: string;
  /** e.g. "train" / "validation": series of one kind share a dash style. */
  kind?: string;
}

const DASHES = ['solid', 'dash', 'dot', 'dashdot', 'longdash'];

/**
 * Learning curves: one line per series over epochs. Several runs overlaid: give each series its `run` (colour)
 * and `kind` (train solid, validation dashed, …).
 */
export function learningCurveFigure(
  series: CurveSeries[],
  metric = 'RMSE',
  title = 'Learning curve',
): PlotlyFigure {
  const runs: string[] = [];
  const kinds: string[] = [];
  for (const s of series) {
    if (s.run !== undefined && !runs.includes(s.run)) runs.push(s.run);
    if (s.kind !== undefined && !kinds.includes(s.kind)) kinds.push(s.kind);
  }
  return {
    data: series.map((s, i) => {
      const trace: PlotlyTrace = {
        type: 'scatter',
        mode: 'lines+markers',
        name: s.name,
        x: s.steps ?? s.values.map((_, j) => j + 1),
        y: s.values,
      };
      const colourIndex = s.run !== undefined ? runs.indexOf(s.run) : i;
      trace.line = {
        color: CATEGORY_COLOURS[colourIndex % CATEGORY_COLOURS.length],
        dash: s.kind !== undefined ? DASHES[kinds.indexOf(s.kind) % DASHES.length] : 'solid',
      };
      if (s.run !== undefined) trace.legendgroup = s.run;
      return trace;
    }),
    layout: { title: { text: title }, xaxis: axis('epoch'), yaxis: axis(metric), height: 420 },
  };
}

/** One model (or configuration) on a leaderboard: a mean and, optionally, its confidence interval. */
export interface LeaderboardEntry {
  name: string;
  mean: number;
  lower?: number;
  upper?: number;
  /** Number of values behind the mean (users, folds, seeds), shown in the hover. */
  n?: number;
}

export interface LeaderboardOptions {
  metric: string;
  /** Best first: highest (default) or lowest (RMSE). */
  higherIsBetter?: boolean;
  title?: string;
  /** e.g. "95% CI over users" (default "error bars: 95% confidence interval"). */
  subtitle?: string;
}

/** Horizontal dot plot, best on top, with asymmetric error bars from each entry's interval. */
export function leaderboardFigure(entries: LeaderboardEntry[], options: LeaderboardOptions): PlotlyFigure {
  const higher = options.higherIsBetter ?? true;
  const sorted = entries.slice().sort((a, b) => (higher ? b.mean - a.mean : a.mean - b.mean));
  const hasCi = sorted.some((e) => e.lower !== undefined || e.upper !== undefined);
  const trace: PlotlyTrace = {
    type: 'scatter',
    mode: 'markers',
    name: options.metric,
    x: sorted.map((e) => e.mean),
    y: sorted.map((e) => e.name),
    marker: { size: 10 },
    customdata: sorted.map((e) => [e.lower ?? e.mean, e.upper ?? e.mean, e.n ?? null]),
    hovertemplate: `%{y}: ${options.metric} %{x:.4f} [%{customdata[0]:.4f}, %{customdata[1]:.4f}] n=%{customdata[2]}<extra></extra>`,
  };
  if (hasCi) {
    trace.error_x = {
      type: 'data',
      symmetric: false,
      array: sorted.map((e) => (e.upper ?? e.mean) - e.mean),
      arrayminus: sorted.map((e) => e.mean - (e.lower ?? e.mean)),
    };
  }
  return {
    data: [trace],
    layout: {
      title: titleWithSubtitle(
        options.title ?? `Leaderboard — ${options.metric}`,
        options.subtitle ?? (hasCi ? 'error bars: 95% confidence interval' : undefined),
      ),
      xaxis: axis(`${options.metric} (${higher ? 'higher' : 'lower'} is better)`),
      yaxis: axis('', { autorange: 'reversed', type: 'category' }),
      height: Math.max(300, 120 + 32 * sorted.length),
      margin: { l: 160 },
    },
  };
}

/** One evaluated configuration of a search. */
export interface SearchPoint {
  params: Record<string, number | string | boolean>;
  value: number;
  /** Run name / id shown in the hover. */
  label?: string;
}

function isNumericParam(points: SearchPoint[], param: string): boolean {
  return points.every((p) => typeof p.params[param] === 'number');
}

function spansDecades(values: number[]): boolean {
  const pos = values.filter((v) => v > 0);
  if (pos.length !== values.length || pos.length === 0) return false;
  return Math.max(...pos) / Math.min(...pos) >= 100;
}

export interface ParamMetricOptions {
  metric: string;
  title?: string;
  /** Another parameter: one trace (colour) per distinct value. */
  colourBy?: string;
  /** Log x axis: 'auto' (default) when a positive numeric parameter spans ≥ 2 decades. */
  logX?: boolean | 'auto';
}

/** Scatter of one parameter against the metric over a search's configurations. */
export function paramMetricFigure(
  points: SearchPoint[],
  param: string,
  options: ParamMetricOptions,
): PlotlyFigure {
  const numeric = isNumericParam(points, param);
  const xs = points.map((p) => p.params[param]);
  const logX =
    options.logX === 'auto' || options.logX === undefined
      ? numeric && spansDecades(xs as number[])
      : options.logX;
  const groups = new Map<string, SearchPoint[]>();
  for (const p of points) {
    const key = options.colourBy ? String(p.params[options.colourBy]) : options.metric;
    const list = groups.get(key) ?? [];
    list.push(p);
    groups.set(key, list);
  }
  const keys = [...groups.keys()];
  if (options.colourBy) keys.sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  return {
    data: keys.map((key, i) => {
      const list = groups.get(key)!;
      return {
        type: 'scatter',
        mode: 'markers',
        name: options.colourBy ? `${options.colourBy}=${key}` : options.metric,
        x: list.map((p) => (numeric ? p.params[param] : String(p.params[param]))),
        y: list.map((p) => p.value),
        text: list.map((p) => p.label ?? formatParams(p.params)),
        marker: { size: 9, color: CATEGORY_COLOURS[i % CATEGORY_COLOURS.length] },
        hovertemplate: `%{text}<br>${param}=%{x}<br>${options.metric}=%{y:.4f}<extra></extra>`,
      };
    }),
    layout: {
      title: { text: options.title ?? `${options.metric} vs ${param}` },
      xaxis: axis(
        logX ? `${param} (log)` : param,
        logX ? { type: 'log' } : numeric ? {} : { type: 'category' },
      ),
      yaxis: axis(options.metric),
      height: 420,
    },
  };
}

function formatParams(params: Record<string, number | string | boolean>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export interface ParallelOptions {
  metric: string;
  higherIsBetter?: boolean;
  title?: string;
}

/**
 * Parallel coordinates over a search: one axis per parameter (numeric parameters spanning ≥ 2 decades on a
 * log10 axis, labelled so; text parameters as coded axes with their values as tick labels) and the metric
 * last; lines coloured by the metric (best = yellow end of Viridis).
 */
export function parallelCoordinatesFigure(
  points: SearchPoint[],
  params: string[],
  options: ParallelOptions,
): PlotlyFigure {
  const dimensions = params.map((param) => {
    if (isNumericParam(points, param)) {
      const values = points.map((p) => p.params[param] as number);
      if (spansDecades(values)) return { label: `log10(${param})`, values: values.map((v) => Math.log10(v)) };
      return { label: param, values };
    }
    const text = points.map((p) => String(p.params[param]));
    const levels = [...new Set(text)].sort();
    return {
      label: param,
      values: text.map((t) => levels.indexOf(t)),
      tickvals: levels.map((_, i) => i),
      ticktext: levels,
    };
  });
  const metricValues = points.map((p) => p.value);
  dimensions.push({ label: options.metric, values: metricValues });
  return {
    data: [
      {
        type: 'parcoords',
        name: options.metric,
        dimensions,
        line: {
          color: metricValues,
          colorscale: 'Viridis',
          reversescale: options.higherIsBetter === false,
          showscale: true,
          colorbar: { title: { text: options.metric } },
        },
      },
    ],
    layout: { title: { text: options.title ?? `Search — ${options.metric}` }, height: 460 },
  };
}

export interface BarOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  subtitle?: string;
  /** Horizontal bars (labels on the y axis, first label on top). */
  horizontal?: boolean;
}

/** Bars of named values (one or more series over the same labels). */
export function barFigure(
  labels: string[],
  series: Array<{ name: string; values: ArrayLike<number> }>,
  options: BarOptions = {},
): PlotlyFigure {
  for (const s of series)
    if (s.values.length !== labels.length)
      throw new RangeError(`series "${s.name}" has ${s.values.length} values for ${labels.length} labels`);
  const h = options.horizontal ?? false;
  return {
    data: series.map((s, i) => ({
      type: 'bar',
      name: s.name,
      orientation: h ? 'h' : 'v',
      x: h ? Array.from(s.values) : labels,
      y: h ? labels : Array.from(s.values),
      marker: { color: CATEGORY_COLOURS[i % CATEGORY_COLOURS.length] },
    })),
    layout: {
      title: titleWithSubtitle(options.title ?? '', options.subtitle),
      barmode: 'group',
      xaxis: axis(h ? (options.yTitle ?? '') : (options.xTitle ?? ''), h ? {} : { type: 'category' }),
      yaxis: axis(
        h ? (options.xTitle ?? '') : (options.yTitle ?? ''),
        h ? { autorange: 'reversed', type: 'category' } : {},
      ),
      height: h ? Math.max(320, 120 + 24 * labels.length) : 420,
    },
  };
}

// ---- similarity and distributions --------------------------------------------------------------------------

export interface HeatmapOptions {
  title?: string;
  /** Colour range (default -1 … 1, centred on 0, for cosine similarities). */
  zmin?: number;
  zmax?: number;
  subtitle?: string;
}

/** Heatmap of an n × n matrix (row-major, or rows of numbers) with the same labels on both axes. */
export function similarityHeatmapFigure(
  matrix: ArrayLike<number> | number[][],
  labels: string[],
  options: HeatmapOptions = {},
): PlotlyFigure {
  const n = labels.length;
  let z: number[][];
  if (Array.isArray(matrix) && Array.isArray(matrix[0])) z = (matrix as number[][]).map((r) => r.slice());
  else {
    const flat = matrix as ArrayLike<number>;
    if (flat.length !== n * n) throw new RangeError(`matrix has ${flat.length} values, expected ${n}×${n}`);
    z = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => round(flat[i * n + j]!, 4)));
  }
  return {
    data: [
      {
        type: 'heatmap',
        name: 'similarity',
        z,
        x: labels,
        y: labels,
        zmin: options.zmin ?? -1,
        zmax: options.zmax ?? 1,
        zmid: (options.zmin ?? -1) < 0 ? 0 : undefined,
        colorscale: 'RdBu',
        reversescale: true,
        hovertemplate: '%{y}<br>%{x}<br>%{z:.3f}<extra></extra>',
      },
    ],
    layout: {
      title: titleWithSubtitle(options.title ?? 'Similarity', options.subtitle),
      xaxis: { tickangle: -40, automargin: true },
      yaxis: { autorange: 'reversed', automargin: true },
      height: Math.max(420, 200 + 22 * n),
    },
  };
}

export interface HistogramSeries {
  name: string;
  values: ArrayLike<number>;
}

export interface HistogramOptions {
  title?: string;
  xTitle?: string;
  bins?: number;
  /** Log-scaled count axis. */
  logY?: boolean;
  /** Normalise each series to percentages (compare shapes of series of different sizes). */
  percent?: boolean;
}

/** Equal-width histogram bins shared by all series, from the overall min to max. */
export function histogramBins(
  series: HistogramSeries[],
  bins: number,
): { edges: number[]; counts: number[][] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series)
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (!Number.isFinite(lo)) return { edges: [], counts: series.map(() => []) };
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, b) => lo + b * width);
  const counts = series.map((s) => {
    const c = new Array<number>(bins).fill(0);
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i]!;
      if (!Number.isFinite(v)) continue;
      c[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
    }
    return c;
  });
  return { edges, counts };
}

/** Overlaid histograms of one or more series over shared bins. */
export function histogramFigure(series: HistogramSeries[], options: HistogramOptions = {}): PlotlyFigure {
  const { edges, counts } = histogramBins(series, options.bins ?? 40);
  const centres = edges.slice(0, -1).map((e, b) => round((e + edges[b + 1]!) / 2, 6));
  const width = edges.length > 1 ? edges[1]! - edges[0]! : 1;
  return {
    data: series.map((s, i) => {
      const total = counts[i]!.reduce((a, b) => a + b, 0);
      const y = options.percent
        ? counts[i]!.map((c) => round((100 * c) / Math.max(1, total), 4))
        : counts[i]!;
      return {
        type: 'bar',
        name: s.name,
        x: centres,
        y,
        width,
        opacity: series.length > 1 ? 0.6 : 1,
        marker: { color: CATEGORY_COLOURS[i % CATEGORY_COLOURS.length] },
      };
    }),
    layout: {
      title: { text: options.title ?? 'Histogram' },
      barmode: 'overlay',
      xaxis: axis(options.xTitle ?? 'value'),
      yaxis: axis(options.percent ? '% of values' : 'count', options.logY ? { type: 'log' } : {}),
      height: 400,
    },
  };
}

export interface ScatterOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  logX?: boolean;
  logY?: boolean;
  subtitle?: string;
}

/** A plain scatter of (x, y) points with optional hover labels. */
export function scatterFigure(
  points: { x: ArrayLike<number>; y: ArrayLike<number>; text?: string[]; name?: string },
  options: ScatterOptions = {},
): PlotlyFigure {
  const n = points.x.length;
  return {
    data: [
      {
        type: n > 5000 ? 'scattergl' : 'scatter',
        mode: 'markers',
        name: points.name ?? 'points',
        x: Array.from(points.x),
        y: Array.from(points.y),
        text: points.text,
        marker: { size: 5, opacity: 0.6 },
        hovertemplate: `${points.text ? '%{text}<br>' : ''}%{x}, %{y}<extra></extra>`,
      },
    ],
    layout: {
      title: titleWithSubtitle(options.title ?? 'Scatter', options.subtitle),
      xaxis: axis(options.xTitle ?? 'x', options.logX ? { type: 'log' } : {}),
      yaxis: axis(options.yTitle ?? 'y', options.logY ? { type: 'log' } : {}),
      height: 440,
    },
  };
}

// ---- embedding maps ----------------------------------------------------------------------------------------

/** Points of a 2-D map (UMAP output), one per item or user. */
export interface EmbeddingPoints {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Colour group of each point (e.g. main genre). */
  group: string[];
  /** Popularity / activity of each point: marker area grows with it (sqrt scale). */
  size: ArrayLike<number>;
  /** Hover text of each point (HTML allowed: title, year, genres). */
  hover: string[];
  /** External id of each point (movieId / userId), kept as customdata. */
  ids?: ArrayLike<number>;
}

export interface EmbeddingMapOptions {
  title?: string;
  /** Second title line: say how points were chosen (e.g. "the 3000 most-rated movies of 9724"). */
  subtitle?: string;
  /** Legend title (default "main genre"). */
  legendTitle?: string;
  /** Marker diameters in px for the smallest and largest `size` (default 4 … 18). */
  minSize?: number;
  maxSize?: number;
}

/**
 * The embedding map: one scatter trace per group (legend = groups, largest group first), marker size growing
 * with popularity, hover with each point's text. Uses WebGL (`scattergl`) beyond 5000 points.
 */
export function embeddingMapFigure(points: EmbeddingPoints, options: EmbeddingMapOptions = {}): PlotlyFigure {
  const n = points.x.length;
  if (
    points.y.length !== n ||
    points.group.length !== n ||
    points.size.length !== n ||
    points.hover.length !== n
  )
    throw new RangeError('embeddingMapFigure: x, y, group, size and hover must have the same length');
  let maxPop = 0;
  for (let i = 0; i < n; i++) if (points.size[i]! > maxPop) maxPop = points.size[i]!;
  const lo = options.minSize ?? 4;
  const hi = options.maxSize ?? 18;
  const members = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const list = members.get(points.group[i]!) ?? [];
    list.push(i);
    members.set(points.group[i]!, list);
  }
  const groups = [...members.keys()].sort(
    (a, b) => members.get(b)!.length - members.get(a)!.length || a.localeCompare(b),
  );
  const type = n > 5000 ? 'scattergl' : 'scatter';
  return {
    data: groups.map((group, gi) => {
      const idx = members.get(group)!;
      return {
        type,
        mode: 'markers',
        name: `${group} (${idx.length})`,
        x: idx.map((i) => round(points.x[i]!, 4)),
        y: idx.map((i) => round(points.y[i]!, 4)),
        text: idx.map((i) => points.hover[i]!),
        customdata: points.ids ? idx.map((i) => points.ids![i]!) : undefined,
        hovertemplate: '%{text}<extra></extra>',
        marker: {
          color: CATEGORY_COLOURS[gi % CATEGORY_COLOURS.length],
          size: idx.map((i) =>
            round(lo + (hi - lo) * Math.sqrt(maxPop > 0 ? points.size[i]! / maxPop : 0), 2),
          ),
          opacity: 0.75,
          line: { width: 0 },
        },
      };
    }),
    layout: {
      title: titleWithSubtitle(options.title ?? 'Embedding map', options.subtitle),
      xaxis: axis('UMAP 1', { showticklabels: false, zeroline: false }),
      yaxis: axis('UMAP 2', { showticklabels: false, zeroline: false }),
      legend: { title: { text: options.legendTitle ?? 'main genre' }, itemsizing: 'constant' },
      hovermode: 'closest',
      height: 720,
    },
  };
}

/** A horizontal bar chart of the top features by gain (Plotly spec for notebooks and reports). */
export function importanceFigure(
  importance: readonly FeatureImportance[],
  top = 20,
  title = 'GBDT feature importance (gain)',
): PlotlyFigure {
  const rows = importance.slice(0, top).reverse();
  const total = importance.reduce((s, r) => s + r.gain, 0) || 1;
  return {
    data: [
      {
        type: 'bar',
        orientation: 'h',
        x: rows.map((r) => r.gain / total),
        y: rows.map((r) => r.name),
        text: rows.map((r) => `${r.splits} splits`),
        hovertemplate: '%{y}: %{x:.1%} of gain (%{text})<extra></extra>',
      },
    ],
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'share of total gain' }, tickformat: '.0%' },
      margin: { l: 160 },
    },
  };
}
