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

function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: { text: title }, ...extra };
}

/** Bar chart of how often each rating value occurs. */
export function ratingDistributionFigure(ratings: Float32Array, title = 'Rating distribution'): PlotlyFigure {
  const counts = new Map<number, number>();
  for (let k = 0; k < ratings.length; k++) counts.set(ratings[k]!, (counts.get(ratings[k]!) ?? 0) + 1);
  const values = [...counts.keys()].sort((a, b) => a - b);
  return {
    data: [{ type: 'bar', name: 'ratings', x: values, y: values.map((v) => counts.get(v)!) }],
    layout: {
      title: { text: title },
      xaxis: axis('rating', { dtick: values.length > 5 ? 0.5 : 1 }),
      yaxis: axis('count'),
      height: 400,
    },
  };
}

export interface CurveSeries {
  name: string;
  /** y values by epoch (1-based x). */
  values: number[];
}

/** Learning curves: one line per series over epochs (train/validation of one or several runs). */
export function learningCurveFigure(
  series: CurveSeries[],
  metric = 'RMSE',
  title = 'Learning curve',
): PlotlyFigure {
  return {
    data: series.map((s) => ({
      type: 'scatter',
      mode: 'lines+markers',
      name: s.name,
      x: s.values.map((_, i) => i + 1),
      y: s.values,
    })),
    layout: { title: { text: title }, xaxis: axis('epoch'), yaxis: axis(metric), height: 420 },
  };
}
