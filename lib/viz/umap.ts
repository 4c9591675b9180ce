/**
 * 2-D UMAP layouts of embeddings (item or user factors) with umap-js, made deterministic: the nearest
 * neighbours are computed exactly here (typed arrays, cosine or euclidean) and handed to umap-js, and every
 * random choice of its layout goes through our seeded `Rng`. Progress is shown for both phases.
 */
import { UMAP } from 'umap-js';
import { topK } from '../compute/topk';
import { ConfigError, throwIfAborted } from '../util/errors';
import { type ProgressOutput, progress } from '../util/progress';
import { Rng } from '../util/rng';

export type UmapMetric = 'cosine' | 'euclidean';

export interface UmapOptions {
  /** Seed of the layout (default 42); the same seed gives the same layout. */
  seed?: number;
  /** Neighbours per point in the fuzzy graph (default 15). */
  nNeighbors?: number;
  /** Minimum distance between embedded points (default 0.1). */
  minDist?: number;
  spread?: number;
  /** Layout epochs (default: umap-js's rule — 500 up to 2500 points, 400 up to 5000, 300 up to 7500, else 200). */
  nEpochs?: number;
  /** Distance in the input space (default cosine: factor directions, not norms, carry similarity). */
  metric?: UmapMetric;
  /** Where progress goes (default 'auto': notebook display or stderr); 'none' hides it. */
  progress?: ProgressOutput;
  /** Label of the progress bars (default "UMAP"). */
  label?: string;
  signal?: AbortSignal;
}

export interface UmapLayout {
  /** Coordinates of row r: (x[r], y[r]). */
  x: Float32Array;
  y: Float32Array;
  epochs: number;
  nNeighbors: number;
  metric: UmapMetric;
  seed: number;
  seconds: number;
}

/** Exact k nearest neighbours of every row (the row itself first, at distance 0). */
export interface NeighbourGraph {
  k: number;
  /** rows × k, row-major. */
  indices: Int32Array;
  distances: Float32Array;
}

/** umap-js's default number of layout epochs for `n` points. */
export function defaultUmapEpochs(n: number): number {
  return n <= 2500 ? 500 : n <= 5000 ? 400 : n <= 7500 ? 300 : 200;
}

/**
 * Exact kNN over rows of `data` (rows × dim, row-major). Cosine distance is 1 − cos (zero rows are at
 * distance 1 from everything); euclidean is the plain L2 distance. Ties go to the lower row index, so the
 * result is deterministic. `onRow` is called after each block of rows (for progress).
 */
export function exactNeighbours(
  data: Float32Array,
  rows: number,
  dim: number,
  k: number,
  metric: UmapMetric,
  onRows?: (done: number) => void,
): NeighbourGraph {
  if (data.length !== rows * dim)
    throw new RangeError(`data has ${data.length} values, expected ${rows}×${dim}`);
  if (!(Number.isInteger(k) && k >= 1 && k <= rows))
    throw new ConfigError('nNeighbors', `must be an integer in 1..${rows}, got ${k}`);
  const x = new Float32Array(data);
  const norms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let f = 0; f < dim; f++) s += x[r * dim + f]! * x[r * dim + f]!;
    norms[r] = s;
    if (metric === 'cosine' && s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let f = 0; f < dim; f++) x[r * dim + f]! *= inv;
      norms[r] = 1;
    }
  }
  const indices = new Int32Array(rows * k);
  const distances = new Float32Array(rows * k);
  const scores = new Float32Array(rows);
  const into = { items: new Int32Array(k), scores: new Float32Array(k) };
  for (let i = 0; i < rows; i++) {
    const ib = i * dim;
    for (let j = 0; j < rows; j++) {
      const jb = j * dim;
      let dot = 0;
      for (let f = 0; f < dim; f++) dot += x[ib + f]! * x[jb + f]!;
      // Larger score = closer: cosine similarity, or −‖xi − xj‖² (written as 2·dot − ‖xj‖², ‖xi‖² is constant).
      scores[j] = metric === 'cosine' ? dot : 2 * dot - norms[j]!;
    }
    scores[i] = 3e38; // self first whatever duplicates exist (finite in float32, which topK requires)
    const top = topK(scores, k, undefined, 1, into);
    for (let p = 0; p < k; p++) {
      const j = top.items[p]!;
      indices[i * k + p] = j;
      let d: number;
      if (j === i) d = 0;
      else if (metric === 'cosine') d = norms[i]! > 0 && norms[j]! > 0 ? Math.max(0, 1 - top.scores[p]!) : 1;
      else d = Math.sqrt(Math.max(0, norms[i]! - top.scores[p]!));
      distances[i * k + p] = d;
    }
    if (onRows && ((i + 1) % 64 === 0 || i + 1 === rows)) onRows(i + 1);
  }
  return { k, indices, distances };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Lays rows of `data` (rows × dim) out in 2-D with UMAP. Deterministic for a seed: exact neighbours, then
 * umap-js's layout stepped epoch by epoch with `random` drawn from `Rng(seed)`. The loop yields to the event
 * loop regularly so notebook progress displays update and `signal` can stop it.
 */
export async function umapLayout(
  data: Float32Array,
  rows: number,
  dim: number,
  options: UmapOptions = {},
): Promise<UmapLayout> {
  const started = performance.now();
  const seed = options.seed ?? 42;
  const metric = options.metric ?? 'cosine';
  const nNeighbors = options.nNeighbors ?? 15;
  if (rows <= nNeighbors)
    throw new ConfigError('nNeighbors', `UMAP needs more points (${rows}) than neighbours (${nNeighbors})`);
  for (let e = 0; e < data.length; e++)
    if (!Number.isFinite(data[e]!))
      throw new ConfigError('embedding', `value ${e} (row ${Math.floor(e / dim)}) is not finite: ${data[e]}`);
  const epochs = options.nEpochs ?? defaultUmapEpochs(rows);
  const label = options.label ?? 'UMAP';
  const output = options.progress ?? 'auto';

  const knnBar = progress({ total: rows, label: `${label} neighbours`, unit: 'points', output });
  const graph = exactNeighbours(data, rows, dim, nNeighbors, metric, (done) => knnBar.set(done));
  knnBar.done(`${nNeighbors} exact ${metric} neighbours`);
  throwIfAborted(options.signal, 'UMAP');

  const rng = new Rng(seed);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors,
    minDist: options.minDist ?? 0.1,
    spread: options.spread ?? 1,
    nEpochs: epochs,
    random: () => rng.next(),
  });
  const knnIndices: number[][] = new Array(rows);
  const knnDistances: number[][] = new Array(rows);
  const points: number[][] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    knnIndices[r] = Array.from(graph.indices.subarray(r * nNeighbors, (r + 1) * nNeighbors));
    knnDistances[r] = Array.from(graph.distances.subarray(r * nNeighbors, (r + 1) * nNeighbors));
    points[r] = Array.from(data.subarray(r * dim, (r + 1) * dim));
  }
  umap.setPrecomputedKNN(knnIndices, knnDistances);
  const bar = progress({ total: epochs, label: `${label} layout`, unit: 'epochs', output });
  umap.initializeFit(points);
  let lastYield = performance.now();
  for (let e = 0; e < epochs; e++) {
    umap.step();
    bar.set(e + 1);
    if (performance.now() - lastYield > 50) {
      await yieldToEventLoop();
      throwIfAborted(options.signal, 'UMAP');
      lastYield = performance.now();
    }
  }
  const embedding = umap.getEmbedding();
  const x = new Float32Array(rows);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    x[r] = embedding[r]![0]!;
    y[r] = embedding[r]![1]!;
  }
  const seconds = (performance.now() - started) / 1000;
  bar.done(`${rows} points in ${seconds.toFixed(1)}s`);
  return { x, y, epochs, nNeighbors, metric, seed, seconds };
}

/** How often points share a label with their nearest neighbours, against chance. */
export interface LabelAgreement {
  /** Neighbours per point. */
  k: number;
  /** Mean over points of the fraction of their k nearest neighbours with the same label. */
  rate: number;
  /** Expected rate when neighbours are drawn at random: Σ_g n_g (n_g − 1) / (n (n − 1)). */
  randomRate: number;
  /** rate / randomRate. */
  lift: number;
  /** Per label, largest first: its points' mean same-label rate, and the rate at random (its share of others). */
  byLabel: Array<{ label: string; points: number; rate: number; randomRate: number }>;
}

/** Expected same-label rate of a random pair of distinct points. */
export function randomPairingRate(labels: string[]): number {
  const n = labels.length;
  if (n < 2) return Number.NaN;
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let s = 0;
  for (const c of counts.values()) s += c * (c - 1);
  return s / (n * (n - 1));
}

/** Same-label rate among each point's k nearest neighbours in a precomputed graph (self excluded). */
export function graphLabelAgreement(graph: NeighbourGraph, labels: string[]): LabelAgreement {
  const n = labels.length;
  let sum = 0;
  let counted = 0;
  const perLabel = new Map<string, { points: number; sum: number }>();
  for (let i = 0; i < n; i++) {
    let same = 0;
    let m = 0;
    for (let p = 0; p < graph.k; p++) {
      const j = graph.indices[i * graph.k + p]!;
      if (j === i) continue;
      m++;
      if (labels[j] === labels[i]) same++;
    }
    const entry = perLabel.get(labels[i]!) ?? { points: 0, sum: 0 };
    entry.points++;
    if (m > 0) {
      sum += same / m;
      counted++;
      entry.sum += same / m;
    }
    perLabel.set(labels[i]!, entry);
  }
  const rate = counted > 0 ? sum / counted : Number.NaN;
  const randomRate = randomPairingRate(labels);
  const byLabel = [...perLabel.entries()]
    .map(([label, e]) => ({
      label,
      points: e.points,
      rate: e.sum / e.points,
      randomRate: n > 1 ? (e.points - 1) / (n - 1) : Number.NaN,
    }))
    .sort((a, b) => b.points - a.points || a.label.localeCompare(b.label));
  return { k: graph.k - 1, rate, randomRate, lift: rate / randomRate, byLabel };
}

/**
 * Label agreement of points in a space (rows × dim): the mean same-label rate among each point's k nearest
 * neighbours (exact, self excluded) against the random-pairing rate. With a 2-D layout this measures how
 * visibly labels cluster on the map.
 */
export function labelAgreement(
  data: Float32Array,
  rows: number,
  dim: number,
  labels: string[],
  k = 10,
  metric: UmapMetric = 'euclidean',
): LabelAgreement {
  if (labels.length !== rows) throw new RangeError(`${labels.length} labels for ${rows} points`);
  return graphLabelAgreement(exactNeighbours(data, rows, dim, Math.min(rows, k + 1), metric), labels);
}

/** Interleaves two coordinate arrays into rows × 2. */
export function interleave2d(x: Float32Array, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    out[2 * i] = x[i]!;
    out[2 * i + 1] = y[i]!;
  }
  return out;
}
