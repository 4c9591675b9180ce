import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AlsSide, cgSolveRows, choleskySolveRows } from '../../lib/compute/cg';
import { loadRatings } from '../../lib/data/load';
import { makeSplit } from '../../lib/data/split';
import { IalsModel } from '../../lib/models/ials';
import { loadModel, saveModel } from '../../lib/models/persist';
import { createModel } from '../../lib/models/registry';
import { Rng } from '../../lib/util/rng';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { planted } from './implicit-fixtures';

/** Dense reference: (YᵀY + λI + Σ (c−1) y yᵀ) x = Σ c y solved by Gaussian elimination. */
function denseSolve(side: AlsSide, u: number): number[] {
  const { k, y, yty, indptr, indices, values } = side;
  const a: number[][] = [];
  for (let f = 0; f < k; f++) a.push(Array.from({ length: k + 1 }, (_, g) => (g < k ? yty[f * k + g]! : 0)));
  for (let q = indptr[u]!; q < indptr[u + 1]!; q++) {
    const i = indices[q]!;
    const c = values[q]!;
    for (let f = 0; f < k; f++) {
      a[f]![k]! += c * y[i * k + f]!;
      for (let g = 0; g < k; g++) a[f]![g]! += (c - 1) * y[i * k + f]! * y[i * k + g]!;
    }
  }
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[piv]![col]!)) piv = r;
    [a[col], a[piv]] = [a[piv]!, a[col]!];
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const m = a[r]![col]! / a[col]![col]!;
      for (let g = col; g <= k; g++) a[r]![g]! -= m * a[col]![g]!;
    }
  }
  return a.map((row, f) => row[k]! / row[f]!);
}

function tinySide(k: number): AlsSide {
  const rng = new Rng(3);
  const nItems = 9;
  const indptr = Int32Array.from([0, 3, 3, 7]);
  const indices = Int32Array.from([0, 4, 8, 1, 2, 5, 7]);
  const values = Float32Array.from([3, 1, 11, 2, 5, 1.5, 41]);
  const y = new Float32Array(nItems * k);
  for (let e = 0; e < y.length; e++) y[e] = rng.normal(0, 0.5);
  const reg = 0.1;
  const yty = new Float64Array(k * k);
  for (let i = 0; i < nItems; i++)
    for (let f = 0; f < k; f++) for (let g = 0; g < k; g++) yty[f * k + g]! += y[i * k + f]! * y[i * k + g]!;
  for (let f = 0; f < k; f++) yty[f * k + f]! += reg;
  const x = new Float32Array(3 * k).fill(0.5);
  return { indptr, indices, values, x, y, yty, k };
}

describe('iALS solvers', () => {
  it('Cholesky solves the normal equations exactly (dense reference)', () => {
    const side = tinySide(4);
    choleskySolveRows(side, 0, 3);
    for (const u of [0, 2]) {
      const ref = denseSolve(side, u);
      for (let f = 0; f < 4; f++) expect(side.x[u * 4 + f]).toBeCloseTo(ref[f]!, 4);
    }
    expect(Array.from(side.x.subarray(4, 8))).toEqual([0, 0, 0, 0]); // empty row → zero
  });

  it('CG with k steps matches Cholesky on a k-dimensional problem', () => {
    const k = 5;
    const cg = tinySide(k);
    const ch = tinySide(k);
    cgSolveRows(cg, 0, 3, k);
    choleskySolveRows(ch, 0, 3);
    for (let e = 0; e < cg.x.length; e++) expect(cg.x[e]).toBeCloseTo(ch.x[e]!, 3);
  });

  it('fewer CG steps leave a residual, but each step lowers the row objective', () => {
    const k = 6;
    const objective = (side: AlsSide, u: number) => {
      // ½ xᵀ A x − bᵀ x for the row's quadratic
      const ref = tinySide(k);
      const x = side.x.subarray(u * k, (u + 1) * k);
      let quad = 0;
      let lin = 0;
      for (let f = 0; f < k; f++) for (let g = 0; g < k; g++) quad += x[f]! * ref.yty[f * k + g]! * x[g]!;
      for (let q = ref.indptr[u]!; q < ref.indptr[u + 1]!; q++) {
        const i = ref.indices[q]!;
        const c = ref.values[q]!;
        let s = 0;
        for (let f = 0; f < k; f++) s += ref.y[i * k + f]! * x[f]!;
        quad += (c - 1) * s * s;
        lin += c * s;
      }
      return 0.5 * quad - lin;
    };
    let prev = objective(tinySide(k), 2);
    for (let steps = 1; steps <= k; steps++) {
      const side = tinySide(k);
      cgSolveRows(side, 0, 3, steps);
      const now = objective(side, 2);
      expect(now).toBeLessThan(prev + 1e-9);
      prev = now;
    }
  });
});

describe('IalsModel', () => {
  for (const [solver, kernel, factors] of [
    ['cholesky', 'js', 6],
    ['cg', 'js', 6],
    ['cg', 'wasm', 8],
  ] as const) {
    it(`the training objective decreases every iteration (${solver}, ${kernel})`, async () => {
      const m = new IalsModel({
        factors,
        epochs: 8,
        solver,
        kernel,
        computeLoss: true,
        alpha: 5,
        reg: 0.1,
      });
      await m.fit(planted());
      expect(m.losses).toHaveLength(8);
      for (let e = 1; e < m.losses.length; e++)
        expect(m.losses[e]!).toBeLessThanOrEqual(m.losses[e - 1]! * (1 + 1e-6));
      expect(m.losses[7]!).toBeLessThan(m.losses[0]! * 0.9);
    });
  }

  it('recovers the planted groups: recommendations come from the user’s own half', async () => {
    const m = new IalsModel({ factors: 4, epochs: 10, alpha: 5, reg: 0.1 });
    const data = planted();
    await m.fit(data);
    let inGroup = 0;
    let total = 0;
    for (let u = 0; u < data.nUsers; u++) {
      for (const i of m.recommend(u, 5).items) {
        total++;
        if (i < 20 === (u % 2 === 0)) inGroup++;
      }
    }
    expect(inGroup / total).toBeGreaterThan(0.85);
    // seen items are never recommended
    const seen = new Set(m.seenItems(0));
    for (const i of m.recommend(0, 30).items) expect(seen.has(i)).toBe(false);
  });

  it('the WebAssembly SIMD kernel (Float32) agrees with the JS kernel (Float64 temporaries)', async () => {
    const data = planted(120, 48, 10);
    const w = new IalsModel({ factors: 8, epochs: 4, kernel: 'wasm', alpha: 5 });
    const j = new IalsModel({ factors: 8, epochs: 4, kernel: 'js', alpha: 5 });
    await w.fit(data);
    await j.fit(data);
    const a = w.factorsView.items;
    const b = j.factorsView.items;
    let diff = 0;
    let norm = 0;
    for (let e = 0; e < a.length; e++) {
      diff = Math.max(diff, Math.abs(a[e]! - b[e]!));
      norm = Math.max(norm, Math.abs(b[e]!));
    }
    expect(diff).toBeLessThan(1e-3 * norm);
    expect(diff).toBeGreaterThan(0); // really two different kernels
  });

  it('1 and 2 threads give bit-identical factors', async () => {
    const data = planted(300, 80, 12);
    const a = new IalsModel({ factors: 8, epochs: 3 });
    const b = new IalsModel({ factors: 8, epochs: 3 });
    await a.fit(data, { threads: 1 });
    await b.fit(data, { threads: 2 });
    expect(Buffer.from(b.factorsView.users.buffer).equals(Buffer.from(a.factorsView.users.buffer))).toBe(
      true,
    );
    expect(Buffer.from(b.factorsView.items.buffer).equals(Buffer.from(a.factorsView.items.buffer))).toBe(
      true,
    );
  });

  it('similarItems ranks by cosine in factor space and leaves the item out', async () => {
    const m = new IalsModel({ factors: 4, epochs: 5, alpha: 5 });
    await m.fit(planted());
    const top = m.similarItems(3, 5);
    expect(Array.from(top.items)).not.toContain(3);
    for (let j = 1; j < top.scores.length; j++)
      expect(top.scores[j]!).toBeLessThanOrEqual(top.scores[j - 1]!);
    expect(top.items.filter((i) => i < 20).length).toBeGreaterThanOrEqual(4);
  });

  it('save/load round-trips bit-identically', async () => {
    const m = new IalsModel({ factors: 5, epochs: 2 });
    await m.fit(planted());
    const dir = mkdtempSync(join(tmpdir(), 'reelab-ials-'));
    await saveModel(m, dir);
    const { model } = await loadModel(dir);
    const a = new Float32Array(40);
    const b = new Float32Array(40);
    m.scoreAll(7, a);
    model.scoreAll(7, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(model.recommend(7, 5).items)).toEqual(Array.from(m.recommend(7, 5).items));
  });
});

describe.runIf(HAS_ML100K)('implicit models on ml-100k (temporal-user:0.2)', () => {
  it('iALS and EASE rank far better than popularity, which beats random (NDCG@10)', async () => {
    const all = loadRatings('ml-100k', { dataDir: realDataDir() });
    const { train, test } = makeSplit(all, 'temporal-user:0.2', 'ml-100k', { dataDir: realDataDir() });
    const ndcg = async (name: string, params: Record<string, unknown>) => {
      const m = createModel(name, params);
      await m.fit(train, { threads: 2 });
      const { indptr, indices } = test.csr();
      let sum = 0;
      let users = 0;
      for (let u = 0; u < test.nUsers; u++) {
        const n = indptr[u + 1]! - indptr[u]!;
        if (n === 0) continue;
        const rel = new Set(indices.subarray(indptr[u]!, indptr[u + 1]!));
        let dcg = 0;
        let idcg = 0;
        m.recommend(u, 10).items.forEach((i, j) => {
          if (rel.has(i)) dcg += 1 / Math.log2(j + 2);
        });
        for (let j = 0; j < Math.min(10, n); j++) idcg += 1 / Math.log2(j + 2);
        sum += dcg / idcg;
        users++;
      }
      return sum / users;
    };
    const ials = await ndcg('ials', { factors: 64, reg: 0.05, alpha: 10, epochs: 15 });
    const ease = await ndcg('ease', { reg: 250 });
    const pop = await ndcg('popularity', {});
    const random = await ndcg('random', {});
    // seen 2026-11: ials 0.164 (implicit 0.7.3 on the same split and start: 0.164), ease 0.195, popularity 0.113
    expect(ials).toBeGreaterThan(0.155);
    expect(ials).toBeLessThan(0.175);
    expect(ease).toBeGreaterThan(0.185);
    expect(pop).toBeGreaterThan(2 * random);
    expect(ials).toBeGreaterThan(1.3 * pop);
  });
});
