import { describe, expect, it } from 'vitest';
import { Rng } from '../../lib/util/rng';
import {
  defaultUmapEpochs,
  exactNeighbours,
  interleave2d,
  labelAgreement,
  randomPairingRate,
  umapLayout,
} from '../../lib/viz/umap';

/** `perCluster` points around each of `centres` in `dim` dimensions (seeded Gaussian noise). */
function clusters(perCluster: number, dim: number, seed: number): { data: Float32Array; labels: string[] } {
  const rng = new Rng(seed);
  const centres = [0, 1, 2].map(() => Float32Array.from({ length: dim }, () => rng.normal() * 5));
  const n = perCluster * centres.length;
  const data = new Float32Array(n * dim);
  const labels: string[] = [];
  for (let p = 0; p < n; p++) {
    const c = p % centres.length;
    labels.push(`c${c}`);
    for (let f = 0; f < dim; f++) data[p * dim + f] = centres[c]![f]! + rng.normal() * 0.5;
  }
  return { data, labels };
}

describe('exact neighbours', () => {
  it('euclidean kNN by hand, self first', () => {
    const pts = Float32Array.from([0, 0, 1, 0, 0, 2, 5, 5]);
    const g = exactNeighbours(pts, 4, 2, 2, 'euclidean');
    expect(Array.from(g.indices)).toEqual([0, 1, 1, 0, 2, 0, 3, 2]);
    expect(Array.from(g.distances).map((d) => Math.round(d * 1e4) / 1e4)).toEqual([
      0, 1, 0, 1, 0, 2, 0, 5.831,
    ]);
  });

  it('cosine kNN: direction, not length; ties to the lower index', () => {
    const pts = Float32Array.from([1, 0, 2, 0, 0, 1, 1, 1]);
    const g = exactNeighbours(pts, 4, 2, 3, 'cosine');
    expect(Array.from(g.indices.subarray(0, 3))).toEqual([0, 1, 3]);
    expect(g.distances[1]).toBeCloseTo(0, 6);
    expect(g.distances[2]).toBeCloseTo(1 - Math.SQRT1_2, 6);
    // the row of point 3: itself, then points 0 and 1 tie with point 2 at 1 − 1/√2 → lower indices win
    expect(Array.from(g.indices.subarray(9, 12))).toEqual([3, 0, 1]);
  });

  it('rejects a neighbour count larger than the data', () => {
    expect(() => exactNeighbours(new Float32Array(4), 2, 2, 3, 'cosine')).toThrow(/nNeighbors/);
  });
});

describe('label agreement', () => {
  it('random pairing rate by hand', () => {
    // labels a a b: pairs (a,a) 2 of 6 ordered pairs
    expect(randomPairingRate(['a', 'a', 'b'])).toBeCloseTo(1 / 3, 12);
  });

  it('same-label rate among nearest neighbours by hand', () => {
    // points on a line: 0 1 2 | 10 11; labels x x y | y y; k = 1
    const pts = Float32Array.from([0, 1, 2, 10, 11]);
    const a = labelAgreement(pts, 5, 1, ['x', 'x', 'y', 'y', 'y'], 1);
    // nearest: 0→1 (x,x ✓), 1→0 (✓), 2→1 (y,x ✗), 10→11 (✓), 11→10 (✓)
    expect(a.rate).toBeCloseTo(4 / 5, 12);
    expect(a.randomRate).toBeCloseTo((2 * 1 + 3 * 2) / 20, 12);
    expect(a.byLabel.map((l) => [l.label, l.points, l.rate])).toEqual([
      ['y', 3, 2 / 3],
      ['x', 2, 1],
    ]);
  });
});

describe('UMAP layout', () => {
  const { data, labels } = clusters(40, 8, 3);
  const n = labels.length;

  it('is deterministic for a seed and separates well-separated clusters', async () => {
    const options = { seed: 7, nEpochs: 120, progress: 'none' as const, metric: 'euclidean' as const };
    const a = await umapLayout(data, n, 8, options);
    const b = await umapLayout(data, n, 8, options);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.y)).toEqual(Array.from(b.y));
    expect(a.epochs).toBe(120);
    const other = await umapLayout(data, n, 8, { ...options, seed: 8 });
    expect(Array.from(other.x)).not.toEqual(Array.from(a.x));
    const agree = labelAgreement(interleave2d(a.x, a.y), n, 2, labels, 10);
    expect(agree.randomRate).toBeCloseTo(39 / 119, 12);
    expect(agree.rate).toBeGreaterThan(0.95);
  });

  it('refuses non-finite input and too few points', async () => {
    const bad = new Float32Array(data);
    bad[5] = Number.NaN;
    await expect(umapLayout(bad, n, 8, { progress: 'none' })).rejects.toThrow(/row 0.*not finite/);
    await expect(umapLayout(new Float32Array(20), 10, 2, { progress: 'none' })).rejects.toThrow(
      /more points/,
    );
  });

  it("umap-js's epoch rule", () => {
    expect([100, 2500, 2501, 5001, 7501].map(defaultUmapEpochs)).toEqual([500, 500, 400, 300, 200]);
  });
});
