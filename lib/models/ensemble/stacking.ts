import { cholesky, choleskySolve } from '../../compute/linalg';
import { ReelabError } from '../../util/errors';

/**
 * Blend weights: score = intercept + Σ_m weights[m] · feature_m. Features are member predictions (rating mode)
 * or per-user z-scored member scores (ranking mode).
 */
export interface StackWeights {
  intercept: number;
  weights: Float64Array;
}

export interface StackOptions {
  /** Penalty on the member weights (never the intercept), per validation row: see `linearStack`. */
  ridge: number;
  /** Constrain every member weight to ≥ 0 (the intercept stays free). */
  nonNegative: boolean;
}

/**
 * Linear stacking by least squares with an intercept: minimises (1/n) Σ_t (y_t − w₀ − Σ_m w_m x_mt)² +
 * ridge · Σ_m w_m². Features and target are centred first, so the intercept drops out of the M×M system
 * (w₀ = ȳ − Σ w_m x̄_m) and the Gram matrix is a covariance — far better conditioned than the raw one when all
 * members predict ratings around 3.5. With `nonNegative`, the system is solved by Lawson–Hanson active sets.
 */
export function linearStack(
  features: Float32Array[],
  target: ArrayLike<number>,
  options: StackOptions,
): StackWeights {
  const M = features.length;
  const n = target.length;
  if (n === 0) throw new ReelabError('stacking: no validation rows to fit the blend weights on');
  for (const f of features)
    if (f.length !== n) throw new RangeError(`stacking: a feature has ${f.length} values for ${n} targets`);
  const xMean = new Float64Array(M);
  let yMean = 0;
  for (let t = 0; t < n; t++) yMean += target[t]!;
  yMean /= n;
  for (let m = 0; m < M; m++) {
    const f = features[m]!;
    let s = 0;
    for (let t = 0; t < n; t++) s += f[t]!;
    xMean[m] = s / n;
  }
  const A = new Float64Array(M * M);
  const b = new Float64Array(M);
  const row = new Float64Array(M);
  for (let t = 0; t < n; t++) {
    for (let m = 0; m < M; m++) row[m] = features[m]![t]! - xMean[m]!;
    const y = target[t]! - yMean;
    for (let r = 0; r < M; r++) {
      const xr = row[r]!;
      b[r]! += xr * y;
      for (let c = 0; c <= r; c++) A[r * M + c]! += xr * row[c]!;
    }
  }
  for (let r = 0; r < M; r++) {
    b[r]! /= n;
    for (let c = 0; c <= r; c++) {
      A[r * M + c]! /= n;
      A[c * M + r] = A[r * M + c]!;
    }
    A[r * M + r]! += options.ridge;
  }
  const w = solveQuadratic(A, b, M, options.nonNegative ? null : new Uint8Array(M).fill(1));
  let intercept = yMean;
  for (let m = 0; m < M; m++) intercept -= w[m]! * xMean[m]!;
  return { intercept, weights: w };
}

/**
 * Pointwise logistic stacking for ranking: minimises the mean log loss of σ(w₀ + Σ w_m x_mt) against 0/1 labels
 * plus ridge · Σ_m w_m², by iteratively reweighted least squares (Newton); with `nonNegative`, each Newton step
 * is the non-negative solution of its weighted least-squares problem (projected IRLS), with step halving when
 * the penalised loss does not decrease.
 */
export function logisticStack(
  features: Float32Array[],
  labels: Uint8Array,
  options: StackOptions & { maxIterations?: number },
): StackWeights {
  const M = features.length;
  const d = M + 1;
  const n = labels.length;
  if (n === 0) throw new ReelabError('stacking: no validation rows to fit the blend weights on');
  let positives = 0;
  for (let t = 0; t < n; t++) positives += labels[t]!;
  if (positives === 0 || positives === n)
    throw new ReelabError('stacking: the validation rows need both relevant and sampled negative items');
  const free = new Uint8Array(d).fill(options.nonNegative ? 0 : 1);
  free[0] = 1;
  let w = new Float64Array(d);
  w[0] = Math.log(positives / (n - positives));
  let loss = logisticLoss(features, labels, w, options.ridge);
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  const x = new Float64Array(d);
  const maxIterations = options.maxIterations ?? 100;
  for (let iter = 0; iter < maxIterations; iter++) {
    A.fill(0);
    b.fill(0);
    x[0] = 1;
    for (let t = 0; t < n; t++) {
      let eta = w[0]!;
      for (let m = 0; m < M; m++) {
        x[m + 1] = features[m]![t]!;
        eta += w[m + 1]! * x[m + 1]!;
      }
      const p = sigmoid(eta);
      const v = Math.max(p * (1 - p), 1e-10);
      // Working response of IRLS: z = η + (y − p) / v, weighted by v.
      const z = eta + (labels[t]! - p) / v;
      for (let r = 0; r < d; r++) {
        b[r]! += v * x[r]! * z;
        for (let c = 0; c <= r; c++) A[r * d + c]! += v * x[r]! * x[c]!;
      }
    }
    for (let r = 0; r < d; r++) {
      b[r]! /= n;
      for (let c = 0; c <= r; c++) {
        A[r * d + c]! /= n;
        A[c * d + r] = A[r * d + c]!;
      }
      if (r > 0) A[r * d + r]! += 2 * options.ridge;
    }
    const proposal = solveQuadratic(A, b, d, free);
    let step = 1;
    let next = proposal;
    let nextLoss = logisticLoss(features, labels, next, options.ridge);
    while (nextLoss > loss + 1e-15 && step > 1e-6) {
      step /= 2;
      next = new Float64Array(d);
      for (let j = 0; j < d; j++) next[j] = w[j]! + step * (proposal[j]! - w[j]!);
      nextLoss = logisticLoss(features, labels, next, options.ridge);
    }
    let change = 0;
    for (let j = 0; j < d; j++) change = Math.max(change, Math.abs(next[j]! - w[j]!));
    if (nextLoss > loss) break;
    w = next;
    loss = nextLoss;
    if (change < 1e-10) break;
  }
  return { intercept: w[0]!, weights: w.slice(1) };
}

/** Mean log loss + ridge · Σ_{m≥1} w_m². */
export function logisticLoss(
  features: Float32Array[],
  labels: Uint8Array,
  w: Float64Array,
  ridge: number,
): number {
  const M = features.length;
  let s = 0;
  for (let t = 0; t < labels.length; t++) {
    let eta = w[0]!;
    for (let m = 0; m < M; m++) eta += w[m + 1]! * features[m]![t]!;
    // log(1 + e^{−η}) for y = 1, log(1 + e^{η}) for y = 0, computed without overflow.
    const a = labels[t] ? -eta : eta;
    s += a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a));
  }
  let penalty = 0;
  for (let m = 1; m <= M; m++) penalty += w[m]! ** 2;
  return s / labels.length + ridge * penalty;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Minimises ½ wᵀAw − bᵀw (A symmetric positive definite, d×d row-major) subject to w_j ≥ 0 where free[j] = 0
 * (free = null: every variable constrained). Lawson–Hanson active-set method on the normal equations: the
 * passive set grows by the constrained variable with the largest positive gradient b − Aw; infeasible steps are
 * cut back to the boundary. Each subproblem is a Cholesky solve. Exact after finitely many steps.
 */
export function solveQuadratic(
  A: Float64Array,
  b: Float64Array,
  d: number,
  free: Uint8Array | null,
): Float64Array {
  const passive = new Uint8Array(d);
  if (free) for (let j = 0; j < d; j++) passive[j] = free[j]!;
  const isFree = (j: number) => free !== null && free[j] === 1;
  const w = new Float64Array(d);
  const tol = 1e-12 * Math.max(1, maxAbs(b));
  const maxOuter = 3 * d + 10;
  let first = true;
  for (let outer = 0; outer < maxOuter; outer++) {
    if (!first) {
      // Largest positive gradient among constrained variables at zero.
      let best = -1;
      let bestG = tol;
      for (let j = 0; j < d; j++) {
        if (passive[j]) continue;
        let g = b[j]!;
        for (let c = 0; c < d; c++) g -= A[j * d + c]! * w[c]!;
        if (g > bestG) {
          bestG = g;
          best = j;
        }
      }
      if (best < 0) return w;
      passive[best] = 1;
    }
    first = false;
    for (let inner = 0; inner <= d; inner++) {
      const s = solvePassive(A, b, d, passive);
      let alpha = 1;
      let blocking = -1;
      for (let j = 0; j < d; j++) {
        if (!passive[j] || isFree(j) || s[j]! > 0) continue;
        const a = w[j]! / (w[j]! - s[j]!);
        if (a < alpha) {
          alpha = a;
          blocking = j;
        }
      }
      if (blocking < 0) {
        w.set(s);
        break;
      }
      for (let j = 0; j < d; j++) w[j] = w[j]! + alpha * (s[j]! - w[j]!);
      for (let j = 0; j < d; j++) {
        if (passive[j] && !isFree(j) && (j === blocking || w[j]! <= 0)) {
          passive[j] = 0;
          w[j] = 0;
        }
      }
    }
    if (free?.every((f) => f === 1)) return w;
  }
  return w;
}

function solvePassive(A: Float64Array, b: Float64Array, d: number, passive: Uint8Array): Float64Array {
  const idx: number[] = [];
  for (let j = 0; j < d; j++) if (passive[j]) idx.push(j);
  const k = idx.length;
  const out = new Float64Array(d);
  if (k === 0) return out;
  const sub = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  for (let r = 0; r < k; r++) {
    rhs[r] = b[idx[r]!]!;
    for (let c = 0; c < k; c++) sub[r * k + c] = A[idx[r]! * d + idx[c]!]!;
  }
  if (!cholesky(sub, k))
    throw new ReelabError(
      'stacking: the member predictions are linearly dependent on the validation slice; set ridge > 0',
    );
  choleskySolve(sub, k, rhs);
  for (let r = 0; r < k; r++) out[idx[r]!] = rhs[r]!;
  return out;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}
