/**
 * RP3β item-item weights (Paudel, Christoffel, Newell & Bernstein 2017): a three-step random walk
 * item → user → item on the bipartite interaction graph, with the transition probabilities raised to α and the
 * arrival item's popularity discounted by pop(j)^β:
 *
 *   W[i][j] = (Σ_u P_iu^α · P_uj^α) / pop(j)^β,   P_iu = 1/deg(i), P_uj = 1/deg(u)   (binary interactions),
 *
 * i.e. W[i][j] = deg(i)^-α · pop(j)^-β · Σ_{u ∈ N(i) ∩ N(j)} deg(u)^-α, with pop(j) = deg(j). Each row keeps its
 * topK largest non-zero weights, the item itself left out (as the reference implementation does), ties to the
 * lower item index; with `normalize` each kept row is divided by its sum (l1). Rows are independent, so they
 * are split over worker threads in any way without changing a bit.
 */
import { assembleRows, type WeightRows } from './item-weights';
import { workerPool } from './pool';
import { balancedRanges, type SparseMatrix, toStorage } from './sparse';
import { topK } from './topk';

export interface Rp3Options {
  alpha: number;
  beta: number;
  topK: number;
  normalize: boolean;
  threads: number;
}

export interface Rp3Payload {
  /** items × users, binary pattern (values unused). */
  byItem: SparseMatrix;
  /** users × items, binary pattern (values unused). */
  byUser: SparseMatrix;
  alpha: number;
  beta: number;
  topK: number;
  normalize: boolean;
  start: number;
  end: number;
}

/** Worker task: rows [start, end) of W. */
export function rp3RowsTask(p: Rp3Payload): WeightRows {
  const { byItem, byUser, alpha, beta, start, end } = p;
  const k = p.topK;
  const nItems = byItem.nRows;
  const nUsers = byUser.nRows;
  // deg(u)^-α and pop(j)^-β (0 for empty rows/columns, which never take part in a walk)
  const userStep = new Float64Array(nUsers);
  for (let u = 0; u < nUsers; u++) {
    const d = byUser.indptr[u + 1]! - byUser.indptr[u]!;
    userStep[u] = d > 0 ? d ** -alpha : 0;
  }
  const popDiscount = new Float64Array(nItems);
  for (let j = 0; j < nItems; j++) {
    const d = byItem.indptr[j + 1]! - byItem.indptr[j]!;
    popDiscount[j] = d > 0 ? d ** -beta : 0;
  }
  const sums = new Float64Array(nItems);
  const mark = new Uint8Array(nItems);
  const touched = new Int32Array(nItems);
  const candScores = new Float32Array(nItems);
  const counts = new Int32Array(end - start);
  const indices = new Int32Array((end - start) * Math.min(k, nItems));
  const values = new Float32Array(indices.length);
  let out = 0;
  for (let i = start; i < end; i++) {
    const deg = byItem.indptr[i + 1]! - byItem.indptr[i]!;
    if (deg === 0) continue;
    const itemStep = deg ** -alpha;
    let n = 0;
    for (let a = byItem.indptr[i]!; a < byItem.indptr[i + 1]!; a++) {
      const u = byItem.indices[a]!;
      const w = itemStep * userStep[u]!;
      for (let b = byUser.indptr[u]!; b < byUser.indptr[u + 1]!; b++) {
        const j = byUser.indices[b]!;
        if (!mark[j]) {
          mark[j] = 1;
          touched[n++] = j;
        }
        sums[j]! += w;
      }
    }
    // Ascending candidates so that ties go to the lower item index; the item itself is left out.
    const cand = touched.subarray(0, n).sort();
    for (let c = 0; c < n; c++) {
      const j = cand[c]!;
      candScores[c] = j === i ? Number.NEGATIVE_INFINITY : sums[j]! * popDiscount[j]!;
    }
    const best = topK(candScores.subarray(0, n), k);
    let kept = 0;
    let total = 0;
    for (let c = 0; c < best.items.length; c++) {
      const s = sums[cand[best.items[c]!]!]! * popDiscount[cand[best.items[c]!]!]!;
      if (!(s > 0)) break;
      kept++;
      total += s;
    }
    for (let c = 0; c < kept; c++) {
      const j = cand[best.items[c]!]!;
      const s = sums[j]! * popDiscount[j]!;
      indices[out] = j;
      values[out++] = p.normalize ? s / total : s;
    }
    counts[i - start] = kept;
    for (let c = 0; c < n; c++) {
      sums[cand[c]!] = 0;
      mark[cand[c]!] = 0;
    }
  }
  return { counts, indices: indices.slice(0, out), values: values.slice(0, out) };
}

/**
 * W of RP3β from the binary interaction pattern (`byUser`: users × items, `byItem` its transpose), rows best
 * first. With threads > 1 the rows are split into balanced pieces run on the shared worker pool.
 */
export async function rp3betaWeights(
  byUser: SparseMatrix,
  byItem: SparseMatrix,
  options: Rp3Options,
): Promise<SparseMatrix> {
  const n = byItem.nRows;
  const threads = options.threads;
  const storage = threads > 1 ? 'shared' : 'plain';
  const items = toStorage(byItem, storage);
  const users = toStorage(byUser, storage);
  const pieces = threads <= 1 ? [[0, n] as [number, number]] : balancedRanges(items.indptr, threads * 4, 1);
  const payloads: Rp3Payload[] = pieces.map(([start, end]) => ({
    byItem: items,
    byUser: users,
    alpha: options.alpha,
    beta: options.beta,
    topK: options.topK,
    normalize: options.normalize,
    start,
    end,
  }));
  const results =
    threads <= 1
      ? payloads.map(rp3RowsTask)
      : await workerPool(threads).map<WeightRows>({ module: __filename, fn: 'rp3RowsTask' }, payloads);
  return assembleRows(n, results);
}
