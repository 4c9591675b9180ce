/**
 * The BPR stratum pass of lib/compute/bpr.ts as a WebAssembly SIMD kernel (f32x4 over the factor columns),
 * with the same xoshiro128** stream as `Rng` (state handed over from JS), so a stratum draws exactly the
 * samples the JS kernel would; only the arithmetic differs (Float32 here, Float64 temporaries in JS).
 */
import { type WasmMemory, type WasmModule, wasmApi } from './ials-wasm';
import { watToBinary } from './wat-binary';
import { xoshiroStepWat } from './xoshiro-wat';

const WAT = `
(module
  (import "env" "mem" (memory 1 65536 shared))
  (import "env" "exp" (func $exp (param f64) (result f64)))
  (global $a (mut i32) (i32.const 0))
  (global $b (mut i32) (i32.const 0))
  (global $c (mut i32) (i32.const 0))
  (global $d (mut i32) (i32.const 0))

  ;; xoshiro128** step, as Rng.nextUint32
  (func $next (result i32)
    (local $result i32) (local $t i32)
    ${xoshiroStepWat('global', ['$a', '$b', '$c', '$d'], '$result', '$t')}
    (local.get $result))

  ;; uniform in [0, n), unbiased by rejection, as Rng.int (n ≥ 1)
  (func $int (param $n i32) (result i32)
    (local $limit i64) (local $x i64)
    (local.set $limit (i64.sub (i64.const 0x100000000)
      (i64.rem_u (i64.const 0x100000000) (i64.extend_i32_u (local.get $n)))))
    (local.set $x (i64.extend_i32_u (call $next)))
    (block $ok
      (loop $again
        (br_if $ok (i64.lt_u (local.get $x) (local.get $limit)))
        (local.set $x (i64.extend_i32_u (call $next)))
        (br $again)))
    (i32.wrap_i64 (i64.rem_u (local.get $x) (i64.extend_i32_u (local.get $n)))))

  ;; binary search of col in row's sorted indices
  (func $has (param $indptr i32) (param $indices i32) (param $row i32) (param $col i32) (result i32)
    (local $lo i32) (local $hi i32) (local $mid i32) (local $v i32)
    (local.set $lo (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $row) (i32.const 2)))))
    (local.set $hi (i32.sub (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $row) (i32.const 2))))
      (i32.const 1)))
    (block $done
      (loop $loop
        (br_if $done (i32.gt_s (local.get $lo) (local.get $hi)))
        (local.set $mid (i32.shr_u (i32.add (local.get $lo) (local.get $hi)) (i32.const 1)))
        (local.set $v (i32.load (i32.add (local.get $indices) (i32.shl (local.get $mid) (i32.const 2)))))
        (if (i32.eq (local.get $v) (local.get $col)) (then (return (i32.const 1))))
        (if (i32.lt_s (local.get $v) (local.get $col))
          (then (local.set $lo (i32.add (local.get $mid) (i32.const 1))))
          (else (local.set $hi (i32.sub (local.get $mid) (i32.const 1)))))
        (br $loop)))
    (i32.const 0))

  ;; One pass over a stratum; writes [correct, skipped] as i32 to $out.
  (func (export "bpr_stratum")
    (param $x i32) (param $y i32) (param $k i32)
    (param $su i32) (param $si i32) (param $start i32) (param $size i32)
    (param $negs i32) (param $negStart i32) (param $negCount i32)
    (param $indptr i32) (param $indices i32) (param $verify i32) (param $retries i32)
    (param $lr f32) (param $reg f32)
    (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $s3 i32) (param $out i32)
    (local $n i32) (local $pos i32) (local $u i32) (local $i i32) (local $j i32) (local $tries i32)
    (local $row i32) (local $ub i32) (local $ib i32) (local $jb i32) (local $f i32) (local $k4 i32)
    (local $score f32) (local $z f32) (local $acc v128)
    (local $xv v128) (local $yiv v128) (local $yjv v128)
    (local $lrv v128) (local $regv v128) (local $zv v128) (local $t f32)
    (local $correct i32) (local $skipped i32)
    (global.set $a (local.get $s0))
    (global.set $b (local.get $s1))
    (global.set $c (local.get $s2))
    (global.set $d (local.get $s3))
    (local.set $row (i32.shl (i32.add (local.get $k) (i32.const 1)) (i32.const 2)))
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (local.set $lrv (f32x4.splat (local.get $lr)))
    (local.set $regv (f32x4.splat (local.get $reg)))
    (block $all_done
      (loop $samples
        (br_if $all_done (i32.ge_u (local.get $n) (local.get $size)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (block $next
          (local.set $pos (i32.add (local.get $start) (call $int (local.get $size))))
          (local.set $u (i32.load (i32.add (local.get $su) (i32.shl (local.get $pos) (i32.const 2)))))
          (local.set $i (i32.load (i32.add (local.get $si) (i32.shl (local.get $pos) (i32.const 2)))))
          (local.set $j (i32.load (i32.add (local.get $negs)
            (i32.shl (i32.add (local.get $negStart) (call $int (local.get $negCount))) (i32.const 2)))))
          (if (local.get $verify)
            (then
              (local.set $tries (i32.const 0))
              (block $verified
                (loop $check
                  (br_if $verified (i32.eqz (call $has (local.get $indptr) (local.get $indices) (local.get $u) (local.get $j))))
                  (if (i32.ge_u (local.get $tries) (local.get $retries))
                    (then
                      (local.set $skipped (i32.add (local.get $skipped) (i32.const 1)))
                      (br $next)))
                  (local.set $tries (i32.add (local.get $tries) (i32.const 1)))
                  (local.set $j (i32.load (i32.add (local.get $negs)
                    (i32.shl (i32.add (local.get $negStart) (call $int (local.get $negCount))) (i32.const 2)))))
                  (br $check)))))
          (local.set $ub (i32.add (local.get $x) (i32.mul (local.get $u) (local.get $row))))
          (local.set $ib (i32.add (local.get $y) (i32.mul (local.get $i) (local.get $row))))
          (local.set $jb (i32.add (local.get $y) (i32.mul (local.get $j) (local.get $row))))
          ;; score = Σ_{f ≤ k} x_f (yi_f − yj_f)
          (local.set $acc (v128.const f32x4 0 0 0 0))
          (local.set $f (i32.const 0))
          (block $d1 (loop $l1
            (br_if $d1 (i32.ge_u (local.get $f) (local.get $k4)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $ub) (i32.shl (local.get $f) (i32.const 2))))
                (f32x4.sub (v128.load align=4 (i32.add (local.get $ib) (i32.shl (local.get $f) (i32.const 2))))
                           (v128.load align=4 (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2))))))))
            (local.set $f (i32.add (local.get $f) (i32.const 4)))
            (br $l1)))
          (local.set $score (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
          (block $d2 (loop $l2
            (br_if $d2 (i32.gt_u (local.get $f) (local.get $k)))
            (local.set $score (f32.add (local.get $score)
              (f32.mul (f32.load (i32.add (local.get $ub) (i32.shl (local.get $f) (i32.const 2))))
                (f32.sub (f32.load (i32.add (local.get $ib) (i32.shl (local.get $f) (i32.const 2))))
                         (f32.load (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2))))))))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $l2)))
          (local.set $z (f32.demote_f64 (f64.div (f64.const 1)
            (f64.add (f64.const 1) (call $exp (f64.promote_f32 (local.get $score)))))))
          (if (f32.lt (local.get $z) (f32.const 0.5))
            (then (local.set $correct (i32.add (local.get $correct) (i32.const 1)))))
          (local.set $zv (f32x4.splat (local.get $z)))
          ;; x += lr (z (yi − yj) − reg x); yi += lr (z x − reg yi); yj += lr (−z x − reg yj), old x throughout
          (local.set $f (i32.const 0))
          (block $d3 (loop $l3
            (br_if $d3 (i32.ge_u (local.get $f) (local.get $k4)))
            (local.set $xv (v128.load align=4 (i32.add (local.get $ub) (i32.shl (local.get $f) (i32.const 2)))))
            (local.set $yiv (v128.load align=4 (i32.add (local.get $ib) (i32.shl (local.get $f) (i32.const 2)))))
            (local.set $yjv (v128.load align=4 (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2)))))
            (v128.store align=4 (i32.add (local.get $ub) (i32.shl (local.get $f) (i32.const 2)))
              (f32x4.add (local.get $xv) (f32x4.mul (local.get $lrv)
                (f32x4.sub (f32x4.mul (local.get $zv) (f32x4.sub (local.get $yiv) (local.get $yjv)))
                           (f32x4.mul (local.get $regv) (local.get $xv))))))
            (v128.store align=4 (i32.add (local.get $ib) (i32.shl (local.get $f) (i32.const 2)))
              (f32x4.add (local.get $yiv) (f32x4.mul (local.get $lrv)
                (f32x4.sub (f32x4.mul (local.get $zv) (local.get $xv))
                           (f32x4.mul (local.get $regv) (local.get $yiv))))))
            (local.set $yjv (v128.load align=4 (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2)))))
            (v128.store align=4 (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2)))
              (f32x4.sub (local.get $yjv) (f32x4.mul (local.get $lrv)
                (f32x4.add (f32x4.mul (local.get $zv) (local.get $xv))
                           (f32x4.mul (local.get $regv) (local.get $yjv))))))
            (local.set $f (i32.add (local.get $f) (i32.const 4)))
            (br $l3)))
          (block $d4 (loop $l4
            (br_if $d4 (i32.ge_u (local.get $f) (local.get $k)))
            (local.set $t (f32.load (i32.add (local.get $ub) (i32.shl (local.get $f) (i32.const 2)))))
            (f32.store (i32.add (local.get $ub) (i32.shl (local.get $f) (i32.const 2)))
              (f32.add (local.get $t) (f32.mul (local.get $lr)
                (f32.sub (f32.mul (local.get $z)
                  (f32.sub (f32.load (i32.add (local.get $ib) (i32.shl (local.get $f) (i32.const 2))))
                           (f32.load (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2))))))
                  (f32.mul (local.get $reg) (local.get $t))))))
            (f32.store (i32.add (local.get $ib) (i32.shl (local.get $f) (i32.const 2)))
              (f32.add (f32.load (i32.add (local.get $ib) (i32.shl (local.get $f) (i32.const 2))))
                (f32.mul (local.get $lr) (f32.sub (f32.mul (local.get $z) (local.get $t))
                  (f32.mul (local.get $reg) (f32.load (i32.add (local.get $ib) (i32.shl (local.get $f) (i32.const 2)))))))))
            (f32.store (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2)))
              (f32.sub (f32.load (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2))))
                (f32.mul (local.get $lr) (f32.add (f32.mul (local.get $z) (local.get $t))
                  (f32.mul (local.get $reg) (f32.load (i32.add (local.get $jb) (i32.shl (local.get $f) (i32.const 2)))))))))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $l4)))
          ;; item biases (column k)
          (local.set $f (i32.shl (local.get $k) (i32.const 2)))
          (f32.store (i32.add (local.get $ib) (local.get $f))
            (f32.add (f32.load (i32.add (local.get $ib) (local.get $f)))
              (f32.mul (local.get $lr) (f32.sub (local.get $z)
                (f32.mul (local.get $reg) (f32.load (i32.add (local.get $ib) (local.get $f))))))))
          (f32.store (i32.add (local.get $jb) (local.get $f))
            (f32.sub (f32.load (i32.add (local.get $jb) (local.get $f)))
              (f32.mul (local.get $lr) (f32.add (local.get $z)
                (f32.mul (local.get $reg) (f32.load (i32.add (local.get $jb) (local.get $f)))))))))
        (br $samples)))
    (i32.store (local.get $out) (local.get $correct))
    (i32.store offset=4 (local.get $out) (local.get $skipped)))
)
`;

let compiled: Promise<WasmModule | null> | null = null;

/** The compiled BPR kernel, or null without WebAssembly SIMD / shared memory. */
export function bprKernelModule(): Promise<WasmModule | null> {
  compiled ??= (async () => {
    if (process.env.REELAB_NO_WASM === '1' || !wasmApi) return null;
    try {
      const buffer = await watToBinary('bpr.wat', WAT, { simd: true, threads: true, bulk_memory: true });
      return new wasmApi.Module(buffer);
    } catch {
      return null;
    }
  })();
  return compiled;
}

export interface WasmBprPayload {
  module: WasmModule;
  memory: WasmMemory;
  /** Byte offsets into memory. */
  x: number;
  y: number;
  stratumUsers: number;
  stratumItems: number;
  negatives: number;
  indptr: number;
  indices: number;
  out: number;
  k: number;
  start: number;
  size: number;
  negStart: number;
  negCount: number;
  verifyNegative: boolean;
  negativeRetries: number;
  learningRate: number;
  regularization: number;
  state: [number, number, number, number];
}

/** Module path for worker tasks of this file. */
export const BPR_WASM_TASK_MODULE = __filename;

/** Worker task (also called inline): one stratum; returns [correct, skipped]. */
export function wasmBprTask(p: WasmBprPayload): [number, number] {
  if (p.size === 0 || p.negCount === 0) return [0, 0];
  const instance = new wasmApi!.Instance(p.module, { env: { mem: p.memory, exp: Math.exp } });
  const run = instance.exports.bpr_stratum as (...args: number[]) => void;
  run(
    p.x,
    p.y,
    p.k,
    p.stratumUsers,
    p.stratumItems,
    p.start,
    p.size,
    p.negatives,
    p.negStart,
    p.negCount,
    p.indptr,
    p.indices,
    p.verifyNegative ? 1 : 0,
    p.negativeRetries,
    p.learningRate,
    p.regularization,
    ...p.state,
    p.out,
  );
  const res = new Int32Array(p.memory.buffer, p.out, 2);
  return [res[0]!, res[1]!];
}
