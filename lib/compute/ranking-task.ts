import {
  factorScore,
  type QuantisedItems,
  quantisedFactors,
  quantiseUser,
  ScoreKernel,
} from './ranking-kernel';
import { RankStats, TopKSelector } from './ranking-select';

/**
 * One piece of full-ranking work: users[start..end) scored against every item in blocks of `blockUsers`
 * users × tiles of `blockItems` items (item factors stream through the cache once per user block), top-k
 * kept per user, results written to the shared output arrays at the users' positions.
 *
 * Tiles are scored by the exact f32 kernel while some list of the block is not full yet (or when rank
 * statistics need every exact score); after that by the int16 kernel's certified upper bounds, and only
 * items whose bound exceeds the user's current k-th best exact score are rescored exactly (`factorScore`)
 * and offered to the list. Lists are therefore exactly those of the f32 scores, whichever kernel ran.
 */
export interface RankTaskPayload {
  /** Identifies the packed item data, so a worker copies it into its kernel memory only once. */
  scorerId: string;
  factors: number;
  nItems: number;
  packedItems: Float32Array;
  packedBias: Float32Array;
  /** int16 item data, or null (f32 kernel only). */
  quantised: QuantisedItems | null;
  userFactors: Float32Array;
  users: Int32Array;
  start: number;
  end: number;
  k: number;
  blockUsers: number;
  blockItems: number;
  excludeIndptr: Int32Array | null;
  excludeIndices: Int32Array | null;
  relevantIndptr: Int32Array | null;
  relevantIndices: Int32Array | null;
  outItems: Int32Array;
  outScores: Float32Array;
  outCounts: Int32Array;
  /** When relevant sets are given: rank of the best relevant item, AUC wins and pairs per user. */
  outBestRank: Float64Array | null;
  outWins: Float64Array | null;
  outPairs: Float64Array | null;
}

export interface RankTaskResult {
  /** Seconds spent inside the scoring kernels. */
  kernelSeconds: number;
  /** Tiles (block × item tile) scored by the f32 and by the int16 kernel, and items rescored exactly. */
  exactTiles: number;
  boundTiles: number;
  rescored: number;
}

const kernels = new Map<number, ScoreKernel>();

/** Runs in a worker (or inline): see RankTaskPayload. */
export function rankUsersTask(p: RankTaskPayload): RankTaskResult {
  let kernel = kernels.get(p.factors);
  if (!kernel) {
    kernel = new ScoreKernel(p.factors);
    kernels.set(p.factors, kernel);
  }
  const F = p.factors;
  const Fq = quantisedFactors(F);
  const blockUsers = Math.max(1, Math.min(p.blockUsers, p.end - p.start));
  kernel.prepare(p.scorerId, p.packedItems, p.packedBias, p.quantised, blockUsers, p.blockItems);
  const exclude =
    p.excludeIndptr && p.excludeIndices ? { indptr: p.excludeIndptr, indices: p.excludeIndices } : null;
  const relevant =
    p.relevantIndptr && p.relevantIndices ? { indptr: p.relevantIndptr, indices: p.relevantIndices } : null;
  const selector = new TopKSelector(p.k, kernel.rows, exclude);
  const stats = relevant ? new RankStats(kernel.rows, exclude, relevant) : null;
  const nPad = kernel.paddedItems;
  const tile = kernel.tileItems;
  const { out, userBlock, userBlockQ, userScale, userSlack, thresholds, cand, counts } = kernel;
  const candStride = kernel.candStride;
  const result: RankTaskResult = { kernelSeconds: 0, exactTiles: 0, boundTiles: 0, rescored: 0 };
  const blockUsersList = new Int32Array(kernel.rows);

  for (let b0 = p.start; b0 < p.end; b0 += blockUsers) {
    const b1 = Math.min(p.end, b0 + blockUsers);
    const rows = b1 - b0;
    let boundOk = kernel.hasBound && stats === null;
    for (let r = 0; r < rows; r++) {
      const u = p.users[b0 + r]!;
      blockUsersList[r] = u;
      userBlock.set(p.userFactors.subarray(u * F, u * F + F), r * F);
      selector.reset(r, u);
      if (stats)
        stats.reset(r, u, (item) => factorScore(p.userFactors, u, p.packedItems, p.packedBias, item, F));
      if (boundOk) {
        const q = quantiseUser(p.userFactors, u, F, userBlockQ, r * Fq);
        if (q) {
          userScale[r] = q[0];
          userSlack[r] = q[1];
        } else boundOk = false;
      }
    }
    userBlock.fill(0, rows * F, kernel.rows * F);
    if (boundOk) {
      userBlockQ.fill(0, rows * Fq, kernel.rows * Fq);
      userScale.fill(0, rows);
      userSlack.fill(0, rows);
    }
    for (let t0 = 0; t0 < nPad; t0 += tile) {
      const count = Math.min(tile, nPad - t0);
      const n = Math.min(count, p.nItems - t0);
      let full = true;
      for (let r = 0; r < rows; r++) {
        thresholds[r] = selector.threshold(r);
        if (thresholds[r] === Number.NEGATIVE_INFINITY) full = false;
      }
      const bound = boundOk && full;
      const started = performance.now();
      if (bound) kernel.scoreTileBound(rows, t0, count);
      else kernel.scoreTile(rows, t0, count);
      result.kernelSeconds += (performance.now() - started) / 1000;
      if (bound) result.boundTiles++;
      else result.exactTiles++;
      if (n <= 0) continue;
      for (let r = 0; r < rows; r++) {
        const listed = counts[r]!;
        const rowAt = r * tile;
        if (bound) {
          // Upper bounds: rescore the items that could still beat the row's k-th best exact score.
          const u = blockUsersList[r]!;
          let threshold = selector.threshold(r);
          for (let c = 0; c < listed; c++) {
            const offset = cand[r * candStride + c]!;
            const m = Math.min(4, n - offset);
            for (let j = 0; j < m; j++) {
              if (!(out[rowAt + offset + j]! > threshold)) continue;
              const item = t0 + offset + j;
              const s = factorScore(p.userFactors, u, p.packedItems, p.packedBias, item, F);
              result.rescored++;
              if (s > threshold || Number.isNaN(s)) threshold = selector.offer(r, s, item);
            }
          }
        } else {
          // Exact scores: only the 4-item groups with a score above the row's threshold can change the list.
          for (let c = 0; c < listed; c++) {
            const offset = cand[r * candStride + c]!;
            selector.scan(r, out, rowAt + offset, Math.min(4, n - offset), t0 + offset);
          }
          stats?.scan(r, out, rowAt, n, t0);
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      const pos = b0 + r;
      p.outCounts[pos] = selector.finish(r, p.outItems, p.outScores, pos * p.k);
      if (stats) {
        const s = stats.finish(r);
        p.outBestRank![pos] = s.bestRank;
        p.outWins![pos] = s.wins;
        p.outPairs![pos] = s.pairs;
      }
    }
  }
  return result;
}
