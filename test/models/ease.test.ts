import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseEaseSolver } from '../../lib/compute/dense-ease';
import { choleskyBlocked, invertLowerBlocked, lowerGramBlocked } from '../../lib/compute/linalg';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { loadRatings } from '../../lib/data/load';
import { EaseModel, easeBytes } from '../../lib/models/ease';
import { loadModel, saveModel } from '../../lib/models/persist';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { planted } from './implicit-fixtures';

/** Inverse by Gauss-Jordan with partial pivoting (dense reference). */
function inverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const d = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}

function randomSpd(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const x = new Float64Array((n + 3) * n);
  rng.fillNormal(x);
  const g = new Float64Array(n * n);
  for (let r = 0; r < n + 3; r++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j]! += x[r * n + i]! * x[r * n + j]!;
  for (let i = 0; i < n; i++) g[i * n + i]! += 0.5;
  return g;
}

describe('blocked SPD inverse', () => {
  it('Cholesky → L⁻¹ → L⁻ᵀL⁻¹ equals the dense inverse, across several block sizes', () => {
    const n = 37;
    const g = randomSpd(n, 11);
    const ref = inverse(Array.from({ length: n }, (_, i) => Array.from(g.subarray(i * n, (i + 1) * n))));
    for (const nb of [1, 5, 16, 64]) {
      const a = g.slice();
      expect(choleskyBlocked(a, n, nb)).toBe(true);
      invertLowerBlocked(a, n, nb);
      const p = new Float64Array(n * n);
      lowerGramBlocked(a, n, p, nb);
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) expect(p[i * n + j]).toBeCloseTo(ref[i]![j]!, 8);
    }
  });

  it('reports a matrix that is not positive definite', () => {
    const a = Float64Array.from([1, 2, 2, 1]);
    expect(choleskyBlocked(a, 2)).toBe(false);
  });
});

describe('EASE', () => {
  /** B by the definition, from a dense Gauss-Jordan inverse of XᵀX + λI (X = the model's values). */
  function referenceB(data: Interactions, lambda: number, value: (rating: number) => number): number[][] {
    const n = data.nItems;
    const g = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const { indptr, indices, values } = data.csr();
    for (let u = 0; u < data.nUsers; u++)
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++)
        for (let q = indptr[u]!; q < indptr[u + 1]!; q++)
          g[indices[p]!]![indices[q]!]! += value(values[p]!) * value(values[q]!);
    for (let i = 0; i < n; i++) g[i]![i]! += lambda;
    const p = inverse(g);
    return p.map((row, i) => row.map((pij, j) => (i === j ? 0 : -pij / p[j]![j]!)));
  }

  for (const [solver, users, items] of [
    ['primal', 30, 12],
    ['dual', 9, 40],
  ] as const) {
    it(`B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹ and a zero diagonal (dense reference, ${solver}, ${users} users × ${items} items)`, async () => {
      const data = planted(users, items, 5, 3);
      const lambda = 2.5;
      const m = new EaseModel({ reg: lambda, solver });
      await m.fit(data);
      expect(m.solverUsed).toBe(solver);
      expect(m.size).toBe(new Set(data.items).size); // items without data stay out (their B is 0 below too)
      const ref = referenceB(data, lambda, () => 1);
      for (let i = 0; i < items; i++)
        for (let j = 0; j < items; j++) expect(m.weight(i, j)).toBeCloseTo(ref[i]![j]!, 6);
      // score(u, j) = Σ_{i∈u} B_ij
      const scores = new Float32Array(items);
      m.scoreAll(4, scores);
      const active = new Set(data.items);
      for (let j = 0; j < items; j++) {
        let s = 0;
        for (const i of m.seenItems(4)) s += m.weight(i, j);
        if (active.has(j)) expect(scores[j]).toBeCloseTo(s, 5);
        else expect(scores[j]).toBe(Number.NEGATIVE_INFINITY);
      }
    });
  }

  it('auto picks the dual for few users and many items, the primal otherwise', async () => {
    expect(chooseEaseSolver(610, 8239, 80_000)).toBe('dual'); // ml-latest-small's training shape
    expect(chooseEaseSolver(6040, 3706, 800_000)).toBe('primal'); // ml-1m's
    const m = new EaseModel({ reg: 2 });
    await m.fit(planted(20, 200, 30, 1));
    expect(m.solverUsed).toBe('dual');
    await m.fit(planted(200, 20, 5, 1));
    expect(m.solverUsed).toBe('primal');
  });

  it('rating values: primal and dual both match the dense reference', async () => {
    const data = planted(12, 20, 6, 5);
    for (const solver of ['primal', 'dual'] as const) {
      const m = new EaseModel({ reg: 4, values: 'rating', solver });
      await m.fit(data);
      const ref = referenceB(data, 4, (r) => r);
      for (let i = 0; i < 20; i++)
        for (let j = 0; j < 20; j++) expect(m.weight(i, j)).toBeCloseTo(ref[i]![j]!, 6);
    }
  });

  it('gives bit-identical weights with 1 and 2 threads (both solvers)', async () => {
    for (const [solver, users, items] of [
      ['primal', 300, 250],
      ['dual', 150, 260],
    ] as const) {
      const data = planted(users, items, 20, 9);
      const one = new EaseModel({ reg: 3, solver });
      const two = new EaseModel({ reg: 3, solver });
      await one.fit(data, { threads: 1 });
      await two.fit(data, { threads: 2 });
      const a = new Float32Array(items);
      const b = new Float32Array(items);
      for (const u of [0, 7, 99]) {
        one.scoreAll(u, a);
        two.scoreAll(u, b);
        expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
      }
    }
  });

  it('items without training interactions are never recommended', async () => {
    const data = new Interactions({
      users: Int32Array.from([0, 0, 1, 1, 2]),
      items: Int32Array.from([0, 1, 1, 2, 0]),
      ratings: Float32Array.from([5, 4, 3, 5, 4]),
      userIds: IdMap.fromSorted(Int32Array.from([1, 2, 3])),
      itemIds: IdMap.fromSorted(Int32Array.from([10, 20, 30, 40])),
    });
    const m = new EaseModel({ reg: 1 });
    await m.fit(data);
    expect(m.size).toBe(3);
    expect(Array.from(m.recommend(2, 5).items)).toEqual([1, 2]);
  });

  it('refuses with the memory it would need when the item × item matrices exceed the budget', async () => {
    const m = new EaseModel({ memoryBudgetGb: 1e-6 });
    await expect(m.fit(planted())).rejects.toThrow(ConfigError);
    await expect(m.fit(planted())).rejects.toThrow(
      /40 items need 0\.0 GB .*primal solver, 60 users.* memoryBudgetGb of 0\.000001/,
    );
    expect(easeBytes(84000)).toBeGreaterThan(100 * 1024 ** 3); // ml-32m's catalogue: far beyond this machine
  });

  it('save/load round-trips bit-identically', async () => {
    const m = new EaseModel({ reg: 10, values: 'rating' });
    await m.fit(planted());
    const dir = mkdtempSync(join(tmpdir(), 'reelab-ease-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    const a = new Float32Array(40);
    const b = new Float32Array(40);
    m.scoreAll(9, a);
    model.scoreAll(9, b);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe.runIf(HAS_ML100K)('EASE on ml-100k (real data)', () => {
  it('primal and dual give the same B, and G(I − B) is diagonal (the normal equations hold)', async () => {
    const data = loadRatings('ml-100k', { dataDir: realDataDir() });
    const primal = new EaseModel({ reg: 250, solver: 'primal' });
    const dual = new EaseModel({ reg: 250, solver: 'dual' });
    await primal.fit(data, { threads: 2 });
    await dual.fit(data, { threads: 2 });
    expect(primal.size).toBe(1682);
    const n = primal.size;
    let maxB = 0;
    let maxDiff = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const b = primal.weight(i, j);
        maxB = Math.max(maxB, Math.abs(b));
        maxDiff = Math.max(maxDiff, Math.abs(b - dual.weight(i, j)));
      }
    }
    expect(maxB).toBeGreaterThan(0.01);
    expect(maxDiff / maxB).toBeLessThan(1e-6); // Float32 B: both round the same Float64 values
    // Column j of G(I − B) is zero off the diagonal: Σ_k G_ik (δ_kj − B_kj) = 0 for i ≠ j.
    const { indptr, indices } = data.csr();
    for (const j of [0, 49, 180, 1000]) {
      const v = new Float64Array(n); // v = X (e_j − B_:j), one entry per user
      const col = new Float64Array(n);
      for (let k = 0; k < n; k++) col[k] = (k === j ? 1 : 0) - primal.weight(k, j);
      const xv = new Float64Array(data.nUsers);
      for (let u = 0; u < data.nUsers; u++)
        for (let p = indptr[u]!; p < indptr[u + 1]!; p++) xv[u]! += col[indices[p]!]!;
      for (let u = 0; u < data.nUsers; u++)
        for (let p = indptr[u]!; p < indptr[u + 1]!; p++) v[indices[p]!]! += xv[u]!;
      for (let i = 0; i < n; i++) v[i]! += 250 * col[i]!; // + λ(e_j − B_:j)
      const diagonal = Math.abs(v[j]!);
      expect(diagonal).toBeGreaterThan(1);
      for (let i = 0; i < n; i++) if (i !== j) expect(Math.abs(v[i]!)).toBeLessThan(1e-4 * diagonal);
    }
  }, 120_000);
});
