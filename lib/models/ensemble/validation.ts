import { topK } from '../../compute/topk';
import type { Interactions } from '../../data/interactions';
import { indexOfSorted, ndcgAtK } from '../../eval/metrics';
import { Rng } from '../../util/rng';

/** The training part split into what members are fitted on and the slice the blend weights are learned on. */
export interface ValidationSplit {
  fit: Interactions;
  validation: Interactions;
}

/**
 * Per-user random validation slice: each user with n ≥ 2 training ratings gives round(n · fraction) of them,
 * at most n − 1 (so everyone keeps a training rating), chosen by a seeded shuffle of the user's rows. Rows stay
 * in source order in both parts; both share the training id maps.
 */
export function validationSlice(train: Interactions, fraction: number, seed: number): ValidationSplit {
  const csr = train.csr();
  const mask = new Uint8Array(train.size);
  const rng = Rng.derive(seed, 0x5e1ec7);
  let rows = new Int32Array(64);
  for (let u = 0; u < train.nUsers; u++) {
    const from = csr.indptr[u]!;
    const n = csr.indptr[u + 1]! - from;
    const take = Math.min(n - 1, Math.round(n * fraction));
    if (take <= 0) continue;
    if (rows.length < n) rows = new Int32Array(n * 2);
    for (let p = 0; p < n; p++) rows[p] = csr.order ? csr.order[from + p]! : from + p;
    // Partial Fisher–Yates: the first `take` positions get a uniform sample of the user's rows.
    for (let p = 0; p < take; p++) {
      const q = p + rng.int(n - p);
      const tmp = rows[p]!;
      rows[p] = rows[q]!;
      rows[q] = tmp;
      mask[rows[p]!] = 1;
    }
  }
  const keep = new Uint8Array(train.size);
  for (let t = 0; t < train.size; t++) keep[t] = mask[t] ? 0 : 1;
  return {
    fit: train.filter(keep, `${train.source} (ensemble fit part)`),
    validation: train.filter(mask, `${train.source} (ensemble validation slice)`),
  };
}

/**
 * Ranking-mode stacking rows, grouped by user: every validation item of a user (label 1) and `negatives`
 * items per validation item drawn uniformly from the items the user has in neither part (label 0, with
 * replacement, seeded). `users` are the validation users ascending; pairs of users[r] are
 * items[indptr[r] .. indptr[r + 1]).
 */
export interface RankingRows {
  users: Int32Array;
  indptr: Int32Array;
  items: Int32Array;
  labels: Uint8Array;
}

export function rankingRows(split: ValidationSplit, negatives: number, seed: number): RankingRows {
  const fit = split.fit.csr();
  const val = split.validation.csr();
  const nItems = split.fit.nItems;
  const rng = Rng.derive(seed, 0x7e9a);
  const users: number[] = [];
  const indptr: number[] = [0];
  const items: number[] = [];
  const labels: number[] = [];
  for (let u = 0; u < split.fit.nUsers; u++) {
    const from = val.indptr[u]!;
    const to = val.indptr[u + 1]!;
    if (to === from) continue;
    const seenFit = fit.indices.subarray(fit.indptr[u]!, fit.indptr[u + 1]!);
    const seenVal = val.indices.subarray(from, to);
    const unseen = nItems - seenFit.length - seenVal.length;
    for (let p = from; p < to; p++) {
      items.push(val.indices[p]!);
      labels.push(1);
    }
    if (unseen > 0) {
      for (let c = 0; c < (to - from) * negatives; c++) {
        let item = rng.int(nItems);
        while (indexOfSorted(seenFit, item) >= 0 || indexOfSorted(seenVal, item) >= 0) item = rng.int(nItems);
        items.push(item);
        labels.push(0);
      }
    }
    users.push(u);
    indptr.push(items.length);
  }
  return {
    users: Int32Array.from(users),
    indptr: Int32Array.from(indptr),
    items: Int32Array.from(items),
    labels: Uint8Array.from(labels),
  };
}

/** Mean and standard deviation of one user's scores over all items (σ = 0 → 1, so z-scores stay finite). */
export function scoreMoments(scores: Float32Array): { mean: number; std: number } {
  let s = 0;
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  const mean = n > 0 ? s / n : 0;
  let ss = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (Number.isFinite(v)) ss += (v - mean) ** 2;
  }
  const std = n > 1 ? Math.sqrt(ss / n) : 0;
  return { mean, std: std > 1e-12 ? std : 1 };
}

/** Scores → z-scores in place; non-finite scores (items a model cannot score) become the user's mean (0). */
export function zScoreInPlace(scores: Float32Array): void {
  const { mean, std } = scoreMoments(scores);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    scores[i] = Number.isFinite(v) ? (v - mean) / std : 0;
  }
}

/** Something that scores every item for a user (a member, or the blend). */
export type ScoreAll = (user: number, out: Float32Array) => void;

/**
 * Mean NDCG@k over the users of `rows`: each user's items ranked by `scoreAll`, leaving out the items of the fit
 * part, against the user's validation items.
 */
export function validationNdcg(
  scoreAll: ScoreAll,
  split: ValidationSplit,
  rows: RankingRows,
  k: number,
): number {
  const fit = split.fit.csr();
  const val = split.validation.csr();
  const nItems = split.fit.nItems;
  const scores = new Float32Array(nItems);
  const mark = new Int32Array(nItems);
  let sum = 0;
  for (let r = 0; r < rows.users.length; r++) {
    const u = rows.users[r]!;
    scoreAll(u, scores);
    const stamp = r + 1;
    for (let p = fit.indptr[u]!; p < fit.indptr[u + 1]!; p++) mark[fit.indices[p]!] = stamp;
    const list = topK(scores, k, mark, stamp).items;
    sum += ndcgAtK(list, val.indices.subarray(val.indptr[u]!, val.indptr[u + 1]!), k);
  }
  return rows.users.length > 0 ? sum / rows.users.length : Number.NaN;
}
