/**
 * Data layouts and per-thread instances of the full-ranking kernels (ranking-wasm.ts), and the exact scalar
 * score they reproduce.
 *
 * Exact score (what the f32 kernel computes, and `factorScore` in plain JS, bit for bit):
 *   acc = 0; for f in 0..F-1: acc = fround(acc + fround(u_f · v_if)); score = fround(acc + b_i).
 *
 * Certified bound (what the int16 kernel computes). With QMAX = 4095, per-user and per-item scales
 * su = fround(max_f |u_f| / QMAX), sv_i = fround(max_f |v_if| / QMAX) and rounded factors û_f = round(u_f / su),
 * v̂_if = round(v_if / sv_i), write u_f = su(û_f + δ_f), v_if = sv_i(v̂_if + ε_if) with |δ|, |ε| ≤ ½. For the
 * exact integer I = Σ û_f v̂_if (int32: |I| ≤ F·4095² < 2³¹ for F ≤ 128), U1 = Σ|û_f|, A_i = Σ|v̂_if|:
 *   |Σ u_f v_if − su·sv_i·I| ≤ su·sv_i·(½U1 + ½A_i + F/4),
 * and the f32 evaluation of the exact score is within γ_{F+2}·(Σ|u_f v_if| + |b_i|) of the real value, with
 * Σ|u_f v_if| ≤ su·sv_i·(U1 + F/2)·(QMAX + ½) and γ_n = n·2⁻²⁴ / (1 − n·2⁻²⁴). So
 *   score ≤ su·(sv_i·(I + c_u) + h_i) + b⁺_i
 * with c_u = (½+m)U1 + (¼+m)F + γ(U1 + F/2)(QMAX + ½), h_i = (½+m)·A_i·sv_i, b⁺_i = b_i + γ|b_i|, inflated by
 * 8·2⁻²⁴ relative (and rounded upwards when stored as f32) to cover the kernel's own f32 rounding of that
 * expression. Items whose bound is ≤ the k-th best exact score so far cannot enter the top k.
 */
import { ITEMS_PER_STEP, kernelModuleBytes, USERS_PER_STEP } from './ranking-wasm';

export { ITEMS_PER_STEP, USERS_PER_STEP } from './ranking-wasm';

/** Largest quantised magnitude: 12 bits, so products summed over up to 128 factors stay inside int32. */
export const QMAX = 4095;
/** Factor counts the int16 kernel supports (the f32 kernel has no limit). */
export const MAX_QUANTISED_FACTORS = 128;
const U = 2 ** -24;
const MARGIN = 1e-6;
const UP = 1 + 2 ** -20;
const TINY = 2 ** -100;

// The project compiles without the DOM lib, where the WebAssembly typings live: the little used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const modules = new Map<number, object>();

function kernelModule(factors: number): object {
  let m = modules.get(factors);
  if (!m) {
    m = new wasm.Module(kernelModuleBytes(factors));
    modules.set(factors, m);
  }
  return m;
}

/** Number of items after padding to whole register steps. */
export function paddedItems(nItems: number): number {
  return Math.ceil(nItems / ITEMS_PER_STEP) * ITEMS_PER_STEP;
}

/** Factor count of the int16 layout (F rounded up to even: the kernel multiplies pairs). */
export function quantisedFactors(factors: number): number {
  return factors + (factors & 1);
}

function gamma(factors: number): number {
  const n = factors + 2;
  return (n * U) / (1 - n * U);
}

/**
 * Packs row-major item factors (nItems × F) and optional biases into the f32 kernel layout: groups of 4
 * items, factor-major inside a group. Padding items get zero factors and a −∞ bias, so they never rank.
 */
export function packItems(
  itemFactors: Float32Array,
  nItems: number,
  factors: number,
  itemBias: Float32Array | null | undefined,
  into?: { items: Float32Array; bias: Float32Array },
): { items: Float32Array; bias: Float32Array } {
  const nPad = paddedItems(nItems);
  const items = into?.items ?? new Float32Array(nPad * factors);
  const bias = into?.bias ?? new Float32Array(nPad);
  for (let i = 0; i < nItems; i++) {
    const base = (i >> 2) * factors * 4 + (i & 3);
    const src = i * factors;
    for (let f = 0; f < factors; f++) items[base + f * 4] = itemFactors[src + f]!;
    bias[i] = itemBias ? itemBias[i]! : 0;
  }
  for (let i = nItems; i < nPad; i++) {
    const base = (i >> 2) * factors * 4 + (i & 3);
    for (let f = 0; f < factors; f++) items[base + f * 4] = 0;
    bias[i] = Number.NEGATIVE_INFINITY;
  }
  return { items, bias };
}

/** Item data of the int16 kernel: quantised factors (packed) and per-item scale, slack and bias bound. */
export interface QuantisedItems {
  items: Int16Array;
  scale: Float32Array;
  slack: Float32Array;
  biasUp: Float32Array;
}

/** Allocator for the arrays (SharedArrayBuffer-backed when they go to workers). */
export type Alloc = {
  f32(n: number): Float32Array;
  i16(n: number): Int16Array;
};

export const localAlloc: Alloc = {
  f32: (n) => new Float32Array(n),
  i16: (n) => new Int16Array(n),
};

/**
 * Quantises item factors for the int16 kernel (see the header for the bound); null when a factor or bias
 * is not finite or F exceeds MAX_QUANTISED_FACTORS (then only the f32 kernel is used).
 */
export function quantiseItems(
  itemFactors: Float32Array,
  nItems: number,
  factors: number,
  itemBias: Float32Array | null | undefined,
  alloc: Alloc = localAlloc,
): QuantisedItems | null {
  if (factors > MAX_QUANTISED_FACTORS) return null;
  const Fq = quantisedFactors(factors);
  const P = Fq / 2;
  const nPad = paddedItems(nItems);
  const items = alloc.i16(nPad * Fq);
  const scale = alloc.f32(nPad);
  const slack = alloc.f32(nPad);
  const biasUp = alloc.f32(nPad);
  const g = gamma(factors);
  for (let i = 0; i < nItems; i++) {
    const src = i * factors;
    let mx = 0;
    let poison = 0; // becomes NaN when a factor is ±∞ or NaN
    for (let f = 0; f < factors; f++) {
      const v = itemFactors[src + f]!;
      poison += v * 0;
      const a = v < 0 ? -v : v;
      if (a > mx) mx = a;
    }
    const b = itemBias ? itemBias[i]! : 0;
    if (poison !== 0 || !Number.isFinite(b)) return null;
    const sv = Math.fround(mx / QMAX);
    if (mx > 0 && !(sv > 0 && Number.isFinite(sv))) return null;
    // |v / sv| ≤ QMAX·(1 + 2⁻²³), so rounding v·(1/sv) needs no clamp; the reciprocal's error is far below MARGIN
    const inv = sv > 0 ? 1 / sv : 0;
    // packed: group of 4 items, pair q → 8 int16 [i0 f2q, i0 f2q+1, i1 f2q, …]
    const base = (i >> 2) * P * 8 + (i & 3) * 2;
    let a1 = 0;
    for (let f = 0; f < factors; f++) {
      const x = itemFactors[src + f]! * inv;
      const q = (x < 0 ? x - 0.5 : x + 0.5) | 0; // round half away from zero: |x − q| ≤ ½
      items[base + (f >> 1) * 8 + (f & 1)] = q;
      a1 += q < 0 ? -q : q;
    }
    scale[i] = sv;
    slack[i] = Math.fround((0.5 + MARGIN) * a1 * sv * UP * UP);
    biasUp[i] = Math.fround(b + (g + 8 * U) * Math.abs(b) + Math.abs(b) * 2 ** -20 + TINY);
  }
  for (let i = nItems; i < nPad; i++) {
    scale[i] = 0;
    slack[i] = 0;
    biasUp[i] = Number.NEGATIVE_INFINITY;
  }
  return { items, scale, slack, biasUp };
}

/**
 * Quantises one user's factors into `out` (Fq int16) and returns [su, c_u] for the int16 kernel; null when a
 * factor is not finite.
 */
export function quantiseUser(
  userFactors: Float32Array,
  user: number,
  factors: number,
  out: Int16Array,
  outOffset: number,
): [number, number] | null {
  const src = user * factors;
  let mx = 0;
  for (let f = 0; f < factors; f++) {
    const v = userFactors[src + f]!;
    if (!Number.isFinite(v)) return null;
    const a = Math.abs(v);
    if (a > mx) mx = a;
  }
  const su = Math.fround(mx / QMAX);
  if (mx > 0 && !(su > 0 && Number.isFinite(su))) return null;
  const inv = su > 0 ? 1 / su : 0;
  let u1 = 0;
  for (let f = 0; f < factors; f++) {
    const x = userFactors[src + f]! * inv;
    const q = (x < 0 ? x - 0.5 : x + 0.5) | 0;
    out[outOffset + f] = q;
    u1 += Math.abs(q);
  }
  if (factors & 1) out[outOffset + factors] = 0;
  const g = gamma(factors);
  let c = (0.5 + MARGIN) * u1 + (0.25 + MARGIN) * factors + g * (u1 + factors / 2) * (QMAX + 0.5);
  c += 8 * U * (u1 * QMAX + c);
  return [su, Math.fround(c * UP)];
}

/**
 * The ranking score of one (user, item) pair computed exactly as the f32 kernel does (same operation order,
 * float32 rounding after every operation), from the packed item layout.
 */
export function factorScore(
  userFactors: Float32Array,
  user: number,
  packedItems: Float32Array,
  packedBias: Float32Array,
  item: number,
  factors: number,
): number {
  const ub = user * factors;
  const ib = (item >> 2) * factors * 4 + (item & 3);
  let acc = 0;
  for (let f = 0; f < factors; f++)
    acc = Math.fround(acc + Math.fround(userFactors[ub + f]! * packedItems[ib + f * 4]!));
  return Math.fround(acc + packedBias[item]!);
}

interface Layout {
  items: number;
  bias: number;
  itemsQ: number;
  scale: number;
  slack: number;
  biasUp: number;
  users: number;
  usersQ: number;
  userScale: number;
  userSlack: number;
  out: number;
  thresholds: number;
  cand: number;
  counts: number;
  end: number;
}

/**
 * One instance of the kernels with its own memory: packed items (f32 and, when given, int16) live in it,
 * loaded once per item data id; user blocks, an output tile, thresholds and candidate lists are scratch.
 */
export class ScoreKernel {
  private readonly memory: WasmMemory;
  private readonly score: (...args: number[]) => void;
  private readonly scoreq: (...args: number[]) => void;
  private at: Layout | null = null;
  private nPad = 0;
  private blockRows = 0;
  private tile = 0;
  private quantised = false;
  /** User block (rows × F floats) for `scoreTile`. */
  userBlock = new Float32Array(0);
  /** Quantised user block (rows × Fq int16) and per-row su, c_u for `scoreTileBound`. */
  userBlockQ = new Int16Array(0);
  userScale = new Float32Array(0);
  userSlack = new Float32Array(0);
  /** Output tile: row r's values at [r·tileItems, r·tileItems + count). */
  out = new Float32Array(0);
  /** Per-row thresholds, set before scoring (−∞: every finite value). */
  thresholds = new Float32Array(0);
  /** Row r's listed 4-item groups: item offsets within the tile at [r·candStride, r·candStride + counts[r]). */
  cand = new Int32Array(0);
  counts = new Int32Array(0);
  /** Identity of the item data currently loaded. */
  loadedId: string | null = null;

  constructor(readonly factors: number) {
    const instance = new wasm.Instance(kernelModule(factors), {});
    this.memory = instance.exports.mem as WasmMemory;
    this.score = instance.exports.score as (...args: number[]) => void;
    this.scoreq = instance.exports.scoreq as (...args: number[]) => void;
  }

  /**
   * Lays out memory for the packed items, blocks of up to `blockUsers` users and item tiles of `tileItems`
   * (rounded up to whole register steps), and copies the item data in unless `id` is already loaded.
   */
  prepare(
    id: string,
    packedItems: Float32Array,
    packedBias: Float32Array,
    quantised: QuantisedItems | null,
    blockUsers: number,
    tileItems: number,
  ): void {
    const F = this.factors;
    const Fq = quantisedFactors(F);
    const nPad = packedBias.length;
    const rows = Math.ceil(blockUsers / USERS_PER_STEP) * USERS_PER_STEP;
    const tile = Math.max(
      ITEMS_PER_STEP,
      Math.min(nPad, Math.ceil(tileItems / ITEMS_PER_STEP) * ITEMS_PER_STEP),
    );
    const q = quantised ? 1 : 0;
    const a16 = (x: number) => Math.ceil(x / 16) * 16;
    const L: Partial<Layout> = {};
    let p = 0;
    const take = (key: keyof Layout, bytes: number) => {
      L[key] = p;
      p = a16(p + bytes);
    };
    take('items', nPad * F * 4);
    take('bias', nPad * 4);
    take('itemsQ', q * nPad * Fq * 2);
    take('scale', q * nPad * 4);
    take('slack', q * nPad * 4);
    take('biasUp', q * nPad * 4);
    take('users', rows * F * 4);
    take('usersQ', rows * Fq * 2);
    take('userScale', rows * 4);
    take('userSlack', rows * 4);
    take('out', rows * tile * 4);
    take('thresholds', rows * 4);
    take('cand', rows * (tile / 4) * 4);
    take('counts', rows * 4);
    L.end = p;
    const layout = L as Layout;
    const have = this.memory.buffer.byteLength;
    if (layout.end > have) this.memory.grow(Math.ceil((layout.end - have) / 65536));
    const same =
      this.loadedId === id &&
      this.at !== null &&
      this.nPad === nPad &&
      this.quantised === (quantised !== null);
    const moved = this.at === null || this.at.bias !== layout.bias || this.at.itemsQ !== layout.itemsQ;
    this.at = layout;
    this.nPad = nPad;
    this.blockRows = rows;
    this.tile = tile;
    this.quantised = quantised !== null;
    const buf = this.memory.buffer;
    if (!same || moved) {
      new Float32Array(buf, layout.items, nPad * F).set(packedItems);
      new Float32Array(buf, layout.bias, nPad).set(packedBias);
      if (quantised) {
        new Int16Array(buf, layout.itemsQ, nPad * Fq).set(quantised.items);
        new Float32Array(buf, layout.scale, nPad).set(quantised.scale);
        new Float32Array(buf, layout.slack, nPad).set(quantised.slack);
        new Float32Array(buf, layout.biasUp, nPad).set(quantised.biasUp);
      }
      this.loadedId = id;
    }
    this.userBlock = new Float32Array(buf, layout.users, rows * F);
    this.userBlockQ = new Int16Array(buf, layout.usersQ, rows * Fq);
    this.userScale = new Float32Array(buf, layout.userScale, rows);
    this.userSlack = new Float32Array(buf, layout.userSlack, rows);
    this.out = new Float32Array(buf, layout.out, rows * tile);
    this.thresholds = new Float32Array(buf, layout.thresholds, rows);
    this.cand = new Int32Array(buf, layout.cand, rows * (tile / 4));
    this.counts = new Int32Array(buf, layout.counts, rows);
  }

  /** Rows of a user block (a multiple of USERS_PER_STEP). */
  get rows(): number {
    return this.blockRows;
  }

  /** Items per tile (a multiple of ITEMS_PER_STEP). */
  get tileItems(): number {
    return this.tile;
  }

  /** Entries per row of `cand`. */
  get candStride(): number {
    return this.tile / 4;
  }

  get paddedItems(): number {
    return this.nPad;
  }

  /** Whether int16 item data is loaded (so `scoreTileBound` may be used). */
  get hasBound(): boolean {
    return this.quantised;
  }

  /**
   * Exact f32 scores of the first `rows` user-block rows (rounded up to a register step) for packed items
   * [start, start + count) (multiples of ITEMS_PER_STEP) into `out`, listing candidate groups per row.
   */
  scoreTile(rows: number, start: number, count: number): void {
    const at = this.at!;
    const F = this.factors;
    this.score(
      at.users,
      Math.ceil(rows / USERS_PER_STEP),
      at.items + start * F * 4,
      count / ITEMS_PER_STEP,
      at.bias + start * 4,
      at.out,
      this.tile * 4,
      at.thresholds,
      at.cand,
      this.tile,
      at.counts,
    );
  }

  /** Like `scoreTile`, but writes the int16 kernel's certified upper bounds of the scores. */
  scoreTileBound(rows: number, start: number, count: number): void {
    const at = this.at!;
    const Fq = quantisedFactors(this.factors);
    this.scoreq(
      at.usersQ,
      Math.ceil(rows / USERS_PER_STEP),
      at.itemsQ + start * Fq * 2,
      count / ITEMS_PER_STEP,
      at.scale + start * 4,
      at.slack + start * 4,
      at.biasUp + start * 4,
      at.out,
      this.tile * 4,
      at.thresholds,
      at.userScale,
      at.userSlack,
      at.cand,
      this.tile,
      at.counts,
    );
  }
}
