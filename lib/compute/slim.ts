/**
 * SLIM (Ning & Karypis 2011) by ElasticNet coordinate descent, one item column at a time. For item j the
 * column w = W[:, j] (w_jj = 0, w ≥ 0) minimises scikit-learn's ElasticNet objective with
 * `fit_intercept=False, positive=True`:
 *
 *   1/(2n)·‖x_j − X w‖² + alpha·l1Ratio·‖w‖₁ + ½·alpha·(1 − l1Ratio)·‖w‖²,    n = rows of X (users),
 *
 * solved like sklearn's `enet_coordinate_descent` (cyclic order, the same update
 * w_k = max(X_kᵀR + ‖X_k‖²·w_k − l1, 0) / (‖X_k‖² + l2) with l1 = alpha·l1Ratio·n, l2 = alpha·(1 − l1Ratio)·n,
 * and the same stopping rule: when the largest coordinate change relative to the largest weight is below tol,
 * stop once the duality gap is below tol·‖x_j‖²; with l1Ratio = 0, where that gap does not vanish — sklearn
 * warns about it — the coordinate-change test alone), with two exact shortcuts:
 * - only items k with X_kᵀx_j > l1 can ever be non-zero (for X ≥ 0 and w ≥ 0, X_kᵀR ≤ X_kᵀx_j), so the others
 *   are never visited — nor do they change the duality gap (their X_kᵀR stays ≤ l1, below the dual norm);
 * - between full sweeps, sweeps over the non-zero coordinates only (glmnet's active set) until they settle.
 * The objective is strictly convex for l1Ratio < 1, so this reaches sklearn's solution (to the tolerance) by a
 * cheaper path. Each column's solve is independent, so columns split over worker threads in any way give the
 * same bits. The topK largest weights of each column are kept, ties to the lower item index.
 */
import type { WeightRows } from './item-weights';
import { workerPool } from './pool';
import { balancedRanges, type SparseMatrix, toStorage } from './sparse';
import { topK } from './topk';

export interface SlimOptions {
  /** Regularisation strength (sklearn's `alpha`). */
  alpha: number;
  /** Share of the L1 term (sklearn's `l1_ratio`). */
  l1Ratio: number;
  /** Full sweeps at most (sklearn's `max_iter`). */
  maxIter: number;
  /** sklearn's `tol`. */
  tol: number;
  topK: number;
  threads: number;
}

export interface SlimPayload {
  /** users × items (X). */
  byUser: SparseMatrix;
  /** items × users (Xᵀ: the columns of X). */
  byItem: SparseMatrix;
  alpha: number;
  l1Ratio: number;
  maxIter: number;
  tol: number;
  topK: number;
  start: number;
  end: number;
}

/** What the solves of a block of columns took (for tests and progress). */
export interface SlimStats {
  /** Full sweeps summed over the columns. */
  sweeps: number;
  /** Columns that stopped at maxIter without meeting the duality-gap test. */
  unconverged: number;
}

/** One column's solution: the candidate items (ascending) and their weights. */
export interface SlimColumn {
  items: Int32Array;
  weights: Float64Array;
  sweeps: number;
  converged: boolean;
}

/** Scratch space of one thread, reused across columns (sized by users and items). */
class Scratch {
  readonly r: Float64Array;
  readonly y: Float64Array;
  readonly userMark: Uint8Array;
  readonly touchedUsers: Int32Array;
  nTouched = 0;
  readonly corr: Float64Array;
  readonly itemMark: Uint8Array;
  readonly touchedItems: Int32Array;

  constructor(nUsers: number, nItems: number) {
    this.r = new Float64Array(nUsers);
    this.y = new Float64Array(nUsers);
    this.userMark = new Uint8Array(nUsers);
    this.touchedUsers = new Int32Array(nUsers);
    this.corr = new Float64Array(nItems);
    this.itemMark = new Uint8Array(nItems);
    this.touchedItems = new Int32Array(nItems);
  }

  touchUser(u: number): void {
    if (!this.userMark[u]) {
      this.userMark[u] = 1;
      this.touchedUsers[this.nTouched++] = u;
    }
  }

  reset(): void {
    for (let t = 0; t < this.nTouched; t++) {
      const u = this.touchedUsers[t]!;
      this.r[u] = 0;
      this.y[u] = 0;
      this.userMark[u] = 0;
    }
    this.nTouched = 0;
  }
}

/** Squared norms of the columns of X. */
function columnNorms(byItem: SparseMatrix): Float64Array {
  const out = new Float64Array(byItem.nRows);
  for (let i = 0; i < byItem.nRows; i++) {
    let s = 0;
    for (let p = byItem.indptr[i]!; p < byItem.indptr[i + 1]!; p++)
      s += byItem.values[p]! * byItem.values[p]!;
    out[i] = s;
  }
  return out;
}

/** Solves column j (see the file comment). */
export function solveSlimColumn(
  j: number,
  byUser: SparseMatrix,
  byItem: SparseMatrix,
  norms: Float64Array,
  o: Pick<SlimOptions, 'alpha' | 'l1Ratio' | 'maxIter' | 'tol'>,
  scratch = new Scratch(byUser.nRows, byItem.nRows),
): SlimColumn {
  const n = byUser.nRows;
  const l1 = o.alpha * o.l1Ratio * n;
  const l2 = o.alpha * (1 - o.l1Ratio) * n;
  const { r, y, corr, itemMark, touchedItems } = scratch;
  const iIdx = byItem.indices;
  const iVal = byItem.values;
  const iPtr = byItem.indptr;
  // y = x_j (= R at w = 0); candidates: k ≠ j with X_kᵀy > l1.
  let yy = 0;
  let nc = 0;
  for (let a = iPtr[j]!; a < iPtr[j + 1]!; a++) {
    const u = iIdx[a]!;
    const v = iVal[a]!;
    scratch.touchUser(u);
    y[u] = v;
    r[u] = v;
    yy += v * v;
    for (let b = byUser.indptr[u]!; b < byUser.indptr[u + 1]!; b++) {
      const k = byUser.indices[b]!;
      if (!itemMark[k]) {
        itemMark[k] = 1;
        touchedItems[nc++] = k;
      }
      corr[k]! += v * byUser.values[b]!;
    }
  }
  let m = 0;
  const candidates = new Int32Array(nc);
  for (let c = 0; c < nc; c++) {
    const k = touchedItems[c]!;
    if (k !== j && corr[k]! > l1 && norms[k]! > 0) candidates[m++] = k;
    corr[k] = 0;
    itemMark[k] = 0;
  }
  const items = candidates.slice(0, m).sort();
  const w = new Float64Array(m);
  if (m === 0) {
    scratch.reset();
    return { items, weights: w, sweeps: 0, converged: true };
  }
  const active = new Int32Array(m);
  const gapTol = o.tol * yy;

  /** One cyclic pass over positions `list[0..len)` of `items`; returns max |Δw| and max |w|. */
  const sweep = (list: Int32Array | null, len: number): [number, number] => {
    let dMax = 0;
    let wMax = 0;
    for (let t = 0; t < len; t++) {
      const c = list ? list[t]! : t;
      const k = items[c]!;
      const old = w[c]!;
      let dot = 0;
      for (let a = iPtr[k]!; a < iPtr[k + 1]!; a++) dot += iVal[a]! * r[iIdx[a]!]!;
      const tmp = dot + norms[k]! * old;
      const next = tmp > l1 ? (tmp - l1) / (norms[k]! + l2) : 0;
      const delta = next - old;
      if (delta !== 0) {
        for (let a = iPtr[k]!; a < iPtr[k + 1]!; a++) {
          const u = iIdx[a]!;
          scratch.touchUser(u);
          r[u]! -= delta * iVal[a]!;
        }
        w[c] = next;
      }
      const ad = Math.abs(delta);
      if (ad > dMax) dMax = ad;
      if (next > wMax) wMax = next;
    }
    return [dMax, wMax];
  };

  /** sklearn's duality gap at the current w (over the candidates; see the file comment). */
  const gap = (): number => {
    let dual = Number.NEGATIVE_INFINITY;
    let wNorm2 = 0;
    let l1Norm = 0;
    for (let c = 0; c < m; c++) {
      const k = items[c]!;
      let dot = 0;
      for (let a = iPtr[k]!; a < iPtr[k + 1]!; a++) dot += iVal[a]! * r[iIdx[a]!]!;
      const xta = dot - l2 * w[c]!;
      if (xta > dual) dual = xta;
      wNorm2 += w[c]! * w[c]!;
      l1Norm += w[c]!;
    }
    let rNorm2 = 0;
    let ry = 0;
    for (let t = 0; t < scratch.nTouched; t++) {
      const u = scratch.touchedUsers[t]!;
      rNorm2 += r[u]! * r[u]!;
      ry += r[u]! * y[u]!;
    }
    let g: number;
    let cst: number;
    if (dual > l1) {
      cst = l1 / dual;
      g = 0.5 * (rNorm2 + rNorm2 * cst * cst);
    } else {
      cst = 1;
      g = rNorm2;
    }
    return g + l1 * l1Norm - cst * ry + 0.5 * l2 * (1 + cst * cst) * wNorm2;
  };

  let sweeps = 0;
  let converged = false;
  for (let iter = 0; iter < o.maxIter; iter++) {
    const [dMax, wMax] = sweep(null, m);
    sweeps++;
    if (wMax === 0 || dMax / wMax < o.tol || iter === o.maxIter - 1) {
      // Without an L1 term sklearn's gap does not vanish at the optimum (its dual point scales by l1 / ‖XᵀR‖):
      // the coordinate-change test alone decides there.
      if (l1 === 0 ? wMax === 0 || dMax / wMax < o.tol : gap() < gapTol) {
        converged = true;
        break;
      }
    }
    // Active set: settle the non-zero coordinates before the next full sweep.
    let na = 0;
    for (let c = 0; c < m; c++) if (w[c] !== 0) active[na++] = c;
    if (na === 0 || na === m) continue;
    for (let inner = 0; inner < o.maxIter; inner++) {
      const [d, wm] = sweep(active, na);
      if (wm === 0 || d / wm < o.tol) break;
    }
  }
  scratch.reset();
  return { items, weights: w, sweeps, converged };
}

/** Worker task: columns [start, end) of W, each its topK largest non-zero weights (rows of the result). */
export function slimColumnsTask(p: SlimPayload): WeightRows & SlimStats {
  const { byUser, byItem, start, end } = p;
  const norms = columnNorms(byItem);
  const scratch = new Scratch(byUser.nRows, byItem.nRows);
  const counts = new Int32Array(end - start);
  const indices: number[] = [];
  const values: number[] = [];
  let sweeps = 0;
  let unconverged = 0;
  for (let j = start; j < end; j++) {
    const col = solveSlimColumn(j, byUser, byItem, norms, p, scratch);
    sweeps += col.sweeps;
    if (!col.converged) unconverged++;
    const scores = Float32Array.from(col.weights);
    const best = topK(scores, p.topK);
    let kept = 0;
    for (let c = 0; c < best.items.length; c++) {
      const v = col.weights[best.items[c]!]!;
      if (!(v > 0)) break;
      indices.push(col.items[best.items[c]!]!);
      values.push(v);
      kept++;
    }
    counts[j - start] = kept;
  }
  return {
    counts,
    indices: Int32Array.from(indices),
    values: Float32Array.from(values),
    sweeps,
    unconverged,
  };
}

/**
 * SLIM's W by columns: row j of the result is column j of W (the weights w_kj of the items k that predict j),
 * at most topK per column. `byUser` is X (users × items), `byItem` its transpose.
 */
export async function slimColumns(
  byUser: SparseMatrix,
  byItem: SparseMatrix,
  options: SlimOptions,
): Promise<{ columns: WeightRows[]; stats: SlimStats }> {
  const n = byItem.nRows;
  const threads = options.threads;
  const storage = threads > 1 ? 'shared' : 'plain';
  const users = toStorage(byUser, storage);
  const items = toStorage(byItem, storage);
  // Column j costs about Σ_{u ∈ x_j} deg(u) to find its candidates, then sweeps over them: balance on nnz.
  const pieces = threads <= 1 ? [[0, n] as [number, number]] : balancedRanges(items.indptr, threads * 8, 4);
  const payloads: SlimPayload[] = pieces.map(([start, end]) => ({
    byUser: users,
    byItem: items,
    alpha: options.alpha,
    l1Ratio: options.l1Ratio,
    maxIter: options.maxIter,
    tol: options.tol,
    topK: options.topK,
    start,
    end,
  }));
  const columns =
    threads <= 1
      ? payloads.map(slimColumnsTask)
      : await workerPool(threads).map<WeightRows & SlimStats>(
          { module: __filename, fn: 'slimColumnsTask' },
          payloads,
        );
  let sweeps = 0;
  let unconverged = 0;
  for (const c of columns) {
    sweeps += c.sweeps;
    unconverged += c.unconverged;
  }
  return { columns, stats: { sweeps, unconverged } };
}
