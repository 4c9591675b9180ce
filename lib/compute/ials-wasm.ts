/**
 * The iALS conjugate-gradient row solve as a WebAssembly SIMD kernel (f32x4), the fast path of
 * `cgSolveRows` (lib/compute/cg.ts) for factor counts divisible by 4. It runs on a shared WebAssembly.Memory
 * that holds the confidence matrices and both factor matrices, so worker threads solve rows in place.
 * Arithmetic is Float32 throughout, like implicit's `least_squares_cg`; rows stay independent, so any split of
 * rows over threads gives bit-identical factors. The module is assembled once per process from the text below
 * with wabt and handed to workers as a compiled WebAssembly.Module.
 */
import { watToBinary } from './wat-binary';

/** All pointers are byte offsets into the shared memory. */
const WAT = `
(module
  (import "env" "mem" (memory 1 65536 shared))

  ;; Σ a[f]·b[f] over k floats (k divisible by 4), two accumulators.
  (func $dot (param $a i32) (param $b i32) (param $k i32) (result f32)
    (local $end i32) (local $s0 v128) (local $s1 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (block $done8
      (loop $loop8
        (br_if $done8 (i32.gt_u (i32.add (local.get $a) (i32.const 32)) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0)
          (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $s1 (f32x4.add (local.get $s1)
          (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br $loop8)))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0)
          (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $loop4)))
    (local.set $s0 (f32x4.add (local.get $s0) (local.get $s1)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
      (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0)))))

  ;; out[f] += t·a[f]
  (func $axpy (param $t f32) (param $a i32) (param $out i32) (param $k i32)
    (local $end i32) (local $tv v128)
    (local.set $tv (f32x4.splat (local.get $t)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (v128.store (local.get $out)
          (f32x4.add (v128.load (local.get $out)) (f32x4.mul (local.get $tv) (v128.load (local.get $a)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop))))

  ;; out[f] = scale · Σ_g A[f][g]·v[g]
  (func $symv (param $A i32) (param $v i32) (param $out i32) (param $k i32) (param $scale f32)
    (local $f i32) (local $row i32)
    (local.set $row (i32.shl (local.get $k) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $f) (local.get $k)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $f) (i32.const 2)))
          (f32.mul (local.get $scale) (call $dot (local.get $A) (local.get $v) (local.get $k))))
        (local.set $A (i32.add (local.get $A) (local.get $row)))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $loop))))

  ;; dst[f] = src[f]
  (func $copy (param $src i32) (param $dst i32) (param $k i32)
    (memory.copy (local.get $dst) (local.get $src) (i32.shl (local.get $k) (i32.const 2))))

  ;; p = r + beta·p
  (func $xpby (param $r i32) (param $p i32) (param $beta f32) (param $k i32)
    (local $end i32) (local $bv v128)
    (local.set $bv (f32x4.splat (local.get $beta)))
    (local.set $end (i32.add (local.get $r) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $r) (local.get $end)))
        (v128.store (local.get $p)
          (f32x4.add (v128.load (local.get $r)) (f32x4.mul (local.get $bv) (v128.load (local.get $p)))))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $loop))))

  ;; CG steps for rows [start, end); scratch holds r, p, ap (3·k floats, 16-byte aligned).
  (func (export "cg_rows")
    (param $indptr i32) (param $indices i32) (param $values i32) (param $x i32) (param $y i32)
    (param $yty i32) (param $k i32) (param $start i32) (param $end i32) (param $steps i32)
    (param $scratch i32)
    (local $u i32) (local $q i32) (local $to i32) (local $xr i32) (local $yb i32) (local $row i32)
    (local $r i32) (local $p i32) (local $ap i32) (local $c f32) (local $it i32)
    (local $rsold f32) (local $rsnew f32) (local $alpha f32)
    (local.set $row (i32.shl (local.get $k) (i32.const 2)))
    (local.set $r (local.get $scratch))
    (local.set $p (i32.add (local.get $r) (local.get $row)))
    (local.set $ap (i32.add (local.get $p) (local.get $row)))
    (local.set $u (local.get $start))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $u) (local.get $end)))
        (block $next
          (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $u) (local.get $row))))
          (local.set $q (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
          (local.set $to (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
          (if (i32.eq (local.get $q) (local.get $to))
            (then
              (memory.fill (local.get $xr) (i32.const 0) (local.get $row))
              (br $next)))
          ;; r = −(YᵀY + λI) x + Σ (c − (c − 1)·y_i·x) y_i
          (call $symv (local.get $yty) (local.get $xr) (local.get $r) (local.get $k) (f32.const -1))
          (block $res_done
            (loop $res
              (br_if $res_done (i32.ge_u (local.get $q) (local.get $to)))
              (local.set $c (f32.load (i32.add (local.get $values) (i32.shl (local.get $q) (i32.const 2)))))
              (local.set $yb (i32.add (local.get $y)
                (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $q) (i32.const 2))))
                         (local.get $row))))
              (call $axpy
                (f32.sub (local.get $c)
                  (f32.mul (f32.sub (local.get $c) (f32.const 1))
                           (call $dot (local.get $yb) (local.get $xr) (local.get $k))))
                (local.get $yb) (local.get $r) (local.get $k))
              (local.set $q (i32.add (local.get $q) (i32.const 1)))
              (br $res)))
          (local.set $rsold (call $dot (local.get $r) (local.get $r) (local.get $k)))
          (br_if $next (f32.lt (local.get $rsold) (f32.const 1e-20)))
          (call $copy (local.get $r) (local.get $p) (local.get $k))
          (local.set $it (i32.const 0))
          (block $cg_done
            (loop $cg
              (br_if $cg_done (i32.ge_u (local.get $it) (local.get $steps)))
              ;; ap = (YᵀY + λI) p + Σ (c − 1)(y_i·p) y_i
              (call $symv (local.get $yty) (local.get $p) (local.get $ap) (local.get $k) (f32.const 1))
              (local.set $q (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
              (block $ap_done
                (loop $apl
                  (br_if $ap_done (i32.ge_u (local.get $q) (local.get $to)))
                  (local.set $c (f32.load (i32.add (local.get $values) (i32.shl (local.get $q) (i32.const 2)))))
                  (local.set $yb (i32.add (local.get $y)
                    (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $q) (i32.const 2))))
                             (local.get $row))))
                  (call $axpy
                    (f32.mul (f32.sub (local.get $c) (f32.const 1))
                             (call $dot (local.get $yb) (local.get $p) (local.get $k)))
                    (local.get $yb) (local.get $ap) (local.get $k))
                  (local.set $q (i32.add (local.get $q) (i32.const 1)))
                  (br $apl)))
              (local.set $alpha (f32.div (local.get $rsold)
                (call $dot (local.get $p) (local.get $ap) (local.get $k))))
              (call $axpy (local.get $alpha) (local.get $p) (local.get $xr) (local.get $k))
              (call $axpy (f32.neg (local.get $alpha)) (local.get $ap) (local.get $r) (local.get $k))
              (local.set $rsnew (call $dot (local.get $r) (local.get $r) (local.get $k)))
              (br_if $cg_done (f32.lt (local.get $rsnew) (f32.const 1e-20)))
              (call $xpby (local.get $r) (local.get $p)
                (f32.div (local.get $rsnew) (local.get $rsold)) (local.get $k))
              (local.set $rsold (local.get $rsnew))
              (local.set $it (i32.add (local.get $it) (i32.const 1)))
              (br $cg))))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $rows))))
)
`;

/** The parts of the WebAssembly JS API used here (the project's type libraries do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
/** A compiled module (opaque; structured-clonable to worker threads). */
export interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Module path for worker tasks of this file. */
export const WASM_TASK_MODULE = __filename;

let compiled: Promise<WasmModule | null> | null = null;

/** The compiled kernel, or null when this runtime lacks WebAssembly SIMD / shared memory. */
export function cgKernelModule(): Promise<WasmModule | null> {
  compiled ??= (async () => {
    if (process.env.REELAB_NO_WASM === '1' || !wasmApi) return null;
    try {
      const buffer = await watToBinary('ials-cg.wat', WAT, { simd: true, threads: true, bulk_memory: true });
      return new wasmApi.Module(buffer);
    } catch {
      return null;
    }
  })();
  return compiled;
}

/**
 * A shared WebAssembly memory carved into typed-array regions (16-byte aligned), so the kernel and JS see the
 * same arrays and worker threads can be handed the whole memory.
 */
export class WasmArena {
  readonly memory: WasmMemory;
  private next = 0;

  constructor(bytes: number) {
    const pages = Math.ceil((bytes + 64) / 65536);
    if (pages > 65536) throw new RangeError(`iALS: ${bytes} bytes do not fit a 4 GB WebAssembly memory`);
    if (!wasmApi) throw new RangeError('WebAssembly is not available');
    this.memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
  }

  /** Bytes a region of `length` 4-byte elements takes (with alignment padding). */
  static size(length: number): number {
    return Math.ceil((length * 4) / 16) * 16;
  }

  float32(length: number): Float32Array {
    const a = new Float32Array(this.memory.buffer, this.next, length);
    this.next += WasmArena.size(length);
    return a;
  }

  int32(length: number): Int32Array {
    const a = new Int32Array(this.memory.buffer, this.next, length);
    this.next += WasmArena.size(length);
    return a;
  }
}

export interface WasmCgPayload {
  module: WasmModule;
  memory: WasmMemory;
  /** Byte offsets of the arrays in `memory`. */
  indptr: number;
  indices: number;
  values: number;
  x: number;
  y: number;
  yty: number;
  scratch: number;
  k: number;
  start: number;
  end: number;
  steps: number;
}

type CgRows = (...args: number[]) => void;
const instances = new WeakMap<SharedArrayBuffer, CgRows>();

/** Worker task (also called inline): CG steps over rows [start, end) in the shared memory. */
export function wasmCgTask(p: WasmCgPayload): void {
  const buffer = p.memory.buffer as SharedArrayBuffer;
  let run = instances.get(buffer);
  if (!run) {
    const instance = new wasmApi!.Instance(p.module, { env: { mem: p.memory } });
    run = instance.exports.cg_rows as CgRows;
    instances.set(buffer, run);
  }
  run(p.indptr, p.indices, p.values, p.x, p.y, p.yty, p.k, p.start, p.end, p.steps, p.scratch);
}
