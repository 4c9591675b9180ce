import { z } from 'zod';
import { chooseEaseSolver, type EaseSolver, easeSolverBytes, easeWeights } from '../compute/dense-ease';
import { fromCompressed, type SparseMatrix } from '../compute/sparse';
import type { Interactions } from '../data/interactions';
import { binarize, dropBelow } from '../features/weighting';
import { ConfigError } from '../util/errors';
import { BaseRecommender, expectFloat32, expectInt32, expectNumber } from './base';
import { type LegacyParams, resolveThreads, withoutLegacyNames } from './ials';
import type { FitOptions, ModelState } from './recommender';

export const easeSchema = z
  .object({
    reg: z.number().positive().default(250).describe('λ, the L2 regularisation added to the diagonal of XᵀX'),
    values: z.enum(['binary', 'rating']).default('binary').describe("X's entries: 1, or the rating"),
    threshold: z.number().min(0).default(0).describe('drop interactions rated below this (0 keeps all)'),
    memoryBudgetGb: z
      .number()
      .positive()
      .default(4)
      .describe('refuse to fit when the item × item matrices would need more than this'),
    solver: z
      .enum(['auto', 'primal', 'dual'])
      .default('auto')
      .describe(
        'primal: invert XᵀX + λI (items³); dual: Woodbury via (λI + XXᵀ)⁻¹ (users³ + nnz·items); auto: cheaper',
      ),
  })
  .strict();
/** Declared explicitly (not z.infer) so that tslab's non-strict compile keeps the fields required. */
export type EaseParams = {
  reg: number;
  values: 'binary' | 'rating';
  threshold: number;
  memoryBudgetGb: number;
  solver: 'auto' | 'primal' | 'dual';
};

/**
 * An upper bound on the bytes EASE needs for m items with the automatic solver: primal ≈ 12·m² (G/P in
 * Float64, B in Float32), dual ≈ 8·users² + 8·users·m + 4·m², chosen only when users < m.
 */
export function easeBytes(items: number): number {
  return 20 * items * items;
}

/**
 * EASE^R (Steck 2019): B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹ and a zero diagonal, in closed form.
 * Only items with training interactions enter the item × item problem; the others score −∞ (never
 * recommended). Solved in Float64 by lib/compute/dense-ease.ts: the dense inverse of XᵀX + λI (WebAssembly
 * SIMD, `threads` workers) or, when users are fewer than items, the exact Woodbury form through the
 * users × users matrix. Same B (to rounding) either way; bit-identical for any thread count.
 */
export class EaseModel extends BaseRecommender<EaseParams> {
  readonly name = 'ease';
  private b = new Float32Array(0);
  /** Item index of each row/column of B. */
  private active = new Int32Array(0);
  /** Position of each item in B, or −1. */
  private position = new Int32Array(0);
  /** X's value for each seen (user, item) entry, aligned with the seen arrays; xIndptr = the rows' starts. */
  private xValues = new Float32Array(0);
  private xIndptr = new Int32Array(0);

  /** Which route the last fit took. */
  solverUsed: EaseSolver | null = null;

  constructor(params: Partial<EaseParams> & LegacyParams = {}) {
    super(easeSchema.parse(withoutLegacyNames(params)) as EaseParams);
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const started = performance.now();
    const { reg, values, threshold, memoryBudgetGb } = this.params;
    const full = fromCompressed(train.csr(), train.nUsers, train.nItems);
    const x = alignedValues(
      full,
      values === 'binary' ? binarize(full, threshold) : dropBelow(full, threshold),
    );
    this.xValues = x;
    this.xIndptr = full.indptr;
    const counts = new Int32Array(train.nItems);
    for (let p = 0; p < x.length; p++) if (x[p] !== 0) counts[full.indices[p]!]!++;
    const position = new Int32Array(train.nItems).fill(-1);
    let m = 0;
    for (let i = 0; i < train.nItems; i++) if (counts[i]! > 0) position[i] = m++;
    const active = new Int32Array(m);
    for (let i = 0; i < train.nItems; i++) if (position[i]! >= 0) active[position[i]!] = i;
    // X with columns renumbered to positions (dropped entries keep value 0 and are skipped downstream).
    const columns = new Int32Array(full.indices.length);
    let nnz = 0;
    for (let p = 0; p < columns.length; p++) {
      columns[p] = position[full.indices[p]!]!;
      if (x[p] !== 0) nnz++;
    }
    let users = 0;
    for (let u = 0; u < train.nUsers; u++) {
      for (let p = full.indptr[u]!; p < full.indptr[u + 1]!; p++) {
        if (x[p] !== 0) {
          users++;
          break;
        }
      }
    }
    const solver = this.params.solver === 'auto' ? chooseEaseSolver(users, m, nnz) : this.params.solver;
    const need = easeSolverBytes(solver, users, m);
    if (need > memoryBudgetGb * 1024 ** 3) {
      throw new ConfigError(
        'ease',
        `${m} items need ${(need / 1024 ** 3).toFixed(1)} GB for the item × item matrices (${solver} solver, ` +
          `${users} users), over the memoryBudgetGb of ${memoryBudgetGb}; raise memoryBudgetGb or train on fewer items`,
      );
    }
    const { b } = await easeWeights(
      { nRows: train.nUsers, nCols: m, indptr: full.indptr, indices: columns, values: x },
      reg,
      {
        threads: resolveThreads(options.threads),
        solver,
        signal: options.signal,
      },
    );
    this.solverUsed = solver;
    this.b = b;
    this.active = active;
    this.position = position;
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: (performance.now() - started) / 1000 });
  }

  /** Number of items in the item × item problem. */
  get size(): number {
    return this.active.length;
  }

  /** B's entry (row item, column item), 0 for items outside the problem. */
  weight(from: number, to: number): number {
    const i = this.position[from] ?? -1;
    const j = this.position[to] ?? -1;
    return i < 0 || j < 0 ? 0 : this.b[i * this.active.length + j]!;
  }

  protected predictOne(user: number, item: number): number {
    if (!(user >= 0 && user < this.nUsers && item >= 0 && item < this.nItems)) return 0;
    const j = this.position[item]!;
    if (j < 0) return Number.NEGATIVE_INFINITY;
    const seen = this.seenItems(user);
    const offset = this.xIndptr[user]!;
    const m = this.active.length;
    let s = 0;
    for (let q = 0; q < seen.length; q++) {
      const i = this.position[seen[q]!]!;
      const v = this.xValues[offset + q]!;
      if (i >= 0 && v !== 0) s += v * this.b[i * m + j]!;
    }
    return s;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    const m = this.active.length;
    const acc = new Float64Array(m);
    const seen = this.seenItems(user);
    const offset = this.xIndptr[user]!;
    for (let q = 0; q < seen.length; q++) {
      const i = this.position[seen[q]!]!;
      const v = this.xValues[offset + q]!;
      if (i < 0 || v === 0) continue;
      const row = i * m;
      for (let j = 0; j < m; j++) acc[j]! += v * this.b[row + j]!;
    }
    out.fill(Number.NEGATIVE_INFINITY);
    for (let j = 0; j < m; j++) out[this.active[j]!] = acc[j]!;
  }

  protected modelState(): ModelState {
    return {
      items: this.active.length,
      b: this.b,
      active: this.active,
      xValues: this.xValues,
      xIndptr: this.xIndptr,
    };
  }

  protected restoreModel(state: ModelState): void {
    const m = expectNumber(state, 'items');
    this.b = expectFloat32(state, 'b');
    this.active = expectInt32(state, 'active');
    this.xValues = expectFloat32(state, 'xValues');
    this.xIndptr = expectInt32(state, 'xIndptr');
    if (this.b.length !== m * m || this.active.length !== m)
      throw new ConfigError('saved ease model', `B is not ${m} × ${m}`);
    this.position = new Int32Array(this.nItems).fill(-1);
    for (let j = 0; j < m; j++) this.position[this.active[j]!] = j;
  }
}

/**
 * The values of `kept` (a filtered copy of `full`) laid out on `full`'s pattern, 0 where an entry was dropped,
 * so they line up with the model's seen arrays.
 */
export function alignedValues(full: SparseMatrix, kept: SparseMatrix): Float32Array {
  if (kept.indices === full.indices) return kept.values;
  const out = new Float32Array(full.indices.length);
  for (let r = 0; r < full.nRows; r++) {
    let q = kept.indptr[r]!;
    const qEnd = kept.indptr[r + 1]!;
    for (let p = full.indptr[r]!; p < full.indptr[r + 1]! && q < qEnd; p++) {
      if (full.indices[p] === kept.indices[q]) out[p] = kept.values[q++]!;
    }
  }
  return out;
}
