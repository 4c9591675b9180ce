import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orthonormalize, randomizedSvd, symmetricEigen } from '../../lib/compute/rsvd';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { generateSynthetic } from '../../lib/data/synthetic';
import { loadModel, saveModel } from '../../lib/models/persist';
import { PureSvdModel } from '../../lib/models/pure-svd';
import { Rng } from '../../lib/util/rng';

/** A dense rows × cols matrix as Interactions (every entry stored). */
function dense(m: number[][]): Interactions {
  const users: number[] = [];
  const items: number[] = [];
  const ratings: number[] = [];
  for (let u = 0; u < m.length; u++)
    for (let i = 0; i < m[u]!.length; i++) {
      const v = m[u]![i]!;
      if (v === 0) continue;
      users.push(u);
      items.push(i);
      ratings.push(v);
    }
  return new Interactions({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: Float32Array.from(ratings),
    userIds: IdMap.fromSorted(Int32Array.from(m, (_, i) => i + 1)),
    itemIds: IdMap.fromSorted(Int32Array.from(m[0]!, (_, i) => i + 1)),
  });
}

describe('randomized SVD kernels', () => {
  it('Jacobi eigensolver: A v = λ v, eigenvalues sorted descending', () => {
    const a = Float64Array.of(4, 1, 2, 1, 3, 0, 2, 0, 5);
    const { values, vectors } = symmetricEigen(a, 3);
    expect(values[0]!).toBeGreaterThanOrEqual(values[1]!);
    expect(values[1]!).toBeGreaterThanOrEqual(values[2]!);
    expect(values[0]! + values[1]! + values[2]!).toBeCloseTo(12, 10);
    for (let j = 0; j < 3; j++)
      for (let r = 0; r < 3; r++) {
        let av = 0;
        for (let c = 0; c < 3; c++) av += a[r * 3 + c]! * vectors[c * 3 + j]!;
        expect(av).toBeCloseTo(values[j]! * vectors[r * 3 + j]!, 10);
      }
  });

  it('orthonormalize gives orthonormal columns and zeroes dependent ones', () => {
    const m = Float64Array.of(1, 2, 3, 1, 0, 3, 0, 1, 0, 1, 1, 3);
    orthonormalize(m, 4, 3);
    const dot = (i: number, j: number) => {
      let s = 0;
      for (let r = 0; r < 4; r++) s += m[r * 3 + i]! * m[r * 3 + j]!;
      return s;
    };
    expect(dot(0, 0)).toBeCloseTo(1, 12);
    expect(dot(1, 1)).toBeCloseTo(1, 12);
    expect(dot(0, 1)).toBeCloseTo(0, 12);
    // column 2 = 3 · column 0
    expect(dot(2, 2)).toBe(0);
  });

  it('recovers the exact singular values of a rank-2 matrix built from orthonormal vectors', () => {
    const u1 = [0.5, 0.5, 0.5, 0.5];
    const u2 = [0.5, -0.5, 0.5, -0.5];
    const v1 = [0.6, 0.8, 0, 0, 0];
    const v2 = [0, 0, 1, 0, 0];
    const m = u1.map((_, r) => v1.map((_, c) => 7 * u1[r]! * v1[c]! + 3 * u2[r]! * v2[c]!));
    const svd = randomizedSvd(dense(m).csr(), 4, 5, 2, { oversamples: 2, powerIterations: 2, seed: 1 });
    // entries are stored as float32
    expect(svd.s[0]).toBeCloseTo(7, 5);
    expect(svd.s[1]).toBeCloseTo(3, 5);
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 5; c++) {
        const rec =
          svd.u[r * 2]! * svd.s[0]! * svd.v[c * 2]! + svd.u[r * 2 + 1]! * svd.s[1]! * svd.v[c * 2 + 1]!;
        expect(rec).toBeCloseTo(m[r]![c]!, 5);
      }
  });

  it('top singular values agree with the eigenvalues of RᵀR on random sparse data', () => {
    const data = generateSynthetic({ ratings: 2000, seed: 8, users: 60, items: 90 }).ratings;
    const svd = randomizedSvd(data.csr(), data.nUsers, data.nItems, 5, { seed: 3 });
    const n = data.nItems;
    const gram = new Float64Array(n * n);
    const { indptr, indices, values } = data.csr();
    for (let u = 0; u < data.nUsers; u++)
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++)
        for (let q = indptr[u]!; q < indptr[u + 1]!; q++)
          gram[indices[p]! * n + indices[q]!]! += values[p]! * values[q]!;
    const { values: eig } = symmetricEigen(gram, n);
    // randomized: the leading value is exact, the tail is within 0.1% (5 power iterations, 10 oversamples)
    expect(Math.abs(svd.s[0]! - Math.sqrt(eig[0]!))).toBeLessThan(1e-6 * svd.s[0]!);
    for (let j = 1; j < 5; j++)
      expect(Math.abs(svd.s[j]! - Math.sqrt(eig[j]!))).toBeLessThan(1e-3 * svd.s[j]!);
  });
});

describe('pure-svd model', () => {
  it('scores are r_u V Vᵀ; recommend skips seen items; save/load is bit-identical', async () => {
    const rng = new Rng(2);
    const m = Array.from({ length: 12 }, () =>
      Array.from({ length: 9 }, () => (rng.next() < 0.5 ? 1 + rng.int(5) : 0)),
    );
    const data = dense(m);
    const model = new PureSvdModel({ factors: 3, seed: 4 });
    await model.fit(data);
    const sc = model.batchScorer();
    const k = sc.factors;
    // user factors = R V (projection of the user's row on the item factors)
    for (let u = 0; u < 12; u++)
      for (let j = 0; j < k; j++) {
        let rv = 0;
        for (let i = 0; i < 9; i++) rv += m[u]![i]! * sc.itemFactors[i * k + j]!;
        expect(sc.userFactors[u * k + j]).toBeCloseTo(rv, 4);
      }
    const top = model.recommend(0, 3);
    for (const i of top.items) expect(m[0]![i]).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'reelab-puresvd-'));
    await saveModel(model, dir);
    const { model: back } = await loadModel(dir);
    const us = Int32Array.from({ length: 50 }, (_, t) => t % 12);
    const is = Int32Array.from({ length: 50 }, (_, t) => (t * 5) % 9);
    expect(Array.from(back.predict(us, is))).toEqual(Array.from(model.predict(us, is)));
  });
});
