/**
 * Item–item top-K neighbours of a weighted item × user matrix (implicit's `all_pairs_knn`): for item i,
 * sim(i, j) = Σ_u w_iu·w_ju over co-occurring users, keeping the K largest (the item itself included, as
 * implicit does). Items are independent, so rows can be split over threads in any way.
 */
import { workerPool } from './pool';
import { balancedRanges, type SparseMatrix } from './sparse';
import { topK } from './topk';

export interface KnnPayload {
  /** items × users (rows = items). */
  byItem: SparseMatrix;
  /** users × items, the transpose of byItem. */
  byUser: SparseMatrix;
  k: number;
  start: number;
  end: number;
}

/** Worker task: neighbours of items [start, end) as (counts per item, neighbour indices, similarities). */
export function knnRowsTask(p: KnnPayload): {
  counts: Int32Array;
  indices: Int32Array;
  values: Float32Array;
} {
  const { byItem, byUser, k, start, end } = p;
  const nItems = byItem.nRows;
  const sums = new Float64Array(nItems);
  const mark = new Uint8Array(nItems);
  const touched = new Int32Array(nItems);
  const candScores = new Float32Array(nItems);
  const counts = new Int32Array(end - start);
  const indices = new Int32Array((end - start) * k);
  const values = new Float32Array((end - start) * k);
  let out = 0;
  for (let i = start; i < end; i++) {
    let n = 0;
    for (let a = byItem.indptr[i]!; a < byItem.indptr[i + 1]!; a++) {
      const u = byItem.indices[a]!;
      const w1 = byItem.values[a]!;
      for (let b = byUser.indptr[u]!; b < byUser.indptr[u + 1]!; b++) {
        const j = byUser.indices[b]!;
        if (!mark[j]) {
          mark[j] = 1;
          touched[n++] = j;
        }
        sums[j]! += w1 * byUser.values[b]!;
      }
    }
    // Ascending candidates so that ties go to the lower item index.
    const cand = touched.subarray(0, n).sort();
    for (let c = 0; c < n; c++) candScores[c] = sums[cand[c]!]!;
    const best = topK(candScores.subarray(0, n), k);
    counts[i - start] = best.items.length;
    for (let c = 0; c < best.items.length; c++) {
      indices[out] = cand[best.items[c]!]!;
      values[out++] = best.scores[c]!;
    }
    for (let c = 0; c < n; c++) {
      sums[cand[c]!] = 0;
      mark[cand[c]!] = 0;
    }
  }
  return { counts, indices: indices.slice(0, out), values: values.slice(0, out) };
}

/** The top-K neighbour lists of every item as an items × items sparse matrix (rows best first). */
export async function allPairsKnn(
  byItem: SparseMatrix,
  byUser: SparseMatrix,
  k: number,
  threads: number,
): Promise<SparseMatrix> {
  const n = byItem.nRows;
  const pieces = threads <= 1 ? [[0, n] as [number, number]] : balancedRanges(byItem.indptr, threads * 4, 1);
  const payloads = pieces.map(([start, end]) => ({ byItem, byUser, k, start, end }));
  const results =
    threads <= 1
      ? payloads.map(knnRowsTask)
      : await workerPool(threads).map<ReturnType<typeof knnRowsTask>>(
          { module: __filename, fn: 'knnRowsTask' },
          payloads,
        );
  const indptr = new Int32Array(n + 1);
  let total = 0;
  let row = 0;
  for (const r of results) {
    for (let c = 0; c < r.counts.length; c++) {
      total += r.counts[c]!;
      indptr[++row] = total;
    }
  }
  const indices = new Int32Array(total);
  const values = new Float32Array(total);
  let at = 0;
  for (const r of results) {
    indices.set(r.indices, at);
    values.set(r.values, at);
    at += r.indices.length;
  }
  return { nRows: n, nCols: n, indptr, indices, values };
}
