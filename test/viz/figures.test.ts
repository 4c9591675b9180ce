import { describe, expect, it } from 'vitest';
import {
  activityHistogramFigure,
  barFigure,
  CATEGORY_COLOURS,
  embeddingMapFigure,
  genreTrendsFigure,
  histogramBins,
  histogramFigure,
  leaderboardFigure,
  learningCurveFigure,
  logBinnedCounts,
  longTailFigure,
  longTailShares,
  type PlotlyTrace,
  parallelCoordinatesFigure,
  paramMetricFigure,
  ratingDistributionFigure,
  ratingsByYearFigure,
  scatterFigure,
  similarityHeatmapFigure,
} from '../../lib/viz/figures';
import { tinyDataset } from './fixture';

const axisTitle = (layout: Record<string, unknown> | undefined, name: string) =>
  ((layout?.[name] as { title?: { text?: string } } | undefined)?.title?.text ?? null) as string | null;

describe('rating distribution', () => {
  it('counts each rating value of the tiny dataset', () => {
    const { ratings } = tinyDataset();
    const fig = ratingDistributionFigure(ratings.ratings, 'tiny');
    expect(fig.data).toHaveLength(1);
    const bar = fig.data[0]!;
    expect(bar.type).toBe('bar');
    expect(bar.x).toEqual([0.5, 2, 3.5, 4, 5]);
    expect(bar.y).toEqual([1, 1, 1, 3, 1]);
    // shares in the hover: 3 of 7 ratings are 4.0
    expect((bar.customdata as number[])[3]).toBeCloseTo(42.86, 2);
    expect(axisTitle(fig.layout, 'xaxis')).toBe('rating');
    expect(axisTitle(fig.layout, 'yaxis')).toBe('number of ratings');
    expect(fig.layout?.title?.text).toContain('7 ratings');
  });

  it('takes precomputed value counts too', () => {
    const fig = ratingDistributionFigure({ values: [1, 2], counts: [5, 7] });
    expect(fig.data[0]!.y).toEqual([5, 7]);
    expect((fig.layout!.xaxis as { dtick?: number }).dtick).toBe(1);
  });
});

describe('long tail', () => {
  it('sorts counts, reports top-x% shares and plots both panels', () => {
    const { ratings } = tinyDataset();
    const counts = ratings.itemCounts(); // movies 1..4: 3, 1, 2, 1
    expect(Array.from(counts)).toEqual([3, 1, 2, 1]);
    const shares = longTailShares(counts, [0.25, 0.5, 1]);
    expect(shares.map((s) => s.items)).toEqual([1, 2, 4]);
    expect(shares[0]!.share).toBeCloseTo(3 / 7, 12);
    expect(shares[1]!.share).toBeCloseTo(5 / 7, 12);
    expect(shares[2]!.share).toBe(1);

    const fig = longTailFigure(counts, { marks: [0.25, 0.5], entity: 'movies' });
    const [curve, cumulative, marks] = fig.data as [PlotlyTrace, PlotlyTrace, PlotlyTrace];
    expect(curve.x).toEqual([1, 2, 3, 4]);
    expect(curve.y).toEqual([3, 2, 1, 1]);
    expect(cumulative.x).toEqual([25, 50, 75, 100]);
    expect((cumulative.y as number[]).map((v) => Math.round(v * 100) / 100)).toEqual([
      42.86, 71.43, 85.71, 100,
    ]);
    expect(cumulative.xaxis).toBe('x2');
    expect(marks.text).toEqual(['top 25% → 42.9%', 'top 50% → 71.4%']);
    expect((fig.layout!.yaxis as { type?: string }).type).toBe('log');
    expect(axisTitle(fig.layout, 'xaxis2')).toBe('% of movies (most rated first)');
    expect(axisTitle(fig.layout, 'yaxis2')).toBe('% of ratings covered');
  });

  it('thins long curves but keeps first and last rank', () => {
    const counts = Int32Array.from({ length: 10_000 }, (_, i) => 10_000 - i);
    const fig = longTailFigure(counts, { maxPoints: 100 });
    const x = fig.data[0]!.x as number[];
    expect(x.length).toBeLessThanOrEqual(100);
    expect(x[0]).toBe(1);
    expect(x[x.length - 1]).toBe(10_000);
  });
});

describe('activity histogram over log bins', () => {
  it('bins integer counts by hand-computed edges', () => {
    // 2 bins per decade: edges 1, 4 (⌈3.16⌉), 10, 32 (⌈31.6⌉), 100, 317
    const bins = logBinnedCounts([1, 5, 10, 20, 25, 100, 0], 2);
    expect(bins.lower).toEqual([1, 4, 10, 32, 100]);
    expect(bins.upper).toEqual([3, 9, 31, 99, 316]);
    expect(bins.counts).toEqual([1, 1, 3, 0, 1]);
    expect(bins.zeros).toBe(1);
    // leading empty bins are dropped
    expect(logBinnedCounts([20, 30], 5)).toMatchObject({ lower: [16, 26], upper: [25, 39], counts: [1, 1] });
  });

  it('labels bars with their integer ranges', () => {
    const { ratings } = tinyDataset();
    const fig = activityHistogramFigure(ratings.userCounts(), { binsPerDecade: 5 });
    // user counts 3, 2, 2; edges 1, 2, 3, 4 → bins [1], [2], [3]; the empty first bin is dropped
    expect(fig.data[0]!.x).toEqual(['2', '3']);
    expect(fig.data[0]!.y).toEqual([2, 1]);
    expect(axisTitle(fig.layout, 'xaxis')).toBe('ratings per user (logarithmic bins)');
    expect(axisTitle(fig.layout, 'yaxis')).toBe('number of users');
    expect(fig.layout?.title?.text).toContain('median 2, max 3');
  });
});

describe('genre trends and ratings by year', () => {
  it('plots each genre as a share of the year total, largest genres visible', () => {
    const fig = genreTrendsFigure(
      { years: [2000, 2001], genres: ['A', 'B', 'C'], counts: [1, 2, 0, 3, 1, 4], totals: [4, 8] },
      { top: 2 },
    );
    // overall: A 4, B 3, C 4 → order A, C (tie → lower index first), B
    expect(fig.data.map((t) => t.name)).toEqual(['A', 'C', 'B']);
    expect(fig.data[0]!.y).toEqual([25, 37.5]);
    expect(fig.data[1]!.y).toEqual([0, 50]);
    expect(fig.data[2]!.y).toEqual([50, 12.5]);
    expect(fig.data.map((t) => t.visible)).toEqual([true, true, 'legendonly']);
    expect(axisTitle(fig.layout, 'yaxis')).toBe("% of the year's ratings");
  });

  it('drops years below minTotal', () => {
    const fig = genreTrendsFigure(
      { years: [2000, 2001], genres: ['A'], counts: [1, 5], totals: [1, 10] },
      { minTotal: 5 },
    );
    expect(fig.data[0]!.x).toEqual([2001]);
  });

  it('ratings by year: bars of counts and the mean on a second axis', () => {
    const fig = ratingsByYearFigure({ years: [1999, 2000], counts: [1, 2], meanRating: [0.5, 3.75] });
    expect(fig.data.map((t) => t.type)).toEqual(['bar', 'scatter']);
    expect(fig.data[0]!.y).toEqual([1, 2]);
    expect(fig.data[1]!.y).toEqual([0.5, 3.75]);
    expect(fig.data[1]!.yaxis).toBe('y2');
    expect(axisTitle(fig.layout, 'yaxis2')).toBe('mean rating');
  });
});

describe('learning curves', () => {
  it('overlays runs: colour per run, dash per kind, default x = epochs', () => {
    const fig = learningCurveFigure(
      [
        { name: 'a train', values: [3, 2, 1], run: 'a', kind: 'train' },
        { name: 'a val', values: [3.5, 2.5, 2], run: 'a', kind: 'validation' },
        { name: 'b train', values: [4, 3], steps: [2, 4], run: 'b', kind: 'train' },
      ],
      'RMSE',
    );
    expect(fig.data).toHaveLength(3);
    expect(fig.data[0]!.x).toEqual([1, 2, 3]);
    expect(fig.data[2]!.x).toEqual([2, 4]);
    const lines = fig.data.map((t) => t.line as { color: string; dash: string });
    expect(lines[0]!.color).toBe(lines[1]!.color);
    expect(lines[2]!.color).not.toBe(lines[0]!.color);
    expect(lines.map((l) => l.dash)).toEqual(['solid', 'dash', 'solid']);
    expect(axisTitle(fig.layout, 'xaxis')).toBe('epoch');
    expect(axisTitle(fig.layout, 'yaxis')).toBe('RMSE');
  });
});

describe('leaderboard', () => {
  it('orders best first and turns intervals into asymmetric error bars', () => {
    const fig = leaderboardFigure(
      [
        { name: 'svd', mean: 0.9, lower: 0.88, upper: 0.93 },
        { name: 'baseline', mean: 0.95, lower: 0.94, upper: 0.96 },
        { name: 'knn', mean: 0.92 },
      ],
      { metric: 'RMSE', higherIsBetter: false },
    );
    const t = fig.data[0]!;
    expect(t.y).toEqual(['svd', 'knn', 'baseline']);
    const err = t.error_x as { array: number[]; arrayminus: number[]; symmetric: boolean };
    expect(err.symmetric).toBe(false);
    expect(err.array.map((v) => Math.round(v * 1000) / 1000)).toEqual([0.03, 0, 0.01]);
    expect(err.arrayminus.map((v) => Math.round(v * 1000) / 1000)).toEqual([0.02, 0, 0.01]);
    expect(axisTitle(fig.layout, 'xaxis')).toBe('RMSE (lower is better)');
  });
});

describe('search plots', () => {
  const points = [
    { params: { lr: 0.001, model: 'svd', k: 10 }, value: 0.9 },
    { params: { lr: 0.01, model: 'svd', k: 20 }, value: 0.88 },
    { params: { lr: 0.1, model: 'svdpp', k: 10 }, value: 0.95 },
  ];

  it('parameter vs metric: log axis for wide numeric ranges, one trace per colour group', () => {
    const fig = paramMetricFigure(points, 'lr', { metric: 'rmse', colourBy: 'model' });
    expect((fig.layout!.xaxis as { type?: string }).type).toBe('log');
    expect(fig.data.map((t) => t.name)).toEqual(['model=svd', 'model=svdpp']);
    expect(fig.data[0]!.x).toEqual([0.001, 0.01]);
    expect(fig.data[0]!.y).toEqual([0.9, 0.88]);
    const linear = paramMetricFigure(points, 'k', { metric: 'rmse' });
    expect((linear.layout!.xaxis as { type?: string }).type).toBeUndefined();
    expect(axisTitle(linear.layout, 'xaxis')).toBe('k');
  });

  it('parallel coordinates: log10 for wide ranges, coded text axes, metric last', () => {
    const fig = parallelCoordinatesFigure(points, ['lr', 'model', 'k'], {
      metric: 'rmse',
      higherIsBetter: false,
    });
    const dims = fig.data[0]!.dimensions as Array<{
      label: string;
      values: number[];
      ticktext?: string[];
    }>;
    expect(dims.map((d) => d.label)).toEqual(['log10(lr)', 'model', 'k', 'rmse']);
    expect(dims[0]!.values.map((v) => Math.round(v))).toEqual([-3, -2, -1]);
    expect(dims[1]!.values).toEqual([0, 0, 1]);
    expect(dims[1]!.ticktext).toEqual(['svd', 'svdpp']);
    expect(dims[3]!.values).toEqual([0.9, 0.88, 0.95]);
    expect((fig.data[0]!.line as { reversescale: boolean }).reversescale).toBe(true);
  });
});

describe('similarity heatmap, histograms, bars, scatter', () => {
  it('heatmap from a flat matrix with labels on both axes', () => {
    const fig = similarityHeatmapFigure([1, 0.5, 0.5, 1], ['a', 'b']);
    expect(fig.data[0]!.type).toBe('heatmap');
    expect(fig.data[0]!.z).toEqual([
      [1, 0.5],
      [0.5, 1],
    ]);
    expect(fig.data[0]!.x).toEqual(['a', 'b']);
    expect(() => similarityHeatmapFigure([1, 2, 3], ['a', 'b'])).toThrow(/expected 2×2/);
  });

  it('histogram bins are shared by all series and counted by hand', () => {
    const { edges, counts } = histogramBins(
      [
        { name: 'a', values: [0, 1, 2, 3, 4] },
        { name: 'b', values: [4, 4, Number.NaN] },
      ],
      2,
    );
    expect(edges).toEqual([0, 2, 4]);
    expect(counts).toEqual([
      [2, 3],
      [0, 2],
    ]);
    const fig = histogramFigure([{ name: 'a', values: [0, 1, 2, 3, 4] }], {
      bins: 2,
      percent: true,
      xTitle: 'v',
    });
    expect(fig.data[0]!.x).toEqual([1, 3]);
    expect(fig.data[0]!.y).toEqual([40, 60]);
    expect(axisTitle(fig.layout, 'yaxis')).toBe('% of values');
  });

  it('bars, horizontal or not', () => {
    const fig = barFigure(['x', 'y'], [{ name: 's', values: [1, 2] }], { horizontal: true, xTitle: 'n' });
    expect(fig.data[0]!.orientation).toBe('h');
    expect(fig.data[0]!.y).toEqual(['x', 'y']);
    expect(fig.data[0]!.x).toEqual([1, 2]);
    expect(() => barFigure(['x'], [{ name: 's', values: [1, 2] }])).toThrow(/2 values for 1 labels/);
  });

  it('scatter switches to WebGL for many points', () => {
    expect(scatterFigure({ x: [1, 2], y: [3, 4] }).data[0]!.type).toBe('scatter');
    const many = Float32Array.from({ length: 6000 }, (_, i) => i);
    expect(scatterFigure({ x: many, y: many }).data[0]!.type).toBe('scattergl');
  });
});

describe('embedding map', () => {
  it('one trace per group, largest first, sizes by sqrt of popularity', () => {
    const fig = embeddingMapFigure(
      {
        x: [0, 1, 2, 3],
        y: [0, 1, 0, 1],
        group: ['Horror', 'Comedy', 'Comedy', 'Drama'],
        size: [100, 25, 0, 100],
        hover: ['a', 'b', 'c', 'd'],
        ids: [11, 12, 13, 14],
      },
      { title: 'map', subtitle: 'the 4 most-rated', minSize: 4, maxSize: 14 },
    );
    expect(fig.data.map((t) => t.name)).toEqual(['Comedy (2)', 'Drama (1)', 'Horror (1)']);
    const comedy = fig.data[0]!;
    expect(comedy.x).toEqual([1, 2]);
    expect(comedy.customdata).toEqual([12, 13]);
    expect((comedy.marker as { size: number[] }).size).toEqual([9, 4]); // 4 + 10·√(25/100), 4 + 0
    expect((comedy.marker as { color: string }).color).toBe(CATEGORY_COLOURS[0]);
    expect(fig.layout?.title?.text).toBe('map<br><sup>the 4 most-rated</sup>');
    expect(() => embeddingMapFigure({ x: [0], y: [0, 1], group: ['a'], size: [1], hover: ['a'] })).toThrow(
      /same length/,
    );
  });
});
