/**
 * Float64 inverse of a symmetric positive-definite matrix for EASE, with the O(n³) inner loops as
 * WebAssembly SIMD (f64x2) "axpy" kernels: blocked Cholesky (trailing update against a transposed panel),
 * L⁻¹ in place, then P = L⁻ᵀL⁻¹ (lower triangle). Same algorithms as the JS versions in ./linalg.ts, which
 * remain the fallback when WebAssembly SIMD is missing.
 */
import { type WasmModule, wasmApi } from './ials-wasm';
import { choleskyBlocked, invertLowerBlocked, lowerGramBlocked } from './linalg';

/** Columns per cache tile of the O(n³) loops (8 KB of Float64 per row). */
const TILE = 1024;

const WAT = `
(module
  (import "env" "mem" (memory 1 65536))
  ;; out[c] += s0·w0[c] + s1·w1[c] + s2·w2[c] + s3·w3[c], c < len (byte offsets, f64)
  (func (export "axpy4") (param $out i32) (param $len i32)
    (param $s0 f64) (param $s1 f64) (param $s2 f64) (param $s3 f64)
    (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
    (local $end i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local.set $v0 (f64x2.splat (local.get $s0)))
    (local.set $v1 (f64x2.splat (local.get $s1)))
    (local.set $v2 (f64x2.splat (local.get $s2)))
    (local.set $v3 (f64x2.splat (local.get $s3)))
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (v128.store align=8 (local.get $out)
        (f64x2.add (v128.load align=8 (local.get $out))
          (f64x2.add
            (f64x2.add (f64x2.mul (local.get $v0) (v128.load align=8 (local.get $w0)))
                       (f64x2.mul (local.get $v1) (v128.load align=8 (local.get $w1))))
            (f64x2.add (f64x2.mul (local.get $v2) (v128.load align=8 (local.get $w2)))
                       (f64x2.mul (local.get $v3) (v128.load align=8 (local.get $w3)))))))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 16)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
      (local.set $w3 (i32.add (local.get $w3) (i32.const 16)))
      (br $loop)))
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (f64.store (local.get $out)
          (f64.add (f64.load (local.get $out))
            (f64.add
              (f64.add (f64.mul (local.get $s0) (f64.load (local.get $w0)))
                       (f64.mul (local.get $s1) (f64.load (local.get $w1))))
              (f64.add (f64.mul (local.get $s2) (f64.load (local.get $w2)))
                       (f64.mul (local.get $s3) (f64.load (local.get $w3))))))))))
  ;; out[c] += s·w[c], c < len
  (func (export "axpy1") (param $out i32) (param $len i32) (param $s f64) (param $w i32)
    (local $end i32) (local $v v128)
    (local.set $v (f64x2.splat (local.get $s)))
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (v128.store align=8 (local.get $out)
        (f64x2.add (v128.load align=8 (local.get $out)) (f64x2.mul (local.get $v) (v128.load align=8 (local.get $w)))))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $w (i32.add (local.get $w) (i32.const 16)))
      (br $loop)))
    (if (i32.and (local.get $len) (i32.const 1))
      (then (f64.store (local.get $out)
        (f64.add (f64.load (local.get $out)) (f64.mul (local.get $s) (f64.load (local.get $w))))))))
)
`;

interface Wabt {
  parseWat(
    filename: string,
    source: string,
    features: Record<string, boolean>,
  ): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void };
}

let compiled: Promise<WasmModule | null> | null = null;

function kernelModule(): Promise<WasmModule | null> {
  compiled ??= (async () => {
    if (process.env.REELAB_NO_WASM === '1' || !wasmApi) return null;
    try {
      const wabt = await (require('wabt') as () => Promise<Wabt>)();
      const parsed = wabt.parseWat('axpy.wat', WAT, { simd: true });
      const { buffer } = parsed.toBinary({});
      parsed.destroy();
      return new wasmApi.Module(buffer);
    } catch {
      return null;
    }
  })();
  return compiled;
}

type Axpy4 = (
  out: number,
  len: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
) => void;
type Axpy1 = (out: number, len: number, s: number, w: number) => void;

/** Workspace of an n × n inverse: G (then L, then L⁻¹) and P, plus a panel / row-block buffer. */
export interface SpdWorkspace {
  n: number;
  /** Fill the lower triangle (and diagonal) of G here before calling `invert`. */
  g: Float64Array;
  /** After `invert`: P = G⁻¹ in the lower triangle and diagonal. */
  p: Float64Array;
  invert(): boolean;
}

/**
 * A workspace backed by WebAssembly memory when SIMD is available (else plain arrays and the JS kernels).
 * Needs 16·n² bytes (+ a block buffer).
 */
export async function spdWorkspace(n: number, nb = 64, tile = TILE): Promise<SpdWorkspace> {
  const module = await kernelModule();
  if (!module || !wasmApi) {
    const g = new Float64Array(n * n);
    const p = new Float64Array(n * n);
    return {
      n,
      g,
      p,
      invert: () => {
        if (!choleskyBlocked(g, n)) return false;
        invertLowerBlocked(g, n);
        lowerGramBlocked(g, n, p);
        return true;
      },
    };
  }
  const bytes = (2 * n * n + nb * n + 8) * 8;
  const pages = Math.ceil(bytes / 65536);
  if (pages > 65536) throw new RangeError(`EASE: ${n} items do not fit a 4 GB WebAssembly memory`);
  const memory = new (
    wasmApi.Memory as unknown as new (d: {
      initial: number;
      maximum: number;
    }) => {
      buffer: ArrayBuffer;
    }
  )({ initial: pages, maximum: pages });
  const instance = new wasmApi.Instance(module, { env: { mem: memory } });
  const axpy4 = instance.exports.axpy4 as Axpy4;
  const axpy1 = instance.exports.axpy1 as Axpy1;
  const g = new Float64Array(memory.buffer, 0, n * n);
  const p = new Float64Array(memory.buffer, n * n * 8, n * n);
  const buf = new Float64Array(memory.buffer, 2 * n * n * 8, nb * n);
  const G = 0;
  const P = n * n * 8;
  const BUF = 2 * n * n * 8;
  const at = (base: number, row: number, col: number) => base + (row * n + col) * 8;
  return {
    n,
    g,
    p,
    invert: () => {
      // Blocked Cholesky; the trailing update subtracts panel_i · panel_j via the transposed panel.
      for (let kb = 0; kb < n; kb += nb) {
        const ke = Math.min(n, kb + nb);
        for (let j = kb; j < ke; j++) {
          const rj = j * n;
          let d = g[rj + j]!;
          for (let q = kb; q < j; q++) d -= g[rj + q]! * g[rj + q]!;
          if (!(d > 0)) return false;
          const ljj = Math.sqrt(d);
          g[rj + j] = ljj;
          const inv = 1 / ljj;
          for (let i = j + 1; i < n; i++) {
            const ri = i * n;
            let s = g[ri + j]!;
            for (let q = kb; q < j; q++) s -= g[ri + q]! * g[rj + q]!;
            g[ri + j] = s * inv;
          }
        }
        const w = ke - kb;
        for (let q = 0; q < w; q++) for (let j = ke; j < n; j++) buf[q * n + j] = g[j * n + kb + q]!;
        // Column tiles keep a tile of the transposed panel in cache while every row below streams past it.
        for (let j0 = ke; j0 < n; j0 += tile) {
          const j1 = Math.min(n, j0 + tile);
          for (let i = j0; i < n; i++) {
            const ri = i * n;
            const len = Math.min(i + 1, j1) - j0;
            let q = 0;
            for (; q + 3 < w; q += 4) {
              axpy4(
                at(G, i, j0),
                len,
                -g[ri + kb + q]!,
                -g[ri + kb + q + 1]!,
                -g[ri + kb + q + 2]!,
                -g[ri + kb + q + 3]!,
                at(BUF, q, j0),
                at(BUF, q + 1, j0),
                at(BUF, q + 2, j0),
                at(BUF, q + 3, j0),
              );
            }
            for (; q < w; q++) axpy1(at(G, i, j0), len, -g[ri + kb + q]!, at(BUF, q, j0));
          }
        }
      }
      for (let i = 0; i < n; i++) g.fill(0, i * n + i + 1, (i + 1) * n);
      // W = L⁻¹ in place, rows in blocks; buf holds the block's Σ_p L_ip W_p.
      for (let ib = 0; ib < n; ib += nb) {
        const ie = Math.min(n, ib + nb);
        buf.fill(0);
        for (let c0 = 0; c0 < ib; c0 += tile) {
          const c1 = Math.min(ib, c0 + tile);
          // rows q < c0 of W are zero in columns ≥ c0 + … only from q + 1 on: start at q = c0 rounded down to 4
          let q = c0 - (c0 % 4);
          for (; q + 3 < ib; q += 4) {
            const len = Math.min(q + 4, c1) - c0;
            for (let i = ib; i < ie; i++) {
              const ri = i * n;
              axpy4(
                at(BUF, i - ib, c0),
                len,
                g[ri + q]!,
                g[ri + q + 1]!,
                g[ri + q + 2]!,
                g[ri + q + 3]!,
                at(G, q, c0),
                at(G, q + 1, c0),
                at(G, q + 2, c0),
                at(G, q + 3, c0),
              );
            }
          }
          for (; q < ib; q++) {
            const len = Math.min(q + 1, c1) - c0;
            if (len > 0)
              for (let i = ib; i < ie; i++) axpy1(at(BUF, i - ib, c0), len, g[i * n + q]!, at(G, q, c0));
          }
        }
        for (let i = ib; i < ie; i++) {
          const ri = i * n;
          const tb = (i - ib) * n;
          for (let r = ib; r < i; r++) axpy1(at(BUF, i - ib, 0), r + 1, g[ri + r]!, at(G, r, 0));
          const inv = 1 / g[ri + i]!;
          for (let c = 0; c < i; c++) g[ri + c] = -buf[tb + c]! * inv;
          g[ri + i] = inv;
        }
      }
      // P = WᵀW, lower triangle, rows in blocks.
      for (let ib = 0; ib < n; ib += nb) {
        const ie = Math.min(n, ib + nb);
        for (let i = ib; i < ie; i++) p.fill(0, i * n, i * n + i + 1);
        for (let c0 = 0; c0 < ie; c0 += tile) {
          const c1 = Math.min(ie, c0 + tile);
          let r = ib;
          for (; r < ie; r++) {
            for (let i = Math.max(ib, c0); i <= r; i++) {
              axpy1(at(P, i, c0), Math.min(i + 1, c1) - c0, g[r * n + i]!, at(G, r, c0));
            }
          }
          for (; r + 3 < n; r += 4) {
            for (let i = Math.max(ib, c0); i < ie; i++) {
              axpy4(
                at(P, i, c0),
                Math.min(i + 1, c1) - c0,
                g[r * n + i]!,
                g[(r + 1) * n + i]!,
                g[(r + 2) * n + i]!,
                g[(r + 3) * n + i]!,
                at(G, r, c0),
                at(G, r + 1, c0),
                at(G, r + 2, c0),
                at(G, r + 3, c0),
              );
            }
          }
          for (; r < n; r++) {
            for (let i = Math.max(ib, c0); i < ie; i++) {
              axpy1(at(P, i, c0), Math.min(i + 1, c1) - c0, g[r * n + i]!, at(G, r, c0));
            }
          }
        }
      }
      return true;
    },
  };
}
