import { ConfigError, ReelabError } from '../../util/errors';
import { Rng } from '../../util/rng';
import type { ModelState } from '../recommender';
import { binEdges, binMatrix, type FeatureBins } from './binning';

export type GbdtObjective = 'squared' | 'logistic';

export interface BoosterOptions {
  objective: GbdtObjective;
  /** Boosting rounds (trees). */
  rounds: number;
  /** Shrinkage applied to every leaf value. */
  learningRate: number;
  maxDepth: number;
  /** Smallest hessian sum in a child (= rows for squared loss). */
  minChildWeight: number;
  /** L2 penalty on leaf values. */
  lambda: number;
  /** Smallest loss reduction that justifies a split. */
  gamma: number;
  /** Fraction of rows each tree sees. */
  subsample: number;
  /** Fraction of features each tree may split on. */
  colsample: number;
  maxBins: number;
  seed: number;
  /** Stop when the validation loss has not improved for this many rounds (needs validation data; 0: off). */
  earlyStoppingRounds: number;
}

export const DEFAULT_BOOSTER: BoosterOptions = {
  objective: 'squared',
  rounds: 200,
  learningRate: 0.1,
  maxDepth: 6,
  minChildWeight: 1,
  lambda: 1,
  gamma: 0,
  subsample: 1,
  colsample: 1,
  maxBins: 64,
  seed: 42,
  earlyStoppingRounds: 0,
};

/** A row-major n × f float matrix with one target per row. */
export interface TrainingSet {
  x: Float32Array;
  y: Float32Array;
  n: number;
  f: number;
}

export interface FeatureImportance {
  feature: number;
  name: string;
  /** Total loss reduction of the splits on this feature. */
  gain: number;
  splits: number;
  /** Hessian mass (rows, for squared loss) passing through those splits. */
  cover: number;
}

/**
 * Gradient-boosted regression trees, second order (XGBoost's gain and leaf formula), grown depth-wise on
 * quantile-binned features with the histogram subtraction trick; shrinkage, row and column subsampling, seeded.
 * Trees live in flat arrays: node k splits on feature[k] at threshold[k] (NaN and x ≤ threshold go left), or is
 * a leaf (feature −1) with value[k].
 */
export class Booster {
  constructor(
    readonly objective: GbdtObjective,
    readonly f: number,
    readonly base: number,
    readonly roots: Int32Array,
    readonly feature: Int32Array,
    readonly threshold: Float64Array,
    readonly left: Int32Array,
    readonly right: Int32Array,
    readonly value: Float32Array,
    readonly gain: Float64Array,
    readonly cover: Float64Array,
  ) {}

  get trees(): number {
    return this.roots.length;
  }

  /** Raw score (margin) of one row starting at `offset` of a row-major matrix; `trees` limits the ensemble. */
  margin(x: ArrayLike<number>, offset = 0, trees = this.roots.length): number {
    let s = this.base;
    for (let t = 0; t < trees; t++) {
      let k = this.roots[t]!;
      while (this.feature[k]! >= 0) {
        const v = x[offset + this.feature[k]!]!;
        k = Number.isNaN(v) || v <= this.threshold[k]! ? this.left[k]! : this.right[k]!;
      }
      s += this.value[k]!;
    }
    return s;
  }

  /** Predictions for every row: the margin for squared loss, the probability for logistic loss. */
  predict(x: Float32Array, n: number): Float32Array {
    if (x.length !== n * this.f)
      throw new RangeError(`predict: expected ${n}×${this.f} values, got ${x.length}`);
    const out = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      const m = this.margin(x, r * this.f);
      out[r] = this.objective === 'logistic' ? 1 / (1 + Math.exp(-m)) : m;
    }
    return out;
  }

  /** Gain / split count / cover per feature, most important first. */
  importance(names: readonly string[] = []): FeatureImportance[] {
    const gain = new Float64Array(this.f);
    const splits = new Int32Array(this.f);
    const cover = new Float64Array(this.f);
    for (let k = 0; k < this.feature.length; k++) {
      const j = this.feature[k]!;
      if (j < 0) continue;
      gain[j]! += this.gain[k]!;
      cover[j]! += this.cover[k]!;
      splits[j]!++;
    }
    const rows: FeatureImportance[] = [];
    for (let j = 0; j < this.f; j++)
      rows.push({
        feature: j,
        name: names[j] ?? `f${j}`,
        gain: gain[j]!,
        splits: splits[j]!,
        cover: cover[j]!,
      });
    return rows.sort((a, b) => b.gain - a.gain || a.feature - b.feature);
  }

  toState(prefix: string): ModelState {
    return {
      [`${prefix}objective`]: this.objective,
      [`${prefix}f`]: this.f,
      [`${prefix}base`]: this.base,
      [`${prefix}roots`]: this.roots,
      [`${prefix}feature`]: this.feature,
      [`${prefix}threshold`]: this.threshold,
      [`${prefix}left`]: this.left,
      [`${prefix}right`]: this.right,
      [`${prefix}value`]: this.value,
      [`${prefix}gain`]: this.gain,
      [`${prefix}cover`]: this.cover,
    };
  }

  static fromState(state: ModelState, prefix: string): Booster {
    const get = <T>(key: string, ok: (v: unknown) => v is T): T => {
      const v = state[prefix + key];
      if (!ok(v)) throw new ReelabError(`saved model: "${prefix}${key}" is missing or has the wrong type`);
      return v;
    };
    const i32 = (v: unknown): v is Int32Array => v instanceof Int32Array;
    const f64 = (v: unknown): v is Float64Array => v instanceof Float64Array;
    const num = (v: unknown): v is number => typeof v === 'number';
    const objective = get('objective', (v): v is GbdtObjective => v === 'squared' || v === 'logistic');
    const feature = get('feature', i32);
    const b = new Booster(
      objective,
      get('f', num),
      get('base', num),
      get('roots', i32),
      feature,
      get('threshold', f64),
      get('left', i32),
      get('right', i32),
      get('value', (v): v is Float32Array => v instanceof Float32Array),
      get('gain', f64),
      get('cover', f64),
    );
    const n = feature.length;
    if ([b.threshold, b.left, b.right, b.value, b.gain, b.cover].some((a) => a.length !== n))
      throw new ReelabError(`saved model: tree arrays of "${prefix}" have different lengths`);
    for (let k = 0; k < n; k++) {
      const j = feature[k]!;
      if (j >= b.f || (j >= 0 && !(b.left[k]! > k && b.right[k]! > k && b.left[k]! < n && b.right[k]! < n)))
        throw new ReelabError(`saved model: tree node ${k} of "${prefix}" is malformed`);
    }
    return b;
  }
}

export interface RoundReport {
  round: number;
  trainLoss: number;
  validationLoss?: number;
}

/** Trains a booster; `validation` enables early stopping (the best round's trees are kept). */
export function trainBooster(
  data: TrainingSet,
  options: Partial<BoosterOptions> = {},
  validation?: TrainingSet,
  onRound?: (r: RoundReport) => void,
): Booster {
  const o: BoosterOptions = { ...DEFAULT_BOOSTER, ...options };
  checkOptions(o);
  const { n, f, y } = data;
  if (data.x.length !== n * f || y.length !== n)
    throw new RangeError(`trainBooster: x must be ${n}×${f} and y ${n} long`);
  if (n === 0) throw new ConfigError('gbdt', 'no training rows');
  for (let r = 0; r < n; r++) {
    if (!Number.isFinite(y[r]!)) throw new ConfigError('gbdt', `target of row ${r} is ${y[r]}`);
    if (o.objective === 'logistic' && y[r] !== 0 && y[r] !== 1)
      throw new ConfigError('gbdt', `logistic objective needs 0/1 targets; row ${r} has ${y[r]}`);
  }
  const edges = binEdges(data.x, n, f, o.maxBins, o.seed);
  const binned = binMatrix(data.x, n, f, edges);
  const grower = new TreeGrower(binned, o);

  let mean = 0;
  for (let r = 0; r < n; r++) mean += y[r]!;
  mean /= n;
  const base = o.objective === 'squared' ? mean : Math.log(Math.max(1e-6, mean) / Math.max(1e-6, 1 - mean));
  const pred = new Float64Array(n).fill(base);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const vPred = validation ? new Float64Array(validation.n).fill(base) : null;

  const nodes = new NodeStore();
  const roots: number[] = [];
  const rng = new Rng(o.seed);
  let best = Number.POSITIVE_INFINITY;
  let bestRounds = 0;
  for (let round = 1; round <= o.rounds; round++) {
    for (let r = 0; r < n; r++) {
      if (o.objective === 'squared') {
        grad[r] = pred[r]! - y[r]!;
        hess[r] = 1;
      } else {
        const p = 1 / (1 + Math.exp(-pred[r]!));
        grad[r] = p - y[r]!;
        hess[r] = Math.max(p * (1 - p), 1e-12);
      }
    }
    const root = grower.grow(grad, hess, rng, nodes);
    roots.push(root);
    nodes.applyBinned(root, binned, pred);
    const trainLoss = lossOf(o.objective, pred, y);
    let validationLoss: number | undefined;
    if (validation && vPred) {
      for (let r = 0; r < validation.n; r++) vPred[r]! += nodes.valueAt(root, validation.x, r * f);
      validationLoss = lossOf(o.objective, vPred, validation.y);
    }
    onRound?.({ round, trainLoss, validationLoss });
    if (validationLoss !== undefined && o.earlyStoppingRounds > 0) {
      if (validationLoss < best - 1e-12) {
        best = validationLoss;
        bestRounds = round;
      } else if (round - bestRounds >= o.earlyStoppingRounds) break;
    } else bestRounds = round;
  }
  return nodes.toBooster(o.objective, f, base, roots.slice(0, bestRounds));
}

function checkOptions(o: BoosterOptions): void {
  const positiveInt = (k: keyof BoosterOptions) => {
    const v = o[k] as number;
    if (!(Number.isInteger(v) && v >= 1)) throw new ConfigError(k, `must be a positive integer, got ${v}`);
  };
  positiveInt('rounds');
  positiveInt('maxDepth');
  if (!(o.learningRate > 0)) throw new ConfigError('learningRate', `must be > 0, got ${o.learningRate}`);
  for (const k of ['subsample', 'colsample'] as const)
    if (!(o[k] > 0 && o[k] <= 1)) throw new ConfigError(k, `must be in (0, 1], got ${o[k]}`);
  for (const k of ['lambda', 'gamma', 'minChildWeight', 'earlyStoppingRounds'] as const)
    if (!(o[k] >= 0)) throw new ConfigError(k, `must be ≥ 0, got ${o[k]}`);
}

function lossOf(objective: GbdtObjective, pred: Float64Array, y: Float32Array): number {
  let s = 0;
  for (let r = 0; r < y.length; r++) {
    const z = pred[r]!;
    if (objective === 'squared') s += (z - y[r]!) ** 2;
    else s += Math.max(z, 0) - z * y[r]! + Math.log1p(Math.exp(-Math.abs(z)));
  }
  // RMSE for squared loss (comparable with rating metrics), mean log loss for logistic.
  return objective === 'squared' ? Math.sqrt(s / Math.max(1, y.length)) : s / Math.max(1, y.length);
}

/** Growable flat node arrays shared by all trees of one training run. */
class NodeStore {
  feature: number[] = [];
  bin: number[] = [];
  threshold: number[] = [];
  left: number[] = [];
  right: number[] = [];
  value: number[] = [];
  gain: number[] = [];
  cover: number[] = [];

  add(): number {
    this.feature.push(-1);
    this.bin.push(0);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(0);
    this.gain.push(0);
    this.cover.push(0);
    return this.feature.length - 1;
  }

  /** Adds the tree's leaf values to `pred` for every training row (routing on bins). */
  applyBinned(root: number, b: FeatureBins, pred: Float64Array): void {
    for (let r = 0; r < b.n; r++) {
      let k = root;
      while (this.feature[k]! >= 0)
        k = b.bins[this.feature[k]! * b.n + r]! <= this.bin[k]! ? this.left[k]! : this.right[k]!;
      pred[r]! += this.value[k]!;
    }
  }

  valueAt(root: number, x: Float32Array, offset: number): number {
    let k = root;
    while (this.feature[k]! >= 0) {
      const v = x[offset + this.feature[k]!]!;
      k = Number.isNaN(v) || v <= this.threshold[k]! ? this.left[k]! : this.right[k]!;
    }
    return this.value[k]!;
  }

  /** Copies the kept trees into compact arrays (node ids renumbered per kept tree). */
  toBooster(objective: GbdtObjective, f: number, base: number, roots: number[]): Booster {
    const keep: number[] = [];
    const newId = new Map<number, number>();
    const newRoots = new Int32Array(roots.length);
    roots.forEach((root, t) => {
      newRoots[t] = keep.length;
      const stack = [root];
      const order: number[] = [];
      while (stack.length > 0) {
        const k = stack.pop()!;
        order.push(k);
        if (this.feature[k]! >= 0) stack.push(this.right[k]!, this.left[k]!);
      }
      for (const k of order) {
        newId.set(k, keep.length);
        keep.push(k);
      }
    });
    const m = keep.length;
    const b = new Booster(
      objective,
      f,
      base,
      newRoots,
      new Int32Array(m),
      new Float64Array(m),
      new Int32Array(m),
      new Int32Array(m),
      new Float32Array(m),
      new Float64Array(m),
      new Float64Array(m),
    );
    keep.forEach((k, p) => {
      b.feature[p] = this.feature[k]!;
      b.threshold[p] = this.threshold[k]!;
      b.left[p] = this.feature[k]! >= 0 ? newId.get(this.left[k]!)! : -1;
      b.right[p] = this.feature[k]! >= 0 ? newId.get(this.right[k]!)! : -1;
      b.value[p] = this.value[k]!;
      b.gain[p] = this.gain[k]!;
      b.cover[p] = this.cover[k]!;
    });
    return b;
  }
}

interface Split {
  feature: number;
  bin: number;
  gain: number;
  gl: number;
  hl: number;
}

/** Grows one tree on binned features; rows of a node are a contiguous segment of `rows`. */
class TreeGrower {
  private readonly nb: number;
  private readonly rows: Int32Array;
  private readonly scratch: Int32Array;

  constructor(
    private readonly b: FeatureBins,
    private readonly o: BoosterOptions,
  ) {
    let maxEdges = 0;
    for (const e of b.edges) maxEdges = Math.max(maxEdges, e.length);
    this.nb = maxEdges + 1;
    this.rows = new Int32Array(b.n);
    this.scratch = new Int32Array(b.n);
  }

  grow(grad: Float64Array, hess: Float64Array, rng: Rng, nodes: NodeStore): number {
    const { b, o } = this;
    // Row subsample: the first m rows of a seeded permutation; column subsample likewise.
    const m = Math.max(1, Math.round(b.n * o.subsample));
    if (o.subsample < 1) {
      const perm = rng.permutation(b.n);
      this.rows.set(perm.subarray(0, m));
      this.rows.subarray(0, m).sort();
    } else for (let r = 0; r < b.n; r++) this.rows[r] = r;
    const nf = Math.max(1, Math.round(b.f * o.colsample));
    const features =
      o.colsample < 1
        ? rng.permutation(b.f).subarray(0, nf).sort()
        : Int32Array.from({ length: b.f }, (_, j) => j);

    type Pending = {
      node: number;
      start: number;
      end: number;
      depth: number;
      hist: Float64Array;
      g: number;
      h: number;
    };
    const root = nodes.add();
    const rootHist = this.histogram(0, m, features, grad, hess);
    let g0 = 0;
    let h0 = 0;
    for (let p = 0; p < m; p++) {
      g0 += grad[this.rows[p]!]!;
      h0 += hess[this.rows[p]!]!;
    }
    const queue: Pending[] = [{ node: root, start: 0, end: m, depth: 0, hist: rootHist, g: g0, h: h0 }];
    while (queue.length > 0) {
      const cur = queue.shift()!;
      const split = cur.depth < o.maxDepth ? this.bestSplit(cur.hist, features, cur.g, cur.h) : null;
      if (!split) {
        nodes.value[cur.node] = (-cur.g / (cur.h + o.lambda)) * o.learningRate;
        continue;
      }
      const mid = this.partition(cur.start, cur.end, split.feature, split.bin);
      const l = nodes.add();
      const r = nodes.add();
      nodes.feature[cur.node] = split.feature;
      nodes.bin[cur.node] = split.bin;
      nodes.threshold[cur.node] =
        split.bin === 0 ? Number.NEGATIVE_INFINITY : b.edges[split.feature]![split.bin - 1]!;
      nodes.left[cur.node] = l;
      nodes.right[cur.node] = r;
      nodes.gain[cur.node] = split.gain;
      nodes.cover[cur.node] = cur.h;
      // Histogram of the smaller child by counting; the sibling's by subtraction from the parent.
      const leftSmaller = mid - cur.start <= cur.end - mid;
      const small = leftSmaller
        ? this.histogram(cur.start, mid, features, grad, hess)
        : this.histogram(mid, cur.end, features, grad, hess);
      const large = cur.hist;
      for (let k = 0; k < large.length; k++) large[k]! -= small[k]!;
      const [hl, hr] = leftSmaller ? [small, large] : [large, small];
      queue.push(
        { node: l, start: cur.start, end: mid, depth: cur.depth + 1, hist: hl, g: split.gl, h: split.hl },
        {
          node: r,
          start: mid,
          end: cur.end,
          depth: cur.depth + 1,
          hist: hr,
          g: cur.g - split.gl,
          h: cur.h - split.hl,
        },
      );
    }
    return root;
  }

  /** Interleaved (grad, hess) sums per (feature slot, bin) over rows[start, end). */
  private histogram(
    start: number,
    end: number,
    features: Int32Array,
    grad: Float64Array,
    hess: Float64Array,
  ): Float64Array {
    const { b, nb, rows } = this;
    const hist = new Float64Array(features.length * nb * 2);
    for (let s = 0; s < features.length; s++) {
      const col = features[s]! * b.n;
      const hb = s * nb * 2;
      for (let p = start; p < end; p++) {
        const r = rows[p]!;
        const k = hb + b.bins[col + r]! * 2;
        hist[k]! += grad[r]!;
        hist[k + 1]! += hess[r]!;
      }
    }
    return hist;
  }

  private bestSplit(hist: Float64Array, features: Int32Array, g: number, h: number): Split | null {
    const { o, nb, b } = this;
    const parent = (g * g) / (h + o.lambda);
    let best: Split | null = null;
    for (let s = 0; s < features.length; s++) {
      const j = features[s]!;
      const bins = b.edges[j]!.length + 1;
      const hb = s * nb * 2;
      let gl = 0;
      let hl = 0;
      for (let bin = 0; bin < bins - 1; bin++) {
        gl += hist[hb + bin * 2]!;
        hl += hist[hb + bin * 2 + 1]!;
        const hr = h - hl;
        if (hl < o.minChildWeight || hr < o.minChildWeight || hl <= 0 || hr <= 0) continue;
        const gr = g - gl;
        const gain = 0.5 * ((gl * gl) / (hl + o.lambda) + (gr * gr) / (hr + o.lambda) - parent) - o.gamma;
        if (gain > 1e-12 && (!best || gain > best.gain)) best = { feature: j, bin, gain, gl, hl };
      }
    }
    return best;
  }

  /** Stable partition of rows[start, end) into bin ≤ split bin (left) and the rest; returns the boundary. */
  private partition(start: number, end: number, feature: number, bin: number): number {
    const { rows, scratch, b } = this;
    const col = feature * b.n;
    let l = start;
    let r = 0;
    for (let p = start; p < end; p++) {
      const row = rows[p]!;
      if (b.bins[col + row]! <= bin) rows[l++] = row;
      else scratch[r++] = row;
    }
    rows.set(scratch.subarray(0, r), l);
    return l;
  }
}
