/**
 * One SGD epoch of SVD++ with Surprise's update rule, in O(k) per rating instead of O(|I_u|·k).
 *
 * Surprise visits a user's ratings one after another and, after each rating, moves every y_j (j ∈ I_u) by the
 * same affine map y_j ← a·y_j + c (a = 1 − lr_yj·reg_yj, c = lr_yj·err·q_i/√|I_u|). The implicit sum
 * z = |I_u|^-½ Σ y_j then moves by z ← a·z + lr_yj·err·q_i exactly, so we track z, compose the maps
 * (A, C) and apply them to the y_j once at the end of the user. Same arithmetic, up to rounding.
 */
import type { CompressedRows } from '../data/interactions';
import { Rng } from '../util/rng';
import type { SgdRates } from './sgd';

export interface SvdppRates extends SgdRates {
  lrYj: number;
  regYj: number;
}

export interface SvdppState {
  factors: number;
  byUser: CompressedRows;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  implicitFactors: Float32Array;
  userBias: Float64Array;
  itemBias: Float64Array;
  mean: number;
  rates: SvdppRates;
  /** Visit users and each user's ratings in a seeded random order (Surprise: file order). */
  shuffle: boolean;
  seed: number;
}

/** Runs one epoch; returns the sum of squared errors seen before each update. */
export function svdppEpoch(st: SvdppState, epoch: number, scratch: SvdppScratch): number {
  const { indptr } = st.byUser;
  const nUsers = indptr.length - 1;
  const order = scratch.order;
  let users: Int32Array | null = null;
  let rng: Rng | null = null;
  if (st.shuffle) {
    rng = Rng.derive(st.seed, epoch);
    users = rng.permutation(nUsers);
  }
  let sse = 0;
  for (let n = 0; n < nUsers; n++) {
    const u = users ? users[n]! : n;
    const start = indptr[u]!;
    const len = indptr[u + 1]! - start;
    if (len === 0) continue;
    for (let p = 0; p < len; p++) order[p] = start + p;
    if (rng) {
      for (let p = len - 1; p > 0; p--) {
        const q = rng.int(p + 1);
        const t = order[p]!;
        order[p] = order[q]!;
        order[q] = t;
      }
    }
    sse += svdppVisitUser(st, u, order, len, scratch);
  }
  return sse;
}

/**
 * Visits the ratings at CSR positions order[0..count) of user u (I_u is always u's whole row); returns the sum of
 * squared errors before each update.
 */
export function svdppVisitUser(
  st: SvdppState,
  u: number,
  order: Int32Array,
  count: number,
  scratch: SvdppScratch,
): number {
  const k = st.factors;
  const { indptr, indices, values } = st.byUser;
  const P = st.userFactors;
  const Q = st.itemFactors;
  const Y = st.implicitFactors;
  const bu = st.userBias;
  const bi = st.itemBias;
  const { lrBu, lrBi, lrPu, lrQi, lrYj, regBu, regBi, regPu, regQi, regYj } = st.rates;
  const mu = st.mean;
  const { z, C } = scratch;
  const a = 1 - lrYj * regYj;
  const du = 1 - lrPu * regPu;
  const di = 1 - lrQi * regQi;
  const start = indptr[u]!;
  const end = indptr[u + 1]!;
  const s = 1 / Math.sqrt(end - start);
  z.fill(0);
  for (let p = start; p < end; p++) {
    const yj = indices[p]! * k;
    for (let f = 0; f < k; f++) z[f]! += Y[yj + f]!;
  }
  for (let f = 0; f < k; f++) {
    z[f]! *= s;
    C[f] = 0;
  }
  let A = 1;
  let sse = 0;
  const pu = u * k;
  for (let o = 0; o < count; o++) {
    const p = order[o]!;
    const i = indices[p]!;
    const qi = i * k;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += Q[qi + f]! * (P[pu + f]! + z[f]!);
    const bU = bu[u]!;
    const bI = bi[i]!;
    const err = values[p]! - (mu + bU + bI + dot);
    sse += err * err;
    bu[u] = bU + lrBu * (err - regBu * bU);
    bi[i] = bI + lrBi * (err - regBi * bI);
    const eu = lrPu * err;
    const ei = lrQi * err;
    const ey = lrYj * err;
    const ec = ey * s;
    for (let f = 0; f < k; f++) {
      const puf = P[pu + f]!;
      const qif = Q[qi + f]!;
      const zf = z[f]!;
      P[pu + f] = du * puf + eu * qif;
      Q[qi + f] = di * qif + ei * (puf + zf);
      z[f] = a * zf + ey * qif;
      C[f] = a * C[f]! + ec * qif;
    }
    A *= a;
  }
  for (let p = start; p < end; p++) {
    const yj = indices[p]! * k;
    for (let f = 0; f < k; f++) Y[yj + f] = A * Y[yj + f]! + C[f]!;
  }
  return sse;
}

export interface SvdppScratch {
  z: Float64Array;
  C: Float64Array;
  order: Int32Array;
}

export function svdppScratch(factors: number, byUser: CompressedRows): SvdppScratch {
  let longest = 0;
  for (let u = 0; u + 1 < byUser.indptr.length; u++)
    longest = Math.max(longest, byUser.indptr[u + 1]! - byUser.indptr[u]!);
  return { z: new Float64Array(factors), C: new Float64Array(factors), order: new Int32Array(longest) };
}

/** Effective user factors p_u + |I_u|^-½ Σ_{j∈I_u} y_j (zero for users without ratings). */
export function svdppUserVectors(st: SvdppState): Float32Array {
  const k = st.factors;
  const { indptr, indices } = st.byUser;
  const nUsers = indptr.length - 1;
  const out = new Float32Array(nUsers * k);
  const acc = new Float64Array(k);
  for (let u = 0; u < nUsers; u++) {
    const len = indptr[u + 1]! - indptr[u]!;
    if (len === 0) continue;
    acc.fill(0);
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const yj = indices[p]! * k;
      for (let f = 0; f < k; f++) acc[f]! += st.implicitFactors[yj + f]!;
    }
    const s = 1 / Math.sqrt(len);
    for (let f = 0; f < k; f++) out[u * k + f] = st.userFactors[u * k + f]! + acc[f]! * s;
  }
  return out;
}
