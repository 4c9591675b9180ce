/**
 * In-place inverse of a large symmetric positive-definite Float64 matrix (EASE's (XᵀX + λI)⁻¹), by the block
 * sweep operator (symmetric block Gauss-Jordan). For each pivot block K of w columns, with M = A_KK⁻¹:
 *   A_IJ −= (A_IK M) A_KJ   (I, J ∉ K; lower triangle only)
 *   A_IK ← A_IK M,   A_KK ← −M.
 * After every block has been swept, A holds −A⁻¹. Why this and not Cholesky → L⁻¹ → L⁻ᵀL⁻¹ (LAPACK potrf +
 * potri): both cost n³ flops, but here all but ~2w/n of them are one operation — a rank-w update of the whole
 * lower triangle — so a single packed GEMM micro-kernel (./dense-kernels.ts, f64x2 WebAssembly SIMD) carries
 * the work, every step has the same n²/2 of parallel work (no shrinking trailing matrix to balance), and the
 * inverse needs only the one n × n array (plus n·w panels). A_KK stays positive definite at every step (it is a
 * Schur complement of the original matrix), so a non-positive pivot of its Cholesky means "not SPD".
 *
 * Threads: the update is split into row blocks that threads claim from a shared atomic counter; each block is
 * computed entirely by one thread in a fixed order and there are no cross-thread reductions, so the result is
 * bit-identical for any thread count (and the JS fallback kernels give the same bits as the WebAssembly ones:
 * both accumulate every entry over k in ascending order with separate multiply and add).
 *
 * Storage: row-major, row stride `ld` = n rounded up to a multiple of 4, in a shared WebAssembly memory (or a
 * SharedArrayBuffer for the JS fallback). Only the lower triangle (i ≥ j) is read and meaningful; the strict
 * upper triangle holds scratch until `mirror()` copies the lower triangle into it.
 */

import { throwIfAborted } from '../util/errors';
import { denseKernelModule, MR, NR } from './dense-kernels';
import { type WasmMemory, type WasmModule, wasmApi } from './ials-wasm';
import { cholesky } from './linalg';
import { workerPool } from './pool';

/** Panel width of both packed operands (the kernels' MR = NR). */
const PANEL = 4;
if (MR !== PANEL || NR !== PANEL) throw new Error('dense-spd assumes a square 4 × 4 micro-tile');

export interface SpdOptions {
  /** Pivot block width w, a multiple of 4 (default 192). */
  block?: number;
  /** Rows per unit of parallel update work, a multiple of 4 (default 128). */
  rowBlock?: number;
  /** 'auto' (WebAssembly SIMD when available), or force one kernel. */
  kernel?: 'auto' | 'wasm' | 'js';
}

const DEFAULT_BLOCK = 192;
const DEFAULT_ROW_BLOCK = 128;
/** Rows per unit of the packing / A_IK·M phase. */
const PACK_ROWS = 64;

/** Byte offsets of the regions in the shared memory. */
interface Layout {
  n: number;
  ld: number;
  w: number;
  ctrl: number;
  a: number;
  bp: number;
  yp: number;
  mp: number;
  bytes: number;
}

function layoutOf(n: number, w: number): Layout {
  const ld = Math.ceil(n / PANEL) * PANEL;
  const ctrl = 0;
  const a = 64;
  const bp = a + ld * ld * 8;
  const yp = bp + ld * w * 8;
  const mp = yp + ld * w * 8;
  const bytes = mp + w * w * 8;
  return { n, ld, w, ctrl, a, bp, yp, mp, bytes };
}

/** Bytes an n × n inverse needs (matrix + packed panels), for memory budgets. */
export function spdBytes(n: number, block = DEFAULT_BLOCK): number {
  return layoutOf(n, block).bytes;
}

/** What a worker (or the main thread) needs for one phase of one sweep step. */
export interface SweepTask {
  module: WasmModule | null;
  memory: WasmMemory | SharedArrayBuffer;
  layout: Layout;
  phase: 1 | 2;
  /** Pivot block [kb, ke); wq = (ke − kb) rounded up to a multiple of 4 = the packed depth. */
  kb: number;
  ke: number;
  wq: number;
  rowBlock: number;
}

type Gemm = (
  ap: number,
  bp: number,
  c: number,
  ldc: number,
  kc: number,
  p0: number,
  p1: number,
  nq: number,
) => void;
type Syrk = (
  ap: number,
  bp: number,
  c: number,
  ldc: number,
  kc: number,
  p0: number,
  p1: number,
  k0: number,
  k1: number,
) => void;

interface Kernels {
  gemm: Gemm;
  syrk: Syrk;
  f64: Float64Array;
  ctrl: Int32Array;
}

const kernelCache = new WeakMap<object, Kernels>();

function kernelsFor(task: SweepTask): Kernels {
  const buffer = (task.memory instanceof SharedArrayBuffer ? task.memory : task.memory.buffer) as object;
  let k = kernelCache.get(buffer);
  if (!k) {
    const sab = buffer as SharedArrayBuffer;
    const f64 = new Float64Array(sab);
    const ctrl = new Int32Array(sab, 0, 16);
    if (task.module && wasmApi && !(task.memory instanceof SharedArrayBuffer)) {
      const instance = new wasmApi.Instance(task.module, { env: { mem: task.memory } });
      k = {
        gemm: instance.exports.gemm as Gemm,
        syrk: instance.exports.syrk as Syrk,
        f64,
        ctrl,
      };
    } else {
      k = { gemm: jsGemm(f64), syrk: jsSyrk(f64), f64, ctrl };
    }
    kernelCache.set(buffer, k);
  }
  return k;
}

/**
 * Worker task (also run inline on the main thread): claims units of one phase from the shared counter until
 * none are left.
 * Phase 1, per unit of rows i ∉ K: pack A_iK into column panels (Bp), compute Y_i = A_iK·M into row panels
 * (Yp) as Yᵀ = M·A_Kᵀ with the GEMM kernel (Mp holds −M, so "C −= ·" on a zeroed C gives +M·A), and write Y_i
 * back as the new A_iK.
 * Phase 2, per row block (largest first): the lower-triangle update A_IJ −= Y_I · A_JK over all J ∉ K.
 */
export function sweepTask(task: SweepTask): void {
  const { gemm, syrk, f64, ctrl } = kernelsFor(task);
  const { layout, kb, ke, wq, phase } = task;
  const { n, ld } = layout;
  const a = layout.a / 8;
  const bp = layout.bp / 8;
  const yp = layout.yp / 8;
  const wk = ke - kb;
  const panels = ld / PANEL;
  const kp0 = kb / PANEL;
  const kp1 = Math.ceil(ke / PANEL);
  if (phase === 1) {
    const per = PACK_ROWS / PANEL;
    const units = Math.ceil(panels / per);
    for (let u = Atomics.add(ctrl, 1, 1); u < units; u = Atomics.add(ctrl, 1, 1)) {
      const q0 = u * per;
      const q1 = Math.min(panels, q0 + per);
      for (const [s, e] of [
        [q0, Math.min(q1, kp0)],
        [Math.max(q0, kp1), q1],
      ] as const) {
        if (s >= e) continue;
        for (let p = s; p < e; p++) {
          const base = bp + p * wq * PANEL;
          const ybase = yp + p * wq * PANEL;
          f64.fill(0, base, base + wq * PANEL);
          f64.fill(0, ybase, ybase + wq * PANEL);
          for (let r = 0; r < PANEL; r++) {
            const i = p * PANEL + r;
            if (i >= n) break;
            if (i < kb) for (let k = 0; k < wk; k++) f64[base + k * PANEL + r] = f64[a + (kb + k) * ld + i]!;
            else {
              const row = a + i * ld + kb;
              for (let k = 0; k < wk; k++) f64[base + k * PANEL + r] = f64[row + k]!;
            }
          }
        }
        // Yᵀ panels: rows l of M (row panels of Mp) × columns i (column panels of Bp); C tile (l, i) lands at
        // Yp + i-panel·wq·4 + l·4, i.e. ldc = 4 doubles and column-panel stride wq·4 doubles.
        for (let p = s; p < e; p++) {
          gemm(
            layout.mp,
            layout.bp + p * wq * PANEL * 8,
            layout.yp + p * wq * PANEL * 8,
            PANEL * 8,
            wq,
            0,
            wq / PANEL,
            1,
          );
        }
        for (let p = s; p < e; p++) {
          const ybase = yp + p * wq * PANEL;
          for (let r = 0; r < PANEL; r++) {
            const i = p * PANEL + r;
            if (i >= n) break;
            if (i < kb) for (let k = 0; k < wk; k++) f64[a + (kb + k) * ld + i] = f64[ybase + k * PANEL + r]!;
            else {
              const row = a + i * ld + kb;
              for (let k = 0; k < wk; k++) f64[row + k] = f64[ybase + k * PANEL + r]!;
            }
          }
        }
      }
    }
  } else {
    const per = task.rowBlock / PANEL;
    const units = Math.ceil(panels / per);
    for (let u = Atomics.add(ctrl, 2, 1); u < units; u = Atomics.add(ctrl, 2, 1)) {
      const b = units - 1 - u;
      const p0 = b * per;
      const p1 = Math.min(panels, p0 + per);
      syrk(layout.yp, layout.bp, layout.a, ld * 8, wq, p0, p1, kb, ke);
    }
  }
}

/** Scalar twins of the WebAssembly drivers (same loops, same per-entry order), on element offsets ÷ 8. */
function jsMicro(f: Float64Array, ap: number, bp: number, c: number, ldc: number, kc: number): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0,
    c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0,
    c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let k = 0; k < kc; k++) {
    const a0 = f[ap]!,
      a1 = f[ap + 1]!,
      a2 = f[ap + 2]!,
      a3 = f[ap + 3]!;
    const b0 = f[bp]!,
      b1 = f[bp + 1]!,
      b2 = f[bp + 2]!,
      b3 = f[bp + 3]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    ap += 4;
    bp += 4;
  }
  f[c]! -= c00;
  f[c + 1]! -= c01;
  f[c + 2]! -= c02;
  f[c + 3]! -= c03;
  c += ldc;
  f[c]! -= c10;
  f[c + 1]! -= c11;
  f[c + 2]! -= c12;
  f[c + 3]! -= c13;
  c += ldc;
  f[c]! -= c20;
  f[c + 1]! -= c21;
  f[c + 2]! -= c22;
  f[c + 3]! -= c23;
  c += ldc;
  f[c]! -= c30;
  f[c + 1]! -= c31;
  f[c + 2]! -= c32;
  f[c + 3]! -= c33;
}

function jsGemm(f: Float64Array): Gemm {
  return (ap, bp, c, ldc, kc, p0, p1, nq) => {
    for (let p = p0; p < p1; p++)
      for (let q = 0; q < nq; q++)
        jsMicro(
          f,
          (ap >> 3) + p * kc * 4,
          (bp >> 3) + q * kc * 4,
          (c >> 3) + ((p * 4 * ldc) >> 3) + q * 4,
          ldc >> 3,
          kc,
        );
  };
}

function jsSyrk(f: Float64Array): Syrk {
  return (ap, bp, c, ldc, kc, p0, p1, k0, k1) => {
    const nq = Math.floor((p1 * 4 - 1) / 4) + 1;
    for (let q = 0; q < nq; q++) {
      if (q * 4 >= k0 && q * 4 < k1) continue;
      for (let p = p0; p < p1; p++) {
        const row = p * 4;
        if (q * 4 > row + 3 || (row >= k0 && row < k1)) continue;
        jsMicro(
          f,
          (ap >> 3) + p * kc * 4,
          (bp >> 3) + q * kc * 4,
          (c >> 3) + ((row * ldc) >> 3) + q * 4,
          ldc >> 3,
          kc,
        );
      }
    }
  };
}

/**
 * An n × n SPD matrix in shared memory, inverted in place by `invert`. Fill the lower triangle of `a`
 * (entry (i, j) at i·ld + j) first.
 */
export class SpdMatrix {
  /** The matrix, row-major with row stride `ld` (ld ≥ n; the padding is scratch). */
  readonly a: Float64Array;
  readonly ld: number;
  /** Wall seconds of the last `invert` by part: the pivot blocks' inverses (main thread), A_IK·M, the update. */
  readonly profile = { pivot: 0, panel: 0, update: 0 };
  private readonly layout: Layout;

  private constructor(
    readonly n: number,
    private readonly module: WasmModule | null,
    private readonly memory: WasmMemory | SharedArrayBuffer,
    private readonly options: Required<Omit<SpdOptions, 'kernel'>>,
  ) {
    this.layout = layoutOf(n, options.block);
    this.ld = this.layout.ld;
    const buffer = memory instanceof SharedArrayBuffer ? memory : (memory.buffer as SharedArrayBuffer);
    this.a = new Float64Array(buffer, this.layout.a, this.ld * this.ld);
  }

  /** Allocates (zero-filled) shared storage for an n × n inverse. */
  static async create(n: number, options: SpdOptions = {}): Promise<SpdMatrix> {
    if (!(Number.isInteger(n) && n >= 1))
      throw new RangeError(`matrix size must be a positive integer, got ${n}`);
    const block = options.block ?? DEFAULT_BLOCK;
    const rowBlock = options.rowBlock ?? DEFAULT_ROW_BLOCK;
    for (const [name, v] of [
      ['block', block],
      ['rowBlock', rowBlock],
    ] as const) {
      if (!(Number.isInteger(v) && v >= PANEL && v % PANEL === 0))
        throw new RangeError(`${name} must be a positive multiple of ${PANEL}, got ${v}`);
    }
    const kernel = options.kernel ?? 'auto';
    const module = kernel === 'js' ? null : await denseKernelModule();
    if (kernel === 'wasm' && !module) throw new RangeError('WebAssembly SIMD kernels are not available');
    const { bytes } = layoutOf(n, block);
    let memory: WasmMemory | SharedArrayBuffer;
    if (module && wasmApi) {
      const pages = Math.ceil(bytes / 65536);
      if (pages > 65536)
        throw new RangeError(
          `a ${n} × ${n} inverse needs ${(bytes / 2 ** 30).toFixed(1)} GB, over WebAssembly's 4 GB`,
        );
      memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
    } else {
      memory = new SharedArrayBuffer(bytes);
    }
    return new SpdMatrix(n, module, memory, { block, rowBlock });
  }

  /** Whether the WebAssembly kernels run this matrix (else the scalar JS twins). */
  get wasm(): boolean {
    return !(this.memory instanceof SharedArrayBuffer);
  }

  /**
   * Replaces the lower triangle of A with the lower triangle of A⁻¹. Returns false (A is then garbage) when
   * A is not positive definite; throws AbortedError between pivot blocks once `signal` is aborted.
   * `threads` (the caller plus threads − 1 workers) changes the speed, never the result.
   */
  async invert(threads = 1, signal?: AbortSignal): Promise<boolean> {
    if (!(Number.isInteger(threads) && threads >= 1))
      throw new RangeError(`thread count must be a positive integer, got ${threads}`);
    this.profile.pivot = 0;
    this.profile.panel = 0;
    this.profile.update = 0;
    const { n, ld, a } = this;
    const w = this.options.block;
    const f64 = a;
    const mp = new Float64Array(a.buffer, this.layout.mp, w * w);
    const ctrl = new Int32Array(a.buffer, 0, 16);
    const pool = threads > 1 ? workerPool(threads - 1) : null;
    const m = new Float64Array(w * w);
    const minv = new Float64Array(w * w);
    for (let kb = 0; kb < n; kb += w) {
      throwIfAborted(signal, 'matrix inverse');
      const ke = Math.min(n, kb + w);
      const wk = ke - kb;
      const wq = Math.ceil(wk / PANEL) * PANEL;
      let t0 = performance.now();
      // M = A_KK⁻¹ (small: w³ flops in JS, ~2w/n of the total).
      for (let i = 0; i < wk; i++) {
        for (let j = 0; j <= i; j++) {
          const v = f64[(kb + i) * ld + kb + j]!;
          m[i * wk + j] = v;
          m[j * wk + i] = v;
        }
      }
      if (!cholesky(m, wk)) return false;
      spdInverseFromCholesky(m, wk, minv);
      // A_KK ← −M; Mp ← −M in row panels (entry (l, k) at (l/4)·wq·4 + k·4 + l%4), zero-padded to wq.
      mp.fill(0, 0, wq * wq);
      for (let l = 0; l < wk; l++) {
        for (let k = 0; k < wk; k++) {
          const v = -minv[l * wk + k]!;
          mp[(l >> 2) * wq * PANEL + k * PANEL + (l & 3)] = v;
          if (k <= l) f64[(kb + l) * ld + kb + k] = v;
        }
      }
      this.profile.pivot += (performance.now() - t0) / 1000;
      for (const phase of [1, 2] as const) {
        t0 = performance.now();
        Atomics.store(ctrl, phase, 0);
        const task: SweepTask = {
          module: this.module,
          memory: this.memory,
          layout: this.layout,
          phase,
          kb,
          ke,
          wq,
          rowBlock: this.options.rowBlock,
        };
        const others: Array<Promise<void>> = [];
        if (pool) for (let t = 0; t < threads - 1; t++) others.push(pool.run<void>(t, SWEEP_TASK, task));
        sweepTask(task);
        await Promise.all(others);
        this.profile[phase === 1 ? 'panel' : 'update'] += (performance.now() - t0) / 1000;
      }
    }
    // A now holds −A⁻¹.
    for (let i = 0; i < n; i++) {
      const row = i * ld;
      for (let j = 0; j <= i; j++) f64[row + j] = -f64[row + j]!;
    }
    return true;
  }

  /** Copies the lower triangle into the upper one (blocked transpose), making every row the full row. */
  mirror(): void {
    const { n, ld, a } = this;
    const t = 64;
    for (let ib = 0; ib < n; ib += t) {
      const ie = Math.min(n, ib + t);
      for (let jb = 0; jb <= ib; jb += t) {
        const je = Math.min(n, jb + t);
        for (let i = ib; i < ie; i++) {
          const row = i * ld;
          for (let j = jb; j < Math.min(je, i); j++) a[j * ld + i] = a[row + j]!;
        }
      }
    }
  }
}

const SWEEP_TASK = { module: __filename, fn: 'sweepTask' };

/**
 * (LLᵀ)⁻¹ into `out` (full k × k) from the Cholesky factor in the lower triangle of `l` (row-major k × k):
 * W = L⁻¹ by forward substitution, then out = WᵀW.
 */
function spdInverseFromCholesky(l: Float64Array, k: number, out: Float64Array): void {
  // W overwrites the lower triangle of l row by row: W_ii = 1/L_ii, W_ij = −(Σ_{j≤p<i} L_ip W_pj) / L_ii.
  for (let i = 0; i < k; i++) {
    const ri = i * k;
    const inv = 1 / l[ri + i]!;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let p = j; p < i; p++) s += l[ri + p]! * l[p * k + j]!;
      out[j] = s; // scratch: row i of W, columns < i
    }
    for (let j = 0; j < i; j++) l[ri + j] = -out[j]! * inv;
    l[ri + i] = inv;
  }
  // out_ij = Σ_{p ≥ max(i,j)} W_pi W_pj
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = i; p < k; p++) s += l[p * k + i]! * l[p * k + j]!;
      out[i * k + j] = s;
      out[j * k + i] = s;
    }
  }
}
