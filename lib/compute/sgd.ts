/**
 * Stratified SGD for biased matrix factorisation (Funk SVD), after DSGD (Gemulla et al., KDD 2011).
 *
 * Users and items are each partitioned into B groups; block (a, b) holds the ratings of user group a on item
 * group b. An epoch runs the B strata s = 0..B-1 in turn; stratum s is the blocks (a, (a + s) mod B), which
 * touch disjoint user rows and disjoint item rows, so they can run in any order or in parallel with the same
 * result. Each block shuffles its own ratings with `Rng.derive(seed, epoch·B² + block)`. B does not depend on
 * the thread count, so a seed gives bit-identical factors with 1 or N threads.
 */
import { Rng } from '../util/rng';
import { type SgdWasm, sgdRangeKernel, sgdShuffleKernel } from './sgd-wasm';

/** Learning rates and regularisation per term (Surprise's lr_bu, lr_bi, lr_pu, lr_qi, reg_*). */
export interface SgdRates {
  lrBu: number;
  lrBi: number;
  lrPu: number;
  lrQi: number;
  regBu: number;
  regBi: number;
  regPu: number;
  regQi: number;
}

/** Everything one epoch of block SGD reads and writes; typed arrays are SharedArrayBuffer-backed for workers. */
export interface SgdState {
  factors: number;
  blocks: number;
  /** Ratings in block order: block b = userGroup·B + itemGroup spans blockPtr[b]..blockPtr[b+1]. */
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  blockPtr: Int32Array;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  userBias: Float64Array;
  itemBias: Float64Array;
  /** Sum of squared errors (before each update) of each block in the last epoch. */
  blockSse: Float64Array;
  mean: number;
  biased: boolean;
  shuffle: boolean;
  seed: number;
  rates: SgdRates;
  /** When set (factors divisible by 4), every array above lives in this shared memory and the SIMD kernel runs. */
  wasm?: SgdWasm | null;
}

/**
 * Assigns each of `n` rows (with `counts` ratings) to one of `groups` groups: rows in a seeded random order,
 * cut into contiguous runs of near-equal rating counts (balanced blocks).
 */
export function balancedGroups(counts: Int32Array, groups: number, rng: Rng): Int32Array {
  const n = counts.length;
  const order = rng.permutation(n);
  let total = 0;
  for (let r = 0; r < n; r++) total += counts[r]!;
  const group = new Int32Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    const r = order[k]!;
    // the group is decided by the midpoint of the row's ratings in the cumulative order
    const mid = acc + counts[r]! / 2;
    const g = total === 0 ? Math.floor((k * groups) / n) : Math.floor((mid * groups) / total);
    group[r] = g >= groups ? groups - 1 : g;
    acc += counts[r]!;
  }
  return group;
}

/** Orders the ratings (u, i, r) by block, stable within a block; returns arrays in `alloc`ated memory. */
export function blockLayout(
  users: Int32Array,
  items: Int32Array,
  ratings: Float32Array,
  userGroup: Int32Array,
  itemGroup: Int32Array,
  blocks: number,
  alloc: { int32: (n: number) => Int32Array; float32: (n: number) => Float32Array },
): { users: Int32Array; items: Int32Array; ratings: Float32Array; blockPtr: Int32Array } {
  const n = users.length;
  const nb = blocks * blocks;
  const blockPtr = new Int32Array(nb + 1);
  for (let k = 0; k < n; k++) blockPtr[userGroup[users[k]!]! * blocks + itemGroup[items[k]!]! + 1]!++;
  for (let b = 0; b < nb; b++) blockPtr[b + 1]! += blockPtr[b]!;
  const next = blockPtr.slice(0, nb);
  const bu = alloc.int32(n);
  const bi = alloc.int32(n);
  const br = alloc.float32(n);
  for (let k = 0; k < n; k++) {
    const b = userGroup[users[k]!]! * blocks + itemGroup[items[k]!]!;
    const p = next[b]!++;
    bu[p] = users[k]!;
    bi[p] = items[k]!;
    br[p] = ratings[k]!;
  }
  return { users: bu, items: bi, ratings: br, blockPtr };
}

/** The block of stratum `s` whose user group is `a`. */
export function stratumBlock(blocks: number, s: number, a: number): number {
  return a * blocks + ((a + s) % blocks);
}

/** Shuffles block `block`'s ratings in place (Fisher-Yates on the three parallel arrays) with its own stream. */
export function shuffleBlock(st: SgdState, epoch: number, block: number): void {
  const start = st.blockPtr[block]!;
  const end = st.blockPtr[block + 1]!;
  if (end - start < 2) return;
  const rng = Rng.derive(st.seed, epoch * st.blocks * st.blocks + block);
  if (end - start >= 2097152) {
    for (let p = end - 1; p > start; p--) swap3(st, p, start + rng.int(p - start + 1));
    return;
  }
  // The block's stream, seeded from its Rng, continued in the WebAssembly module when there is one, else inline
  // on local state (an Rng call per draw cost as much as the SGD updates); multiply-shift range reduction, exact
  // in float64 below 2^21 ratings.
  let s0 = rng.nextUint32() | 0;
  let s1 = rng.nextUint32() | 0;
  let s2 = rng.nextUint32() | 0;
  let s3 = rng.nextUint32() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s3 = 1;
  const { users, items, ratings } = st;
  if (st.wasm) {
    sgdShuffleKernel(st.wasm)(
      users.byteOffset,
      items.byteOffset,
      ratings.byteOffset,
      start,
      end,
      s0,
      s1,
      s2,
      s3,
    );
    return;
  }
  for (let p = end - 1; p > start; p--) {
    const m = Math.imul(s1, 5);
    const x = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    const q = start + Math.floor((x * (p - start + 1)) / 4294967296);
    const tu = users[p]!;
    users[p] = users[q]!;
    users[q] = tu;
    const ti = items[p]!;
    items[p] = items[q]!;
    items[q] = ti;
    const tr = ratings[p]!;
    ratings[p] = ratings[q]!;
    ratings[q] = tr;
  }
}

function swap3(st: SgdState, p: number, q: number): void {
  const { users, items, ratings } = st;
  const tu = users[p]!;
  users[p] = users[q]!;
  users[q] = tu;
  const ti = items[p]!;
  items[p] = items[q]!;
  items[q] = ti;
  const tr = ratings[p]!;
  ratings[p] = ratings[q]!;
  ratings[q] = tr;
}

/**
 * One SGD pass over ratings start..end (Surprise SVD's update rule, with the old p_u in q_i's update);
 * returns the sum of squared errors seen before each update.
 */
export function sgdRange(st: SgdState, start: number, end: number): number {
  if (st.wasm) {
    const r = st.rates;
    return sgdRangeKernel(st.wasm)(
      st.users.byteOffset,
      st.items.byteOffset,
      st.ratings.byteOffset,
      start,
      end,
      st.userFactors.byteOffset,
      st.itemFactors.byteOffset,
      st.userBias.byteOffset,
      st.itemBias.byteOffset,
      st.factors,
      st.biased ? st.mean : 0,
      r.lrBu,
      r.lrBi,
      r.lrPu,
      r.lrQi,
      r.regBu,
      r.regBi,
      r.regPu,
      r.regQi,
      st.biased ? 1 : 0,
    );
  }
  return sgdRangeJs(st, start, end);
}

/** The plain JS kernel (float64 arithmetic on float32 factors). */
export function sgdRangeJs(st: SgdState, start: number, end: number): number {
  const k = st.factors;
  const U = st.users;
  const I = st.items;
  const R = st.ratings;
  const P = st.userFactors;
  const Q = st.itemFactors;
  const bu = st.userBias;
  const bi = st.itemBias;
  const { lrBu, lrBi, lrPu, lrQi, regBu, regBi, regPu, regQi } = st.rates;
  const mu = st.biased ? st.mean : 0;
  const biased = st.biased;
  const k4 = k & ~3;
  let sse = 0;
  for (let p = start; p < end; p++) {
    const u = U[p]!;
    const i = I[p]!;
    const pu = u * k;
    const qi = i * k;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let f = 0;
    for (; f < k4; f += 4) {
      d0 += P[pu + f]! * Q[qi + f]!;
      d1 += P[pu + f + 1]! * Q[qi + f + 1]!;
      d2 += P[pu + f + 2]! * Q[qi + f + 2]!;
      d3 += P[pu + f + 3]! * Q[qi + f + 3]!;
    }
    for (; f < k; f++) d0 += P[pu + f]! * Q[qi + f]!;
    const bU = bu[u]!;
    const bI = bi[i]!;
    const err = R[p]! - (mu + bU + bI + (d0 + d1 + (d2 + d3)));
    sse += err * err;
    if (biased) {
      bu[u] = bU + lrBu * (err - regBu * bU);
      bi[i] = bI + lrBi * (err - regBi * bI);
    }
    const eu = lrPu * err;
    const du = 1 - lrPu * regPu;
    const ei = lrQi * err;
    const di = 1 - lrQi * regQi;
    for (f = 0; f < k; f++) {
      const a = P[pu + f]!;
      const b = Q[qi + f]!;
      P[pu + f] = du * a + eu * b;
      Q[qi + f] = di * b + ei * a;
    }
  }
  return sse;
}

/** Shuffles (when asked) and trains one block; records its squared error. */
export function runBlock(st: SgdState, epoch: number, block: number): void {
  if (st.shuffle) shuffleBlock(st, epoch, block);
  st.blockSse[block] = sgdRange(st, st.blockPtr[block]!, st.blockPtr[block + 1]!);
}

/** A whole epoch on the calling thread, strata in order. */
export function sgdEpochSerial(st: SgdState, epoch: number): void {
  const B = st.blocks;
  for (let s = 0; s < B; s++) for (let a = 0; a < B; a++) runBlock(st, epoch, stratumBlock(B, s, a));
}

/** Control words of parallel epochs: per (epoch, stratum) a "next block" counter and an arrival counter. */
export function epochControl(blocks: number, epochs = 1): Int32Array {
  return new Int32Array(new SharedArrayBuffer(epochs * blocks * 2 * 4));
}

export interface SgdEpochTask {
  state: SgdState;
  /** Epochs firstEpoch .. firstEpoch + epochs - 1 run in this task. */
  firstEpoch: number;
  epochs: number;
  threads: number;
  control: Int32Array;
}

/** Spins this many polls before sleeping at a barrier: a futex wake-up costs more than a short stratum. */
const BARRIER_SPINS = 20000;

/**
 * Worker task: epochs shared by `threads` workers. Within a stratum each worker takes the next free block
 * (any worker may take any block: blocks of a stratum are independent); a barrier closes each stratum.
 */
export function sgdEpochWorker(task: SgdEpochTask): number {
  const { state: st, firstEpoch, epochs, threads, control } = task;
  const B = st.blocks;
  let done = 0;
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s < B; s++) {
      const slot = 2 * (e * B + s);
      for (;;) {
        const a = Atomics.add(control, slot, 1);
        if (a >= B) break;
        runBlock(st, firstEpoch + e, stratumBlock(B, s, a));
        done++;
      }
      const arrived = Atomics.add(control, slot + 1, 1) + 1;
      if (arrived === threads) Atomics.notify(control, slot + 1);
      else {
        let spins = 0;
        for (;;) {
          const seen = Atomics.load(control, slot + 1);
          if (seen >= threads) break;
          if (++spins > BARRIER_SPINS) Atomics.wait(control, slot + 1, seen);
        }
      }
    }
  }
  return done;
}

/** This module's path, for worker tasks. */
export const SGD_TASK_MODULE = __filename;
