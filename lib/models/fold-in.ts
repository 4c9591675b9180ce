/**
 * Folding a new user into a fitted model (implicit's `recalculate_user`): the user's vector solved against the
 * model's fixed item side from a handful of (item, rating) pairs. The solvers live here; each model picks one
 * with its own hyperparameters in `BaseRecommender.foldIn` (or its override).
 */
import { cholesky, choleskySolve, gram } from '../compute/linalg';
import type { FactorScorer } from '../compute/scorer';
import { ConfigError, ReelabError } from '../util/errors';

/** A new user's ratings: item indices and their ratings (same length, each item once). */
export interface FoldInProfile {
  items: Int32Array;
  ratings: Float32Array;
}

/** Overrides of the fold-in weights (each model's own values otherwise). */
export interface FoldInOptions {
  /**
   * L2 weight on the folded-in factor vector. Default: DEFAULT_FOLD_IN_REG for rating models; the model's own
   * `reg` for implicit models, whose objective already includes every item.
   */
  reg?: number;
  /** L2 weight on the folded-in user bias of rating models (default DEFAULT_FOLD_IN_BIAS_REG). */
  regBias?: number;
  /** Implicit models: confidence of a rated item is 1 + alpha (default: the model's own `alpha`, else 1). */
  alpha?: number;
}

/** A user folded into a fitted model: how, their vector where the model has one, and their scores. */
export interface FoldedUser {
  /** 'model' (a model's own method), 'baseline', 'factors-explicit' or 'factors-implicit'. */
  readonly method: string;
  /** The solved user vector (factor models). */
  readonly userFactors?: Float32Array;
  /** The solved user bias (rating models with user biases, the baseline). */
  readonly userBias?: number;
  /** Scores of every item (out.length = the model's item count), on the model's scale. */
  scoreAll(out: Float32Array): void;
}

/**
 * Defaults for rating models, chosen on ml-latest-small with 10-rating profiles of held-out users
 * (bench/serve-cold-start.ts; results in bench/results/serve.md).
 */
export const DEFAULT_FOLD_IN_REG = 5;
export const DEFAULT_FOLD_IN_BIAS_REG = 5;

/** A ConfigError for a profile that cannot be folded in; `nItems` also checks the item range. */
export function checkFoldInProfile(items: Int32Array, ratings: Float32Array, nItems?: number): void {
  if (items.length !== ratings.length)
    throw new ConfigError('ratings', `${items.length} items but ${ratings.length} ratings`);
  if (items.length === 0) throw new ConfigError('ratings', 'at least one rating is needed to fold in a user');
  const seen = new Set<number>();
  for (let p = 0; p < items.length; p++) {
    if (!Number.isFinite(ratings[p]!)) throw new ConfigError('ratings', `rating ${p + 1} is ${ratings[p]}`);
    if (seen.has(items[p]!)) throw new ConfigError('ratings', `item index ${items[p]} is rated twice`);
    seen.add(items[p]!);
  }
  if (nItems === undefined) return;
  for (let p = 0; p < items.length; p++) {
    if (!(items[p]! >= 0 && items[p]! < nItems))
      throw new ConfigError('items', `item index ${items[p]} is outside 0..${nItems - 1}`);
  }
}

/** Bias-only fold-in: b = Σ(r − μ − b_i) / (reg + n), the closed-form user-bias step of a biased ALS. */
export function foldInBias(
  mean: number,
  itemBias: Float32Array,
  items: Int32Array,
  ratings: Float32Array,
  reg: number,
): FoldedUser {
  let dev = 0;
  for (let p = 0; p < items.length; p++) dev += ratings[p]! - mean - itemBias[items[p]!]!;
  const bu = dev / (reg + items.length);
  return {
    method: 'baseline',
    userBias: bu,
    scoreAll(out: Float32Array): void {
      const base = mean + bu;
      for (let i = 0; i < out.length; i++) out[i] = base + itemBias[i]!;
    },
  };
}

/**
 * Explicit fold-in: minimise Σ_j (r_j − g − b_j − b − x·q_j)² + reg·‖x‖² + regBias·b² over the user's factor
 * vector x and bias b (b only when the model has user biases), by Cholesky on the (F+1)×(F+1) normal equations.
 */
export function foldInExplicit(
  scorer: FactorScorer,
  items: Int32Array,
  ratings: Float32Array,
  options: { reg: number; regBias: number },
): FoldedUser {
  const F = scorer.factors;
  const Q = scorer.itemFactors;
  const itemBias = scorer.itemBias ?? null;
  const g = scorer.globalBias ?? 0;
  const withBias = Boolean(scorer.userBias);
  const d = withBias ? F + 1 : F;
  const a = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  const z = new Float64Array(d);
  for (let p = 0; p < items.length; p++) {
    const j = items[p]!;
    const t = ratings[p]! - g - (itemBias ? itemBias[j]! : 0);
    for (let f = 0; f < F; f++) z[f] = Q[j * F + f]!;
    if (withBias) z[F] = 1;
    for (let r = 0; r < d; r++) {
      const zr = z[r]!;
      rhs[r]! += zr * t;
      for (let c = 0; c <= r; c++) a[r * d + c]! += zr * z[c]!;
    }
  }
  for (let r = 0; r < d; r++) {
    a[r * d + r]! += withBias && r === F ? options.regBias : options.reg;
    for (let c = 0; c < r; c++) a[c * d + r] = a[r * d + c]!;
  }
  solveInPlace(a, d, rhs);
  const x = Float32Array.from(rhs.subarray(0, F));
  const b = withBias ? rhs[F]! : 0;
  return {
    method: 'factors-explicit',
    userFactors: x,
    userBias: b,
    scoreAll(out: Float32Array): void {
      const base = g + b;
      for (let i = 0; i < out.length; i++) {
        let s = base + (itemBias ? itemBias[i]! : 0);
        const qi = i * F;
        for (let f = 0; f < F; f++) s += x[f]! * Q[qi + f]!;
        out[i] = s;
      }
    },
  };
}

const itemGrams = new WeakMap<Float32Array, Float64Array>();

/**
 * Implicit fold-in (Hu, Koren & Volinsky): minimise Σ_i c_i (p_i − x·y_i)² + reg·‖x‖² over all items, p_i = 1
 * and c_i = 1 + alpha for rated items, p_i = 0 and c_i = 1 otherwise:
 * (YᵀY + alpha·Σ_j y_j y_jᵀ + reg·I) x = (1 + alpha) Σ_j y_j. YᵀY is computed once per item-factor matrix.
 * With `confidences` (one per item of `items`), c_j is given per rated item instead of 1 + alpha.
 */
export function foldInImplicit(
  scorer: FactorScorer,
  items: Int32Array,
  options: { reg: number; alpha: number; confidences?: Float32Array },
): FoldedUser {
  const F = scorer.factors;
  const Y = scorer.itemFactors;
  const nItems = Y.length / F;
  let yty = itemGrams.get(Y);
  if (!yty) {
    yty = new Float64Array(F * F);
    gram(Y, nItems, F, yty);
    itemGrams.set(Y, yty);
  }
  const a = Float64Array.from(yty);
  const rhs = new Float64Array(F);
  const conf = options.confidences;
  for (let p = 0; p < items.length; p++) {
    const jb = items[p]! * F;
    const c = conf ? conf[p]! : 1 + options.alpha;
    const w = conf ? c - 1 : options.alpha;
    for (let r = 0; r < F; r++) {
      const yr = Y[jb + r]!;
      rhs[r]! += c * yr;
      for (let s = 0; s < F; s++) a[r * F + s]! += w * yr * Y[jb + s]!;
    }
  }
  for (let r = 0; r < F; r++) a[r * F + r]! += options.reg;
  solveInPlace(a, F, rhs);
  const x = Float32Array.from(rhs);
  const itemBias = scorer.itemBias ?? null;
  return {
    method: 'factors-implicit',
    userFactors: x,
    scoreAll(out: Float32Array): void {
      for (let i = 0; i < out.length; i++) {
        let s = itemBias ? itemBias[i]! : 0;
        const yi = i * F;
        for (let f = 0; f < F; f++) s += x[f]! * Y[yi + f]!;
        out[i] = s;
      }
    },
  };
}

function solveInPlace(a: Float64Array, d: number, rhs: Float64Array): void {
  if (!cholesky(a, d))
    throw new ReelabError(
      'fold-in: the normal equations are not positive definite (raise the regularisation)',
    );
  choleskySolve(a, d, rhs);
}
