/**
 * Float64 GEMM kernels for the dense SPD inverse (./dense-spd.ts) as WebAssembly SIMD (f64x2) on a shared
 * memory, assembled with wabt from the text generated below.
 *
 * Layout (GotoBLAS-style packing): the left operand is packed in row panels of MR rows, element (r, k) of a
 * panel at k·MR + r; the right operand in column panels of NR columns, element (k, c) at k·NR + c. The
 * micro-kernel keeps an MR × NR tile of C in registers (MR·NR/2 f64x2 accumulators), streams both panels over
 * k and then subtracts the tile from C. Every entry of C is accumulated in the same order (k ascending,
 * separate multiply and add: standard WebAssembly SIMD has no fused multiply-add) whatever thread computes
 * it, so results are bit-identical for any number of threads.
 *
 * MR = NR = 4 (8 accumulators + 2 panel registers + 1 broadcast of V8's 15 usable XMM registers) runs at
 * 15–19 GFLOP/s per CPU-second here, within noise of the best shapes measured (2 × 8, 4 × 6; 6 × 4 and 4 × 8
 * spill: `npx tsx bench/ease.ts --kernel-shapes`), and a square tile lets ./dense-spd.ts write the C tiles of
 * Yᵀ = M·A_Kᵀ straight into the row panels that the update then reads.
 */
import { type WasmModule, wasmApi } from './ials-wasm';
import { watToBinary } from './wat-binary';

export const MR = 4;
export const NR = 4;

/** The micro-kernel: C[MR × NR] −= A_panel · B_panelᵀ over kc steps (byte pointers, ldc in bytes). */
function microKernel(mr: number, nr: number): string {
  const nv = nr / 2;
  const locals: string[] = [];
  for (let v = 0; v < nv; v++) locals.push(`(local $b${v} v128)`);
  for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) locals.push(`(local $c${r}_${v} v128)`);
  const body: string[] = [];
  for (let v = 0; v < nv; v++) body.push(`(local.set $b${v} (v128.load offset=${16 * v} (local.get $b)))`);
  for (let r = 0; r < mr; r++) {
    body.push(`(local.set $x (v128.load64_splat offset=${8 * r} (local.get $a)))`);
    for (let v = 0; v < nv; v++)
      body.push(
        `(local.set $c${r}_${v} (f64x2.add (local.get $c${r}_${v}) (f64x2.mul (local.get $x) (local.get $b${v}))))`,
      );
  }
  const store: string[] = [];
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++)
      store.push(
        `(v128.store offset=${16 * v} (local.get $c) (f64x2.sub (v128.load offset=${16 * v} (local.get $c)) (local.get $c${r}_${v})))`,
      );
    if (r + 1 < mr) store.push('(local.set $c (i32.add (local.get $c) (local.get $ldc)))');
  }
  return `
  (func $micro (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $kc i32)
    (local $end i32) (local $x v128) ${locals.join(' ')}
    (local.set $end (i32.add (local.get $b) (i32.mul (local.get $kc) (i32.const ${nr * 8}))))
    (loop $k
      ${body.join('\n      ')}
      (local.set $a (i32.add (local.get $a) (i32.const ${mr * 8})))
      (local.set $b (i32.add (local.get $b) (i32.const ${nr * 8})))
      (br_if $k (i32.lt_u (local.get $b) (local.get $end))))
    ${store.join('\n    ')})`;
}

/**
 * The module: `micro` plus two drivers that loop over panels inside WebAssembly (one JS → wasm call per block
 * of work, not per tile).
 *   gemm(ap, bp, c, ldc, kc, p0, p1, nq): C −= A·Bᵀ for row panels [p0, p1) and column panels [0, nq); row
 *     panel p's C tile starts at c + p·MR·ldc.
 *   syrk(ap, bp, c, ldc, kc, p0, p1, k0, k1): the lower-triangle update of row panels [p0, p1): C_ij −= A_i·B_j
 *     for column panels q whose first column ≤ the panel's last row, skipping the rows and columns of the
 *     pivot block [k0, k1) (in matrix indices, multiples of MR and NR). Column panels are the outer loop, so
 *     one B panel stays in L1 while the block's A panels stream from L2.
 */
export function kernelText(mr = MR, nr = NR): string {
  return `
(module
  (import "env" "mem" (memory 1 65536 shared))
  ${microKernel(mr, nr)}
  (func (export "gemm") (param $ap i32) (param $bp i32) (param $c i32) (param $ldc i32) (param $kc i32)
    (param $p0 i32) (param $p1 i32) (param $nq i32)
    (local $p i32) (local $q i32)
    (local.set $p (local.get $p0))
    (block $pd (loop $pl
      (br_if $pd (i32.ge_u (local.get $p) (local.get $p1)))
      (local.set $q (i32.const 0))
      (block $qd (loop $ql
        (br_if $qd (i32.ge_u (local.get $q) (local.get $nq)))
        (call $micro
          (i32.add (local.get $ap) (i32.mul (local.get $p) (i32.mul (local.get $kc) (i32.const ${mr * 8}))))
          (i32.add (local.get $bp) (i32.mul (local.get $q) (i32.mul (local.get $kc) (i32.const ${nr * 8}))))
          (i32.add (local.get $c)
            (i32.add (i32.mul (i32.mul (local.get $p) (i32.const ${mr})) (local.get $ldc))
                     (i32.mul (local.get $q) (i32.const ${nr * 8}))))
          (local.get $ldc) (local.get $kc))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $ql)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pl))))
  (func (export "syrk") (param $ap i32) (param $bp i32) (param $c i32) (param $ldc i32) (param $kc i32)
    (param $p0 i32) (param $p1 i32) (param $k0 i32) (param $k1 i32)
    (local $p i32) (local $q i32) (local $nq i32) (local $row i32)
    ;; column panels up to (and including) the one holding the last row of the block
    (local.set $nq (i32.add (i32.div_u (i32.sub (i32.mul (local.get $p1) (i32.const ${mr})) (i32.const 1))
      (i32.const ${nr})) (i32.const 1)))
    (local.set $q (i32.const 0))
    (block $qd (loop $ql
      (br_if $qd (i32.ge_u (local.get $q) (local.get $nq)))
      (if (i32.or (i32.lt_u (i32.mul (local.get $q) (i32.const ${nr})) (local.get $k0))
                  (i32.ge_u (i32.mul (local.get $q) (i32.const ${nr})) (local.get $k1)))
        (then
          (local.set $p (local.get $p0))
          (block $pd (loop $pl
            (br_if $pd (i32.ge_u (local.get $p) (local.get $p1)))
            (local.set $row (i32.mul (local.get $p) (i32.const ${mr})))
            (if (i32.and
                  (i32.le_u (i32.mul (local.get $q) (i32.const ${nr})) (i32.add (local.get $row) (i32.const ${mr - 1})))
                  (i32.or (i32.lt_u (local.get $row) (local.get $k0)) (i32.ge_u (local.get $row) (local.get $k1))))
              (then
                (call $micro
                  (i32.add (local.get $ap) (i32.mul (local.get $p) (i32.mul (local.get $kc) (i32.const ${mr * 8}))))
                  (i32.add (local.get $bp) (i32.mul (local.get $q) (i32.mul (local.get $kc) (i32.const ${nr * 8}))))
                  (i32.add (local.get $c)
                    (i32.add (i32.mul (local.get $row) (local.get $ldc))
                             (i32.mul (local.get $q) (i32.const ${nr * 8}))))
                  (local.get $ldc) (local.get $kc))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pl)))))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $ql))))
)`;
}

const compiled = new Map<string, Promise<WasmModule | null>>();

/** The compiled kernels for an MR × NR tile, or null without WebAssembly SIMD / threads (or REELAB_NO_WASM=1). */
export function denseKernelModule(mr = MR, nr = NR): Promise<WasmModule | null> {
  const key = `${mr}x${nr}`;
  let module = compiled.get(key);
  if (!module) {
    module = (async () => {
      if (process.env.REELAB_NO_WASM === '1' || !wasmApi) return null;
      try {
        const buffer = await watToBinary('dense.wat', kernelText(mr, nr), { simd: true, threads: true });
        return new wasmApi.Module(buffer);
      } catch {
        return null;
      }
    })();
    compiled.set(key, module);
  }
  return module;
}
