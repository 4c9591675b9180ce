/**
 * SLIM against two independent references on a tiny matrix: a dense cyclic coordinate-descent ElasticNet
 * written here from the objective (no candidate pruning, no active set, run to a tight tolerance), and
 * scikit-learn's ElasticNet(positive=True, fit_intercept=False) run in the project venv (scikit-learn comes
 * with MLflow, pinned in constraints.txt; under CI a missing one fails, elsewhere the comparison skips). Plus
 * thread-count invariance and real-data sanity on ml-latest-small.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Interactions } from '../../lib/data/interactions';
import { SlimModel } from '../../lib/models/slim';
import { evaluate } from '../../lib/workflows/evaluate';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { isCi } from '../helpers/require';
import { planted } from './implicit-fixtures';

function denseX(data: Interactions, values: 'binary' | 'rating'): number[][] {
  const x = Array.from({ length: data.nUsers }, () => new Array<number>(data.nItems).fill(0));
  for (let r = 0; r < data.size; r++)
    x[data.users[r]!]![data.items[r]!] = values === 'binary' ? 1 : data.ratings[r]!;
  return x;
}

/**
 * min_w 1/(2n)‖y − Aw‖² + α·ρ·‖w‖₁ + ½·α·(1 − ρ)·‖w‖², w ≥ 0, w_j = 0 — plain cyclic coordinate descent
 * over every other column until no coordinate moves by more than 1e-13.
 */
function referenceColumn(x: number[][], j: number, alpha: number, rho: number): number[] {
  const n = x.length;
  const m = x[0]!.length;
  const w = new Array<number>(m).fill(0);
  const r = x.map((row) => row[j]!);
  const norm = Array.from({ length: m }, (_, k) => x.reduce((a, row) => a + row[k]! * row[k]!, 0));
  for (let sweep = 0; sweep < 200000; sweep++) {
    let moved = 0;
    for (let k = 0; k < m; k++) {
      if (k === j || norm[k] === 0) continue;
      let rho_k = 0;
      for (let u = 0; u < n; u++) rho_k += x[u]![k]! * (r[u]! + x[u]![k]! * w[k]!);
      // minimise over w_k ≥ 0: (norm/2n)·w² − (ρ_k/n)·w + αρ·w + ½α(1−ρ)·w²
      const next = Math.max(0, (rho_k / n - alpha * rho) / (norm[k]! / n + alpha * (1 - rho)));
      const d = next - w[k]!;
      if (d !== 0) {
        for (let u = 0; u < n; u++) r[u]! -= d * x[u]![k]!;
        w[k] = next;
        moved = Math.max(moved, Math.abs(d));
      }
    }
    if (moved < 1e-13) break;
  }
  return w;
}

/** W[:, j] of the model (row i of `weights` holds w_ij). */
function modelColumns(model: SlimModel, n: number): number[][] {
  const cols = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const { indptr, indices, values } = model.weights;
  for (let i = 0; i < n; i++)
    for (let e = indptr[i]!; e < indptr[i + 1]!; e++) cols[indices[e]!]![i] = values[e]!;
  return cols;
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < a[i]!.length; j++) d = Math.max(d, Math.abs(a[i]![j]! - b[i]![j]!));
  return d;
}

const tight = { tol: 1e-12, maxIter: 100000, topK: 1000 };

describe('SLIM', () => {
  const data = planted(40, 20, 6, 5);
  const cases = [
    { alpha: 0.01, l1Ratio: 0.5, values: 'binary' as const },
    { alpha: 0.002, l1Ratio: 0.1, values: 'binary' as const },
    { alpha: 0.05, l1Ratio: 0.9, values: 'rating' as const },
    { alpha: 0.02, l1Ratio: 0, values: 'binary' as const },
  ];

  for (const c of cases) {
    it(`W equals a dense coordinate-descent ElasticNet to 1e-5 (${JSON.stringify(c)})`, async () => {
      const model = new SlimModel({ ...c, ...tight });
      await model.fit(data);
      expect(model.fitStats!.unconverged).toBe(0);
      const x = denseX(data, c.values);
      const ref = Array.from({ length: data.nItems }, (_, j) => referenceColumn(x, j, c.alpha, c.l1Ratio));
      const got = modelColumns(model, data.nItems);
      expect(maxAbsDiff(got, ref)).toBeLessThan(1e-5);
      // non-negative, zero diagonal, and not trivially empty
      let nonZero = 0;
      for (let j = 0; j < data.nItems; j++) {
        expect(got[j]![j]).toBe(0);
        for (const v of got[j]!) {
          expect(v).toBeGreaterThanOrEqual(0);
          if (v > 0) nonZero++;
        }
      }
      expect(nonZero).toBeGreaterThan(data.nItems);
    });
  }

  it('keeps the topK largest weights of each column', async () => {
    const full = new SlimModel({ alpha: 0.002, l1Ratio: 0.1, ...tight });
    const cut = new SlimModel({ alpha: 0.002, l1Ratio: 0.1, ...tight, topK: 3 });
    await full.fit(data);
    await cut.fit(data);
    const a = modelColumns(full, data.nItems);
    const b = modelColumns(cut, data.nItems);
    for (let j = 0; j < data.nItems; j++) {
      const best = a[j]!.map((v, i) => [v, i] as const)
        .filter(([v]) => v > 0)
        .sort((p, q) => q[0] - p[0] || p[1] - q[1])
        .slice(0, 3);
      const expected = new Array<number>(data.nItems).fill(0);
      for (const [v, i] of best) expected[i] = v;
      for (let i = 0; i < data.nItems; i++) expect(b[j]![i]).toBeCloseTo(expected[i]!, 7);
    }
  });

  it('scores are x_u · W', async () => {
    const model = new SlimModel({ alpha: 0.01, l1Ratio: 0.5 });
    await model.fit(data);
    const x = denseX(data, 'binary');
    const w = modelColumns(model, data.nItems);
    const out = new Float32Array(data.nItems);
    for (const u of [0, 9, 33]) {
      model.scoreAll(u, out);
      for (let j = 0; j < data.nItems; j++) {
        let s = 0;
        for (let i = 0; i < data.nItems; i++) s += x[u]![i]! * w[j]![i]!;
        expect(Math.abs(out[j]! - s)).toBeLessThan(1e-6);
      }
    }
  });

  it('gives bit-identical weights on 1 and 2 threads', async () => {
    const bigger = planted(120, 60, 10, 9);
    const a = new SlimModel({ alpha: 0.005, l1Ratio: 0.2 });
    const b = new SlimModel({ alpha: 0.005, l1Ratio: 0.2 });
    await a.fit(bigger, { threads: 1 });
    await b.fit(bigger, { threads: 2 });
    expect(Buffer.from(b.weights.values.buffer).equals(Buffer.from(a.weights.values.buffer))).toBe(true);
    expect([...b.weights.indices]).toEqual([...a.weights.indices]);
    expect(b.fitStats).toEqual(a.fitStats);
  });

  it('rejects bad params with a message naming them', () => {
    expect(() => new SlimModel({ l1Ratio: 2 })).toThrow(/l1Ratio/);
    expect(() => new SlimModel({ tol: 0 })).toThrow(/tol/);
  });
});

const python = join(__dirname, '..', '..', '.venv', 'bin', 'python');
function hasSklearn(): boolean {
  if (!existsSync(python)) return false;
  try {
    execFileSync(python, ['-c', 'import sklearn'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const SKLEARN = hasSklearn();
if (!SKLEARN) {
  const why = `${python} cannot import sklearn (it comes with MLflow: scripts/setup.sh installs it)`;
  if (isCi()) throw new Error(`CI=true but ${why}`);
  console.warn(`[reelab test] skipping the scikit-learn comparison: ${why}`);
}

describe.runIf(SKLEARN)("SLIM against scikit-learn's ElasticNet", () => {
  it('each column equals ElasticNet(positive=True, fit_intercept=False) to 1e-5', async () => {
    const data = planted(40, 20, 6, 5);
    const x = denseX(data, 'binary');
    const alpha = 0.01;
    const l1Ratio = 0.3;
    const script = [
      'import json, sys, warnings',
      'import numpy as np',
      'from sklearn.linear_model import ElasticNet',
      'a = json.loads(sys.stdin.read())',
      'X = np.array(a["x"], dtype=np.float64)',
      'out = []',
      'for j in range(X.shape[1]):',
      '    y = X[:, j].copy()',
      '    A = X.copy(); A[:, j] = 0',
      '    m = ElasticNet(alpha=a["alpha"], l1_ratio=a["l1"], positive=True, fit_intercept=False,',
      '                   max_iter=100000, tol=1e-12, selection="cyclic")',
      '    with warnings.catch_warnings():',
      '        warnings.simplefilter("ignore")',
      '        m.fit(A, y)',
      '    out.append(m.coef_.tolist())',
      'print(json.dumps(out))',
    ].join('\n');
    const stdout = execFileSync(python, ['-c', script], {
      input: JSON.stringify({ x, alpha, l1: l1Ratio }),
      encoding: 'utf8',
    });
    const ref = JSON.parse(stdout) as number[][];
    const model = new SlimModel({ alpha, l1Ratio, ...tight });
    await model.fit(data);
    const got = modelColumns(model, data.nItems);
    const d = maxAbsDiff(got, ref);
    console.log(`[slim vs scikit-learn] max |Δw| over ${data.nItems}² weights: ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-5);
  });
});

describe.runIf(HAS_ML_LATEST_SMALL)(
  'SLIM on ml-latest-small, temporal-user:0.2, full ranking (real data)',
  () => {
    it('NDCG@10 is above popularity', { timeout: 300_000 }, async () => {
      const base = {
        dataset: 'ml-latest-small',
        split: 'temporal-user:0.2',
        metrics: ['ndcg@10'],
        protocols: ['full'],
        dataDir: realDataDir(),
      };
      const pop = await evaluate({ ...base, model: 'popularity' });
      const slim = await evaluate({ ...base, model: 'slim' });
      const p = pop.metrics['ndcg@10']!;
      const s = slim.metrics['ndcg@10']!;
      console.log(
        `[slim real data] ndcg@10 popularity ${p.toFixed(4)}, slim defaults (RecBole's alpha 0.2, l1Ratio 0.02, topK 100) ` +
          `${s.toFixed(4)} (fit ${slim.fitSeconds.toFixed(2)} s)`,
      );
      expect(s).toBeGreaterThan(p);
    });
  },
);
