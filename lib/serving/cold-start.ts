import { cholesky, choleskySolve, gram } from '../compute/linalg';
import { BaselineModel } from '../models/baseline';
import type { FactorScorer, Recommender } from '../models/recommender';
import { MODELS } from '../models/registry';
import { ConfigError, ReelabError } from '../util/errors';

/** A new user's scores for every item, after folding their ratings into a fitted model. */
export interface ScoresForUser {
  /** How the user was folded in: 'model' (the model's own method), 'baseline', 'factors-explicit', 'factors-implicit'. */
  readonly method: string;
  /** Scores of every item (out.length = the model's item count), on the model's scale. */
  scoreAll(out: Float32Array): void;
}

/** Optional method a model may implement to fold in a user it was not trained on. */
export interface FoldsInUsers {
  foldInUser(items: Int32Array, ratings: Float32Array): ScoresForUser;
}

export function canFoldIn(model: Recommender): model is Recommender & FoldsInUsers {
  return typeof (model as Partial<FoldsInUsers>).foldInUser === 'function';
}

export interface ColdStartOptions {
  /**
   * L2 weight on the folded-in factor vector. Default: DEFAULT_FOLD_IN_REG for rating models; the model's own
   * `regularization` (else 0.01) for implicit models, whose objective already includes every item.
   */
  reg?: number;
  /** L2 weight on the folded-in user bias of rating models (default DEFAULT_FOLD_IN_BIAS_REG). */
  regBias?: number;
  /** Implicit models: confidence of a rated item is 1 + alpha (default: the model's `alpha`, else 1). */
  alpha?: number;
}

/**
 * Defaults for rating models, chosen on ml-latest-small with 10-rating profiles of held-out users
 * (bench/serve-cold-start.ts; results in bench/results/serve.md).
 */
export const DEFAULT_FOLD_IN_REG = 5;
export const DEFAULT_FOLD_IN_BIAS_REG = 5;

/**
 * Scores for a user who is not in the training data, from a handful of (item index, rating) pairs:
 * 1. the model's own `foldInUser` when it has one;
 * 2. the baseline: the user bias as its ALS step computes it, b = Σ(r − μ − b_i) / (regUser + n);
 * 3. any model with a factor form (`batchScorer()`): the user's vector solved by regularised least squares against
 *    the fixed item factors — explicit (with a user bias) for rating models, implicit (Hu et al.'s objective over
 *    all items, rated items with confidence 1 + α) for ranking models;
 * else null (the caller falls back to item-neighbour scoring).
 */
export function foldInUser(
  model: Recommender,
  items: Int32Array,
  ratings: Float32Array,
  options: ColdStartOptions = {},
): ScoresForUser | null {
  checkProfile(items, ratings);
  if (canFoldIn(model)) return model.foldInUser(items, ratings);
  if (model instanceof BaselineModel) return foldInBaseline(model, items, ratings);
  const scorer = model.batchScorer?.() ?? null;
  if (!scorer) return null;
  const nItems = scorer.itemFactors.length / scorer.factors;
  for (let p = 0; p < items.length; p++) {
    if (!(items[p]! >= 0 && items[p]! < nItems))
      throw new ConfigError('items', `item index ${items[p]} is outside 0..${nItems - 1}`);
  }
  const task = MODELS.get(model.name)?.task ?? (scorer.globalBias !== undefined ? 'rating' : 'ranking');
  const params = model.params;
  if (task === 'rating') {
    return foldInExplicit(scorer, items, ratings, {
      reg: options.reg ?? DEFAULT_FOLD_IN_REG,
      regBias: options.regBias ?? DEFAULT_FOLD_IN_BIAS_REG,
    });
  }
  const ownReg = typeof params.regularization === 'number' ? params.regularization : 0.01;
  const ownAlpha = typeof params.alpha === 'number' ? params.alpha : 1;
  return foldInImplicit(scorer, items, { reg: options.reg ?? ownReg, alpha: options.alpha ?? ownAlpha });
}

function checkProfile(items: Int32Array, ratings: Float32Array): void {
  if (items.length !== ratings.length)
    throw new ConfigError('ratings', `${items.length} items but ${ratings.length} ratings`);
  if (items.length === 0) throw new ConfigError('ratings', 'at least one rating is needed to fold in a user');
  const seen = new Set<number>();
  for (let p = 0; p < items.length; p++) {
    if (!Number.isFinite(ratings[p]!)) throw new ConfigError('ratings', `rating ${p + 1} is ${ratings[p]}`);
    if (seen.has(items[p]!)) throw new ConfigError('ratings', `item index ${items[p]} is rated twice`);
    seen.add(items[p]!);
  }
}

/** Baseline fold-in: the closed-form user-bias step of the baseline's ALS with its regUser. */
export function foldInBaseline(
  model: BaselineModel,
  items: Int32Array,
  ratings: Float32Array,
): ScoresForUser {
  const { mean, item } = model.biases;
  let dev = 0;
  for (let p = 0; p < items.length; p++) {
    const i = items[p]!;
    if (!(i >= 0 && i < item.length))
      throw new ConfigError('items', `item index ${i} is outside 0..${item.length - 1}`);
    dev += ratings[p]! - mean - item[i]!;
  }
  const bu = dev / (model.params.regUser + items.length);
  return {
    method: 'baseline',
    scoreAll(out: Float32Array): void {
      const base = mean + bu;
      for (let i = 0; i < out.length; i++) out[i] = base + item[i]!;
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
): ScoresForUser {
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
 */
export function foldInImplicit(
  scorer: FactorScorer,
  items: Int32Array,
  options: { reg: number; alpha: number },
): ScoresForUser {
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
  const c = 1 + options.alpha;
  for (let p = 0; p < items.length; p++) {
    const jb = items[p]! * F;
    for (let r = 0; r < F; r++) {
      const yr = Y[jb + r]!;
      rhs[r]! += c * yr;
      for (let s = 0; s < F; s++) a[r * F + s]! += options.alpha * yr * Y[jb + s]!;
    }
  }
  for (let r = 0; r < F; r++) a[r * F + r]! += options.reg;
  solveInPlace(a, F, rhs);
  const x = Float32Array.from(rhs);
  const itemBias = scorer.itemBias ?? null;
  return {
    method: 'factors-implicit',
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
