import { describe, expect, it } from 'vitest';
import { rankingScore, rankWithFactors, rankWithScoreAll } from '../../lib/compute/ranking';
import {
  factorScore,
  packItems,
  quantisedFactors,
  quantiseItems,
  quantiseUser,
  ScoreKernel,
} from '../../lib/compute/ranking-kernel';
import { topK } from '../../lib/compute/topk';
import type { FactorScorer, Recommender } from '../../lib/models/recommender';
import { Rng } from '../../lib/util/rng';

function randomScorer(nUsers: number, nItems: number, F: number, seed: number, biases = true): FactorScorer {
  const rng = new Rng(seed);
  const userFactors = new Float32Array(nUsers * F);
  const itemFactors = new Float32Array(nItems * F);
  rng.fillNormal(userFactors);
  rng.fillNormal(itemFactors);
  const itemBias = biases ? new Float32Array(nItems) : null;
  const userBias = biases ? new Float32Array(nUsers) : null;
  if (itemBias) rng.fillNormal(itemBias);
  if (userBias) rng.fillNormal(userBias);
  return {
    kind: 'factors',
    factors: F,
    userFactors,
    itemFactors,
    itemBias,
    userBias,
    globalBias: biases ? 3.5 : 0,
  };
}

/** Every user excludes a deterministic, irregular set of items (ascending). */
function exclusions(
  nUsers: number,
  nItems: number,
  seed: number,
): { indptr: Int32Array; indices: Int32Array } {
  const rng = new Rng(seed);
  const indptr = new Int32Array(nUsers + 1);
  const indices: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) if (rng.next() < 0.15) indices.push(i);
    indptr[u + 1] = indices.length;
  }
  return { indptr, indices: Int32Array.from(indices) };
}

function rowScores(s: FactorScorer, u: number, nItems: number): Float32Array {
  const row = new Float32Array(nItems);
  for (let i = 0; i < nItems; i++) row[i] = rankingScore(s, u, i);
  return row;
}

function excludedMask(
  ex: { indptr: Int32Array; indices: Int32Array },
  u: number,
  nItems: number,
): Int32Array {
  const m = new Int32Array(nItems);
  for (let p = ex.indptr[u]!; p < ex.indptr[u + 1]!; p++) m[ex.indices[p]!] = 1;
  return m;
}

describe('wasm scoring kernel', () => {
  for (const F of [1, 5, 64]) {
    it(`computes every score bit for bit like the float32 reference (F = ${F})`, () => {
      const nUsers = 7;
      const nItems = 53; // not a multiple of the 16-item register step
      const s = randomScorer(nUsers, nItems, F, F);
      const packed = packItems(s.itemFactors, nItems, F, s.itemBias);
      const kernel = new ScoreKernel(F);
      kernel.prepare('t', packed.items, packed.bias, null, nUsers, 32);
      kernel.userBlock.set(s.userFactors);
      for (let t0 = 0; t0 < kernel.paddedItems; t0 += kernel.tileItems) {
        kernel.thresholds.fill(Number.NEGATIVE_INFINITY);
        const count = Math.min(kernel.tileItems, kernel.paddedItems - t0);
        kernel.scoreTile(nUsers, t0, count);
        for (let u = 0; u < nUsers; u++)
          for (let j = 0; j < count && t0 + j < nItems; j++) {
            const expected = rankingScore(s, u, t0 + j);
            expect(kernel.out[u * kernel.tileItems + j]).toBe(expected);
            expect(factorScore(s.userFactors, u, packed.items, packed.bias, t0 + j, F)).toBe(expected);
          }
      }
    });
  }

  it('lists exactly the 4-item groups holding a score above the row threshold', () => {
    const F = 3;
    const s = randomScorer(3, 32, F, 9, false);
    const packed = packItems(s.itemFactors, 32, F, null);
    const kernel = new ScoreKernel(F);
    kernel.prepare('c', packed.items, packed.bias, null, 3, 32);
    kernel.userBlock.set(s.userFactors);
    kernel.thresholds.set([0.5, Number.NEGATIVE_INFINITY, 100]);
    kernel.scoreTile(3, 0, 32);
    for (let r = 0; r < 3; r++) {
      const expected: number[] = [];
      for (let g = 0; g < 32; g += 4) {
        let any = false;
        for (let j = g; j < g + 4; j++)
          if (kernel.out[r * kernel.tileItems + j]! > kernel.thresholds[r]!) any = true;
        if (any) expected.push(g);
      }
      const got = Array.from(
        kernel.cand.subarray(r * kernel.candStride, r * kernel.candStride + kernel.counts[r]!),
      );
      expect(got).toEqual(expected);
    }
    expect(kernel.counts[1]).toBe(8);
    expect(kernel.counts[2]).toBe(0);
  });
});

describe('int16 bound kernel', () => {
  /** Bounds of every (user, item) next to the exact scores. */
  function bounds(s: FactorScorer, nUsers: number, nItems: number): { bound: number[][]; exact: number[][] } {
    const F = s.factors;
    const packed = packItems(s.itemFactors, nItems, F, s.itemBias);
    const q = quantiseItems(s.itemFactors, nItems, F, s.itemBias)!;
    const kernel = new ScoreKernel(F);
    kernel.prepare(`b${F}`, packed.items, packed.bias, q, nUsers, 10_000);
    const Fq = quantisedFactors(F);
    for (let u = 0; u < nUsers; u++) {
      const [su, c] = quantiseUser(s.userFactors, u, F, kernel.userBlockQ, u * Fq)!;
      kernel.userScale[u] = su;
      kernel.userSlack[u] = c;
    }
    kernel.thresholds.fill(Number.NEGATIVE_INFINITY);
    kernel.scoreTileBound(nUsers, 0, kernel.paddedItems);
    const bound: number[][] = [];
    const exact: number[][] = [];
    for (let u = 0; u < nUsers; u++) {
      bound.push(Array.from(kernel.out.subarray(u * kernel.tileItems, u * kernel.tileItems + nItems)));
      exact.push(Array.from({ length: nItems }, (_, i) => rankingScore(s, u, i)));
    }
    return { bound, exact };
  }

  for (const F of [1, 7, 64, 128]) {
    it(`never falls below the exact f32 score and stays close to it (F = ${F})`, () => {
      const s = randomScorer(6, 300, F, 100 + F);
      // stress the bound: a dominant factor, tiny factors, a zero user, large biases
      s.userFactors[0] = 1000;
      for (let f = 0; f < F; f++) s.userFactors[F + f] = 1e-7 * (f + 1);
      s.userFactors.fill(0, 2 * F, 3 * F);
      s.itemBias![3] = 1e6;
      s.itemBias![4] = -1e6;
      const { bound, exact } = bounds(s, 6, 300);
      let worst = 0;
      for (let u = 0; u < 6; u++)
        for (let i = 0; i < 300; i++) {
          expect(bound[u]![i]!).toBeGreaterThanOrEqual(exact[u]![i]!);
          if (u >= 3 && i !== 3 && i !== 4) worst = Math.max(worst, bound[u]![i]! - exact[u]![i]!);
        }
      // plain Gaussian rows: the slack is a small fraction of the score spread (≈ √F)
      expect(worst).toBeLessThan(0.05 * Math.sqrt(F));
    });
  }

  it('refuses to quantise non-finite factors (the f32 kernel handles them)', () => {
    const s = randomScorer(2, 20, 4, 3);
    s.itemFactors[5] = Number.POSITIVE_INFINITY;
    expect(quantiseItems(s.itemFactors, 20, 4, s.itemBias)).toBeNull();
    s.itemFactors[5] = 1;
    s.userFactors[1] = Number.NaN;
    expect(quantiseUser(s.userFactors, 0, 4, new Int16Array(4), 0)).toBeNull();
  });
});

describe('full ranking with factor scorers', () => {
  const nUsers = 40;
  const nItems = 1001;
  const F = 12;
  const scorer = randomScorer(nUsers, nItems, F, 1);
  const exclude = exclusions(nUsers, nItems, 2);
  const users = Int32Array.from({ length: nUsers }, (_, u) => nUsers - 1 - u); // any order

  it('equals topK over each full score row, exclusions applied, user/global biases added to scores', async () => {
    const k = 15;
    const r = await rankWithFactors(scorer, users, { k, exclude });
    expect(r.path).toBe('factors');
    for (let row = 0; row < nUsers; row++) {
      const u = users[row]!;
      const expected = topK(rowScores(scorer, u, nItems), k, excludedMask(exclude, u, nItems), 1);
      expect(Array.from(r.items.subarray(row * k, row * k + k))).toEqual(Array.from(expected.items));
      const shift = scorer.userBias![u]! + scorer.globalBias!;
      for (let j = 0; j < k; j++)
        expect(r.scores[row * k + j]).toBe(Math.fround(expected.scores[j]! + shift));
      expect(r.counts[row]).toBe(k);
    }
  });

  it('is bit-identical with 1 and 2 threads and any block sizes', async () => {
    const k = 10;
    const relevant = exclusions(nUsers, nItems, 3); // any sets disjoint from `exclude` do; make them so
    const rel = disjoint(relevant, exclude, nUsers);
    const reference = await rankWithFactors(scorer, users, { k, exclude, relevant: rel, threads: 1 });
    // parallelMinFlops 0: use the workers even for this small job
    const variants = [
      { threads: 2, parallelMinFlops: 0 },
      { threads: 1, blockUsers: 1, blockItems: 16 },
      { threads: 2, blockUsers: 7, blockItems: 100, parallelMinFlops: 0 },
      { threads: 1, blockUsers: 1000, blockItems: 5000 },
      { threads: 2, blockUsers: 3, blockItems: 17, parallelMinFlops: 0 },
    ];
    for (const v of variants) {
      const r = await rankWithFactors(scorer, users, { k, exclude, relevant: rel, ...v });
      expect(r.threads).toBe(v.threads);
      expect(Buffer.from(r.items.buffer, r.items.byteOffset, r.items.byteLength)).toEqual(
        Buffer.from(reference.items.buffer, reference.items.byteOffset, reference.items.byteLength),
      );
      expect(Array.from(r.scores)).toEqual(Array.from(reference.scores));
      expect(Array.from(r.bestRank!)).toEqual(Array.from(reference.bestRank!));
      expect(Array.from(r.aucWins!)).toEqual(Array.from(reference.aucWins!));
      expect(Array.from(r.aucPairs!)).toEqual(Array.from(reference.aucPairs!));
    }
  });

  it('gives the same lists with and without the int16 bound kernel, any threads and block sizes', async () => {
    const k = 7;
    const reference = await rankWithFactors(scorer, users, {
      k,
      exclude,
      boundKernel: false,
      blockItems: 16,
    });
    expect(reference.work.boundTiles).toBe(0);
    const variants = [
      { threads: 1 },
      { threads: 1, blockUsers: 4, blockItems: 32 },
      { threads: 2, blockUsers: 9, blockItems: 48, parallelMinFlops: 0 },
      { threads: 2, blockUsers: 100, blockItems: 160, parallelMinFlops: 0 },
    ];
    for (const v of variants) {
      const r = await rankWithFactors(scorer, users, { k, exclude, ...v });
      expect(r.work.boundTiles).toBeGreaterThan(0);
      expect(Array.from(r.items)).toEqual(Array.from(reference.items));
      expect(Array.from(r.scores)).toEqual(Array.from(reference.scores));
    }
  });

  it('computes the full rank of the best relevant item and AUC pair counts like brute force', async () => {
    const rel = disjoint(exclusions(nUsers, nItems, 4), exclude, nUsers);
    const r = await rankWithFactors(scorer, users, { k: 5, exclude, relevant: rel, blockItems: 64 });
    for (let row = 0; row < nUsers; row++) {
      const u = users[row]!;
      const scores = rowScores(scorer, u, nItems);
      const ex = excludedMask(exclude, u, nItems);
      const isRel = new Uint8Array(nItems);
      for (let p = rel.indptr[u]!; p < rel.indptr[u + 1]!; p++) isRel[rel.indices[p]!] = 1;
      // full ranking of candidates, ties → lower index
      const order = Array.from({ length: nItems }, (_, i) => i)
        .filter((i) => ex[i] === 0)
        .sort((a, b) => scores[b]! - scores[a]! || a - b);
      const first = order.findIndex((i) => isRel[i] === 1);
      expect(r.bestRank![row]).toBe(first + 1);
      let wins = 0;
      let pairs = 0;
      for (const p of order)
        if (isRel[p])
          for (const n of order)
            if (!isRel[n]) {
              pairs++;
              wins += scores[p]! > scores[n]! ? 1 : scores[p] === scores[n] ? 0.5 : 0;
            }
      expect(r.aucPairs![row]).toBe(pairs);
      expect(r.aucWins![row]).toBe(wins);
    }
  });

  it('breaks ties by the lower item index and keeps short lists when K exceeds the candidates', async () => {
    // 3 users × 40 items, 2 factors; items 0..39 come in groups of equal vectors → many exact ties
    const F2 = 2;
    const itemFactors = new Float32Array(40 * F2);
    for (let i = 0; i < 40; i++) {
      itemFactors[i * F2] = (i % 5) * 0.25;
      itemFactors[i * F2 + 1] = 1;
    }
    const s: FactorScorer = {
      kind: 'factors',
      factors: F2,
      userFactors: Float32Array.from([1, 0, -1, 0, 0, 1]),
      itemFactors,
    };
    const ex = {
      indptr: Int32Array.from([0, 0, 0, 35]),
      indices: Int32Array.from({ length: 35 }, (_, i) => i),
    };
    const r = await rankWithFactors(s, Int32Array.from([0, 1, 2]), { k: 8, exclude: ex, blockItems: 16 });
    // user 0: score = (i % 5)/4 → the 4s first (4, 9, 14, …), in index order
    expect(Array.from(r.items.subarray(0, 8))).toEqual([4, 9, 14, 19, 24, 29, 34, 39]);
    // user 1: the 0s first
    expect(Array.from(r.items.subarray(8, 16))).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
    // user 2: all scores equal (1); only items 35..39 remain → 5 items, then padding
    expect(r.counts[2]).toBe(5);
    expect(Array.from(r.items.subarray(16, 24))).toEqual([35, 36, 37, 38, 39, -1, -1, -1]);
    // ties straddling the k-th place, through the kernel and through scoreAll
    const top3 = await rankWithFactors(s, Int32Array.from([0, 1]), { k: 3, blockItems: 16 });
    expect(Array.from(top3.items)).toEqual([4, 9, 14, 0, 5, 10]);
    const model = {
      scoreAll(u: number, out: Float32Array) {
        for (let i = 0; i < 40; i++) out[i] = rankingScore(s, u, i);
      },
    } as unknown as Recommender;
    const viaScoreAll = await rankWithScoreAll(model, 40, Int32Array.from([0, 1]), { k: 3 });
    expect(Array.from(viaScoreAll.items)).toEqual([4, 9, 14, 0, 5, 10]);
  });

  it('rejects NaN scores and bad options with clear errors', async () => {
    const s = randomScorer(2, 20, 3, 5, false);
    s.itemFactors[7 * 3] = Number.NaN;
    await expect(rankWithFactors(s, Int32Array.from([0, 1]), { k: 3 })).rejects.toThrow(
      /NaN for user index 0, item index 7/,
    );
    await expect(rankWithFactors(scorer, users, { k: 0 })).rejects.toThrow(/k: must be a positive integer/);
    await expect(rankWithFactors(scorer, Int32Array.from([nUsers]), { k: 3 })).rejects.toThrow(/outside/);
    await expect(rankWithFactors(scorer, users, { k: 3, threads: 0 })).rejects.toThrow(/threads/);
  });
});

/** rel minus excluded items, per user. */
function disjoint(
  rel: { indptr: Int32Array; indices: Int32Array },
  ex: { indptr: Int32Array; indices: Int32Array },
  nUsers: number,
): { indptr: Int32Array; indices: Int32Array } {
  const indptr = new Int32Array(nUsers + 1);
  const out: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const exSet = new Set(ex.indices.subarray(ex.indptr[u]!, ex.indptr[u + 1]!));
    for (let p = rel.indptr[u]!; p < rel.indptr[u + 1]!; p++)
      if (!exSet.has(rel.indices[p]!)) out.push(rel.indices[p]!);
    indptr[u + 1] = out.length;
  }
  return { indptr, indices: Int32Array.from(out) };
}

describe('full ranking through scoreAll (models without a factor form)', () => {
  it('gives the same lists, ranks and AUC counts as the factor path on the same scores', async () => {
    const nUsers = 12;
    const nItems = 300;
    const s = randomScorer(nUsers, nItems, 6, 11);
    const exclude = exclusions(nUsers, nItems, 12);
    const relevant = disjoint(exclusions(nUsers, nItems, 13), exclude, nUsers);
    // A model whose scoreAll is the factor scorer's ranking score (no factor form exposed).
    const model = {
      name: 'fixed',
      params: {},
      fitted: true,
      scoreAll(u: number, out: Float32Array) {
        for (let i = 0; i < nItems; i++) out[i] = rankingScore(s, u, i);
      },
    } as unknown as Recommender;
    const users = Int32Array.from({ length: nUsers }, (_, u) => u);
    const a = await rankWithScoreAll(model, nItems, users, { k: 9, exclude, relevant });
    const b = await rankWithFactors({ ...s, userBias: null, globalBias: 0 }, users, {
      k: 9,
      exclude,
      relevant,
    });
    expect(a.path).toBe('scoreAll');
    expect(Array.from(a.items)).toEqual(Array.from(b.items));
    expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
    expect(Array.from(a.bestRank!)).toEqual(Array.from(b.bestRank!));
    expect(Array.from(a.aucWins!)).toEqual(Array.from(b.aucWins!));
  });
});
