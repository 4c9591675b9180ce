/**
 * BPR-MF SGD (Rendle et al. 2009) with implicit's update rule, made deterministic for any thread count.
 *
 * implicit's CPU BPR is Hogwild: threads update shared item factors without locks, so its result depends on
 * scheduling. Here each epoch is split DSGD-style (Gemulla et al. 2011) into B × B strata: users are cut into
 * B fixed blocks (balanced by interactions) and items into B blocks drawn afresh each epoch from the seed
 * (balanced by popularity). A stratum (user block b, item block c) samples its positives from its own
 * interactions and its negatives from item block c, so the B strata of a sub-epoch s (c = (b + s) mod B)
 * touch disjoint users and disjoint items and can run on any threads without races. Every stratum has its
 * own random stream `Rng.derive(seed, stream(epoch, s, b))`, so the factors depend only on the seed and B.
 * Re-drawing the item blocks every epoch keeps the negative sampling unbiased on average: an item lands in the
 * positive's block with probability ≈ 1/B and is then drawn ≈ B times as often, so every (positive,
 * negative) pair keeps implicit's expected frequency, and no pair is excluded for good.
 */
import { Rng } from '../util/rng';
import { BPR_WASM_TASK_MODULE, type WasmBprPayload, wasmBprTask } from './bpr-wasm';
import type { WasmMemory, WasmModule } from './ials-wasm';
import { workerPool } from './pool';
import { balancedRanges, hasEntry, int32Array } from './sparse';

export type NegativeSampling = 'popularity' | 'uniform';

export interface BprStratumPayload {
  /** Users × (k + 1) (last column fixed at 1) and items × (k + 1) (last column = item bias), shared. */
  x: Float32Array;
  y: Float32Array;
  k: number;
  /** The stratum's interactions: stratumUsers/Items[start .. end). */
  stratumUsers: Int32Array;
  stratumItems: Int32Array;
  start: number;
  end: number;
  /** Negative candidates: negatives[negStart .. negEnd) (items repeated by popularity, or each item once). */
  negatives: Int32Array;
  negStart: number;
  negEnd: number;
  /** Training CSR (sorted indices) for verifying negatives. */
  indptr: Int32Array;
  indices: Int32Array;
  verifyNegative: boolean;
  negativeRetries: number;
  learningRate: number;
  regularization: number;
  seed: number;
  stream: number;
}

/** Worker task: one pass of SGD over a stratum; returns [correct, skipped]. */
export function bprStratumTask(p: BprStratumPayload): [number, number] {
  const { x, y, k, stratumUsers, stratumItems, start, negatives, negStart, indptr, indices } = p;
  const size = p.end - start;
  const negCount = p.negEnd - negStart;
  if (size === 0 || negCount === 0) return [0, 0];
  const lr = p.learningRate;
  const reg = p.regularization;
  const kp = k + 1;
  const rng = Rng.derive(p.seed, p.stream);
  let correct = 0;
  let skipped = 0;
  for (let n = 0; n < size; n++) {
    const pos = start + rng.int(size);
    const u = stratumUsers[pos]!;
    const i = stratumItems[pos]!;
    let j = negatives[negStart + rng.int(negCount)]!;
    if (p.verifyNegative) {
      let tries = 0;
      while (j >= 0 && hasEntry(indptr, indices, u, j)) {
        j = tries++ < p.negativeRetries ? negatives[negStart + rng.int(negCount)]! : -1;
      }
      if (j < 0) {
        skipped++;
        continue;
      }
    }
    const ub = u * kp;
    const ib = i * kp;
    const jb = j * kp;
    let score = 0;
    for (let f = 0; f < kp; f++) score += x[ub + f]! * (y[ib + f]! - y[jb + f]!);
    const z = 1 / (1 + Math.exp(score));
    if (z < 0.5) correct++;
    for (let f = 0; f < k; f++) {
      const t = x[ub + f]!;
      x[ub + f] = t + lr * (z * (y[ib + f]! - y[jb + f]!) - reg * t);
      y[ib + f] = y[ib + f]! + lr * (z * t - reg * y[ib + f]!);
      y[jb + f] = y[jb + f]! + lr * (-z * t - reg * y[jb + f]!);
    }
    y[ib + k] = y[ib + k]! + lr * (z - reg * y[ib + k]!);
    y[jb + k] = y[jb + k]! + lr * (-z - reg * y[jb + k]!);
  }
  return [correct, skipped];
}

export interface BprPlanInput {
  nUsers: number;
  nItems: number;
  indptr: Int32Array;
  indices: Int32Array;
  blocks: number;
  sampling: NegativeSampling;
}

/** Reusable buffers of an epoch's strata (shared memory). */
export class BprStrata {
  readonly stratumUsers: Int32Array;
  readonly stratumItems: Int32Array;
  /** stratum (b, c) is [stratumStart[b·B + c], stratumStart[b·B + c + 1]). */
  readonly stratumStart: Int32Array;
  readonly negatives: Int32Array;
  readonly negStart: Int32Array;
  private readonly userBlock: Int32Array;
  private readonly itemBlock: Int32Array;
  private readonly itemCounts: Int32Array;

  constructor(
    private readonly input: BprPlanInput,
    alloc: (length: number) => Int32Array = (length) => int32Array(length, 'shared'),
  ) {
    const { nUsers, nItems, indptr, blocks } = input;
    const nnz = indptr[nUsers]!;
    this.stratumUsers = alloc(nnz);
    this.stratumItems = alloc(nnz);
    this.stratumStart = new Int32Array(blocks * blocks + 1);
    this.negatives = alloc(input.sampling === 'popularity' ? nnz : nItems);
    this.negStart = new Int32Array(blocks + 1);
    this.userBlock = new Int32Array(nUsers);
    balancedRanges(indptr, blocks).forEach(([s, e], b) => {
      this.userBlock.fill(b, s, e);
    });
    this.itemBlock = new Int32Array(nItems);
    this.itemCounts = new Int32Array(nItems);
    for (let p = 0; p < nnz; p++) this.itemCounts[input.indices[p]!]!++;
  }

  /** Draws this epoch's item blocks and lays out the strata. */
  build(rng: Rng): void {
    const { nUsers, nItems, indptr, indices, blocks, sampling } = this.input;
    const nnz = indptr[nUsers]!;
    // Items in random order, cut where the running interaction count crosses b/B of the total.
    const order = rng.permutation(nItems);
    let acc = 0;
    for (let r = 0; r < nItems; r++) {
      const item = order[r]!;
      this.itemBlock[item] = Math.min(blocks - 1, Math.floor((acc * blocks) / Math.max(1, nnz)));
      acc += this.itemCounts[item]!;
    }
    const counts = new Int32Array(blocks * blocks + 1);
    for (let u = 0; u < nUsers; u++) {
      const base = this.userBlock[u]! * blocks;
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) counts[base + this.itemBlock[indices[p]!]! + 1]!++;
    }
    for (let s = 0; s < blocks * blocks; s++) counts[s + 1]! += counts[s]!;
    this.stratumStart.set(counts);
    const next = counts.slice(0, blocks * blocks);
    for (let u = 0; u < nUsers; u++) {
      const base = this.userBlock[u]! * blocks;
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        const item = indices[p]!;
        const q = next[base + this.itemBlock[item]!]!++;
        this.stratumUsers[q] = u;
        this.stratumItems[q] = item;
      }
    }
    const negCounts = new Int32Array(blocks + 1);
    for (let i = 0; i < nItems; i++) {
      const w = sampling === 'popularity' ? this.itemCounts[i]! : 1;
      negCounts[this.itemBlock[i]! + 1]! += w;
    }
    for (let b = 0; b < blocks; b++) negCounts[b + 1]! += negCounts[b]!;
    this.negStart.set(negCounts);
    const fill = negCounts.slice(0, blocks);
    for (let i = 0; i < nItems; i++) {
      const w = sampling === 'popularity' ? this.itemCounts[i]! : 1;
      const b = this.itemBlock[i]!;
      this.negatives.fill(i, fill[b]!, fill[b]! + w);
      fill[b]! += w;
    }
  }
}

export interface BprEpochOptions {
  x: Float32Array;
  y: Float32Array;
  k: number;
  indptr: Int32Array;
  indices: Int32Array;
  learningRate: number;
  regularization: number;
  verifyNegative: boolean;
  negativeRetries: number;
  seed: number;
  epoch: number;
  threads: number;
  /** The SIMD kernel and the shared memory that holds x, y, the strata and the CSR (see bpr-wasm.ts). */
  wasm?: { module: WasmModule; memory: WasmMemory; out: Int32Array } | null;
}

/** One epoch over all strata; returns [correct, skipped] summed over the epoch. */
export async function bprEpoch(
  strata: BprStrata,
  blocks: number,
  o: BprEpochOptions,
): Promise<[number, number]> {
  let correct = 0;
  let skipped = 0;
  const task = { module: __filename, fn: 'bprStratumTask' };
  for (let s = 0; s < blocks; s++) {
    const payloads: BprStratumPayload[] = [];
    for (let b = 0; b < blocks; b++) {
      const c = (b + s) % blocks;
      const id = b * blocks + c;
      payloads.push({
        x: o.x,
        y: o.y,
        k: o.k,
        stratumUsers: strata.stratumUsers,
        stratumItems: strata.stratumItems,
        start: strata.stratumStart[id]!,
        end: strata.stratumStart[id + 1]!,
        negatives: strata.negatives,
        negStart: strata.negStart[c]!,
        negEnd: strata.negStart[c + 1]!,
        indptr: o.indptr,
        indices: o.indices,
        verifyNegative: o.verifyNegative,
        negativeRetries: o.negativeRetries,
        learningRate: o.learningRate,
        regularization: o.regularization,
        seed: o.seed,
        stream: (o.epoch * blocks + s) * blocks + b,
      });
    }
    let results: Array<[number, number]>;
    if (o.wasm) {
      const w = o.wasm;
      const wp: WasmBprPayload[] = payloads.map((p, b) => ({
        module: w.module,
        memory: w.memory,
        x: p.x.byteOffset,
        y: p.y.byteOffset,
        stratumUsers: p.stratumUsers.byteOffset,
        stratumItems: p.stratumItems.byteOffset,
        negatives: p.negatives.byteOffset,
        indptr: p.indptr.byteOffset,
        indices: p.indices.byteOffset,
        out: w.out.byteOffset + 8 * b,
        k: p.k,
        start: p.start,
        size: p.end - p.start,
        negStart: p.negStart,
        negCount: p.negEnd - p.negStart,
        verifyNegative: p.verifyNegative,
        negativeRetries: p.negativeRetries,
        learningRate: p.learningRate,
        regularization: p.regularization,
        state: Rng.derive(p.seed, p.stream).stateWords(),
      }));
      results =
        o.threads <= 1
          ? wp.map(wasmBprTask)
          : await workerPool(o.threads).map<[number, number]>(
              { module: BPR_WASM_TASK_MODULE, fn: 'wasmBprTask' },
              wp,
            );
    } else {
      results =
        o.threads <= 1
          ? payloads.map(bprStratumTask)
          : await workerPool(o.threads).map<[number, number]>(task, payloads);
    }
    for (const [c, sk] of results) {
      correct += c;
      skipped += sk;
    }
  }
  return [correct, skipped];
}
