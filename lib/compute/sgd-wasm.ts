/**
 * The SVD SGD inner loop (lib/compute/sgd.ts `sgdRange`) as a WebAssembly SIMD kernel (f32x4) for factor counts
 * divisible by 4. Ratings, factors and biases live in one shared WebAssembly.Memory, so the DSGD blocks of a
 * stratum run in place in worker threads. Factor arithmetic is float32 (biases and the error float64); every
 * thread runs the same kernel, so 1 and N threads still give bit-identical factors. Assembled once per process
 * from the text below with wabt; when WebAssembly SIMD is unavailable the plain JS kernel is used.
 */

import { watToBinary } from './wat-binary';
import { xoshiroStepWat } from './xoshiro-wat';

/** Both kernels' entry point: column, factor and bias byte offsets, the rating range, rates and regularisation. */
const SGD_RANGE_SIGNATURE = `(func (export "sgd_range")
    (param $U i32) (param $I i32) (param $R i32) (param $start i32) (param $end i32)
    (param $P i32) (param $Q i32) (param $bu i32) (param $bi i32) (param $k i32)
    (param $mu f64) (param $lrBu f64) (param $lrBi f64) (param $lrPu f32) (param $lrQi f32)
    (param $regBu f64) (param $regBi f64) (param $regPu f32) (param $regQi f32) (param $biased i32)
    (result f64)`;

/** Row width in bytes, the decay factors 1 − lr·reg, and the open loop over ratings $p = start .. end − 1. */
const RANGE_LOOP_OPEN = `(local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $du (f32x4.splat (f32.sub (f32.const 1) (f32.mul (local.get $lrPu) (local.get $regPu)))))
    (local.set $di (f32x4.splat (f32.sub (f32.const 1) (f32.mul (local.get $lrQi) (local.get $regQi)))))
    (local.set $p (local.get $start))
    (block $done
      (loop $ratings
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))`;

const WAT_HEAD = `
(module
  (import "env" "mem" (memory 1 65536 shared))
  ${SGD_RANGE_SIGNATURE}
    (local $p i32) (local $kb i32) (local $pu i32) (local $qi i32) (local $f i32)
    (local $bua i32) (local $bia i32)
    (local $s0 v128) (local $s1 v128) (local $a v128) (local $b v128)
    (local $du v128) (local $di v128) (local $eu v128) (local $ei v128)
    (local $bU f64) (local $bI f64) (local $err f64) (local $sse f64)
    ${RANGE_LOOP_OPEN}
        (local.set $pu (i32.add (local.get $P)
          (i32.mul (i32.load (i32.add (local.get $U) (i32.shl (local.get $p) (i32.const 2)))) (local.get $kb))))
        (local.set $qi (i32.add (local.get $Q)
          (i32.mul (i32.load (i32.add (local.get $I) (i32.shl (local.get $p) (i32.const 2)))) (local.get $kb))))
        (local.set $bua (i32.add (local.get $bu)
          (i32.shl (i32.load (i32.add (local.get $U) (i32.shl (local.get $p) (i32.const 2)))) (i32.const 3))))
        (local.set $bia (i32.add (local.get $bi)
          (i32.shl (i32.load (i32.add (local.get $I) (i32.shl (local.get $p) (i32.const 2)))) (i32.const 3))))
        ;; dot = p_u · q_i, two accumulators, 8 floats per step then 4
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        `;
const LOOPED_DOT = `(local.set $f (i32.const 0))
        (block $d8
          (loop $l8
            (br_if $d8 (i32.gt_u (i32.add (local.get $f) (i32.const 32)) (local.get $kb)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
              (v128.load (i32.add (local.get $pu) (local.get $f)))
              (v128.load (i32.add (local.get $qi) (local.get $f))))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul
              (v128.load offset=16 (i32.add (local.get $pu) (local.get $f)))
              (v128.load offset=16 (i32.add (local.get $qi) (local.get $f))))))
            (local.set $f (i32.add (local.get $f) (i32.const 32)))
            (br $l8)))
        (block $d4
          (loop $l4
            (br_if $d4 (i32.ge_u (local.get $f) (local.get $kb)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
              (v128.load (i32.add (local.get $pu) (local.get $f)))
              (v128.load (i32.add (local.get $qi) (local.get $f))))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $l4)))`;
const WAT_MIDDLE = `
        (local.set $s0 (f32x4.add (local.get $s0) (local.get $s1)))
        (local.set $bU (f64.load (local.get $bua)))
        (local.set $bI (f64.load (local.get $bia)))
        (local.set $err (f64.sub
          (f64.promote_f32 (f32.load (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2)))))
          (f64.add (f64.add (f64.add (local.get $mu) (local.get $bU)) (local.get $bI))
            (f64.promote_f32 (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
              (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0))))))))
        (local.set $sse (f64.add (local.get $sse) (f64.mul (local.get $err) (local.get $err))))
        (if (local.get $biased)
          (then
            (f64.store (local.get $bua) (f64.add (local.get $bU) (f64.mul (local.get $lrBu)
              (f64.sub (local.get $err) (f64.mul (local.get $regBu) (local.get $bU))))))
            (f64.store (local.get $bia) (f64.add (local.get $bI) (f64.mul (local.get $lrBi)
              (f64.sub (local.get $err) (f64.mul (local.get $regBi) (local.get $bI))))))))
        (local.set $eu (f32x4.splat (f32.mul (local.get $lrPu) (f32.demote_f64 (local.get $err)))))
        (local.set $ei (f32x4.splat (f32.mul (local.get $lrQi) (f32.demote_f64 (local.get $err)))))
        `;
const LOOPED_UPDATE = `(local.set $f (i32.const 0))
        (block $du4
          (loop $u4
            (br_if $du4 (i32.ge_u (local.get $f) (local.get $kb)))
            (local.set $a (v128.load (i32.add (local.get $pu) (local.get $f))))
            (local.set $b (v128.load (i32.add (local.get $qi) (local.get $f))))
            (v128.store (i32.add (local.get $pu) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $du) (local.get $a)) (f32x4.mul (local.get $eu) (local.get $b))))
            (v128.store (i32.add (local.get $qi) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $di) (local.get $b)) (f32x4.mul (local.get $ei) (local.get $a))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $u4)))`;
/**
 * Fisher–Yates over ratings start..end of the (users, items, ratings) columns, drawing from the xoshiro128** state
 * (s0..s3) exactly as lib/compute/sgd.ts `shuffleBlock` does in JS: the multiply-shift range reduction
 * floor(x·n / 2^32) is exact there (x·n < 2^53), and is (x·n) >> 32 in i64 here, so both give the same order.
 * Ratings are moved as their raw bits.
 */
const SHUFFLE_WAT = `
  (func (export "shuffle_block")
    (param $U i32) (param $I i32) (param $R i32) (param $start i32) (param $end i32)
    (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $s3 i32)
    (local $p i32) (local $q i32) (local $x i32) (local $t i32)
    (local $pa i32) (local $qa i32) (local $tmp i32)
    (local.set $p (i32.sub (local.get $end) (i32.const 1)))
    (block $done
      (loop $draws
        (br_if $done (i32.le_s (local.get $p) (local.get $start)))
        ${xoshiroStepWat('local', ['$s0', '$s1', '$s2', '$s3'], '$x', '$t')}
        (local.set $q (i32.add (local.get $start) (i32.wrap_i64 (i64.shr_u
          (i64.mul (i64.extend_i32_u (local.get $x))
                   (i64.extend_i32_u (i32.add (i32.sub (local.get $p) (local.get $start)) (i32.const 1))))
          (i64.const 32)))))
        (local.set $pa (i32.shl (local.get $p) (i32.const 2)))
        (local.set $qa (i32.shl (local.get $q) (i32.const 2)))
        ${['$U', '$I', '$R']
          .map(
            (col) => `(local.set $tmp (i32.load (i32.add (local.get ${col}) (local.get $pa))))
        (i32.store (i32.add (local.get ${col}) (local.get $pa)) (i32.load (i32.add (local.get ${col}) (local.get $qa))))
        (i32.store (i32.add (local.get ${col}) (local.get $qa)) (local.get $tmp))`,
          )
          .join('\n        ')}
        (local.set $p (i32.sub (local.get $p) (i32.const 1)))
        (br $draws))))`;

const WAT_TAIL = `
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $ratings)))
    (local.get $sse))
${SHUFFLE_WAT}
)
`;

/** The looped kernel: any stride (a multiple of 4); the reference order of every float operation. */
const LOOPED_WAT = WAT_HEAD + LOOPED_DOT + WAT_MIDDLE + LOOPED_UPDATE + WAT_TAIL;

/** Factor strides up to this get a kernel unrolled for their exact width; wider ones share the looped one. */
const MAX_UNROLLED = 512;

/**
 * The kernel unrolled for rows of `stride` floats, with two ratings in flight. One rating's update depends on
 * its dot product, which depends on the previous update of the same rows, so a lone rating is a chain of
 * dependent latencies; two consecutive ratings with different users *and* different items touch disjoint
 * memory, so they are computed interleaved (their float operations do not interact), and the pair gives
 * exactly what the two would give one after the other. A pair sharing a user or an item runs one at a time.
 * Each rating keeps the looped kernel's operation order (two accumulators over 8-float steps, the 4-float tail
 * into the first; sse accumulated in rating order), so factors are bit-identical to LOOPED_WAT's.
 */
function unrolledWat(stride: number): string {
  const at = (base: string, bytes: number) => `offset=${bytes} (local.get ${base})`;
  const full8 = Math.floor(stride / 8);
  const dotSteps: Array<[acc: 0 | 1, offset: number]> = [];
  for (let j = 0; j < full8; j++) dotSteps.push([0, 32 * j], [1, 32 * j + 16]);
  if (stride % 8 === 4) dotSteps.push([0, 32 * full8]);
  const dot = (t: string, acc: 0 | 1, o: number) =>
    `(local.set $s${t}${acc} (f32x4.add (local.get $s${t}${acc}) (f32x4.mul (v128.load ${at(`$pu${t}`, o)}) (v128.load ${at(`$qi${t}`, o)}))))`;
  const update = (t: string, o: number) => `(local.set $a${t} (v128.load ${at(`$pu${t}`, o)}))
        (local.set $b${t} (v128.load ${at(`$qi${t}`, o)}))
        (v128.store ${at(`$pu${t}`, o)}
          (f32x4.add (f32x4.mul (local.get $du) (local.get $a${t})) (f32x4.mul (local.get $eu${t}) (local.get $b${t}))))
        (v128.store ${at(`$qi${t}`, o)}
          (f32x4.add (f32x4.mul (local.get $di) (local.get $b${t})) (f32x4.mul (local.get $ei${t}) (local.get $a${t}))))`;
  const updates: number[] = [];
  for (let o = 0; o < stride * 4; o += 16) updates.push(o);
  // Addresses of rating $p + t's rows and biases (t = 0, 1).
  const addresses = (
    t: string,
  ) => `(local.set $pu${t} (i32.add (local.get $P) (i32.mul (local.get $u${t}) (local.get $kb))))
        (local.set $qi${t} (i32.add (local.get $Q) (i32.mul (local.get $i${t}) (local.get $kb))))
        (local.set $bua${t} (i32.add (local.get $bu) (i32.shl (local.get $u${t}) (i32.const 3))))
        (local.set $bia${t} (i32.add (local.get $bi) (i32.shl (local.get $i${t}) (i32.const 3))))
        (local.set $s${t}0 (v128.const i32x4 0 0 0 0))
        (local.set $s${t}1 (v128.const i32x4 0 0 0 0))`;
  // err, sse, bias updates and the splatted factor steps of rating $p + t, from its finished accumulators.
  const errorAndBiases = (
    t: string,
  ) => `(local.set $s${t}0 (f32x4.add (local.get $s${t}0) (local.get $s${t}1)))
        (local.set $bU${t} (f64.load (local.get $bua${t})))
        (local.set $bI${t} (f64.load (local.get $bia${t})))
        (local.set $err${t} (f64.sub
          (f64.promote_f32 (f32.load (i32.add (local.get $R) (i32.shl (i32.add (local.get $p) (i32.const ${t})) (i32.const 2)))))
          (f64.add (f64.add (f64.add (local.get $mu) (local.get $bU${t})) (local.get $bI${t}))
            (f64.promote_f32 (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $s${t}0)) (f32x4.extract_lane 1 (local.get $s${t}0)))
              (f32.add (f32x4.extract_lane 2 (local.get $s${t}0)) (f32x4.extract_lane 3 (local.get $s${t}0))))))))
        (local.set $sse (f64.add (local.get $sse) (f64.mul (local.get $err${t}) (local.get $err${t}))))
        (if (local.get $biased)
          (then
            (f64.store (local.get $bua${t}) (f64.add (local.get $bU${t}) (f64.mul (local.get $lrBu)
              (f64.sub (local.get $err${t}) (f64.mul (local.get $regBu) (local.get $bU${t}))))))
            (f64.store (local.get $bia${t}) (f64.add (local.get $bI${t}) (f64.mul (local.get $lrBi)
              (f64.sub (local.get $err${t}) (f64.mul (local.get $regBi) (local.get $bI${t}))))))))
        (local.set $eu${t} (f32x4.splat (f32.mul (local.get $lrPu) (f32.demote_f64 (local.get $err${t})))))
        (local.set $ei${t} (f32x4.splat (f32.mul (local.get $lrQi) (f32.demote_f64 (local.get $err${t})))))`;
  const perRating = ['0', '1']
    .map(
      (
        t,
      ) => `(local $u${t} i32) (local $i${t} i32) (local $pu${t} i32) (local $qi${t} i32) (local $bua${t} i32) (local $bia${t} i32)
    (local $s${t}0 v128) (local $s${t}1 v128) (local $a${t} v128) (local $b${t} v128) (local $eu${t} v128) (local $ei${t} v128)
    (local $bU${t} f64) (local $bI${t} f64) (local $err${t} f64)`,
    )
    .join('\n    ');
  const loadIds = (
    t: string,
  ) => `(local.set $u${t} (i32.load offset=${4 * Number(t)} (i32.add (local.get $U) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $i${t} (i32.load offset=${4 * Number(t)} (i32.add (local.get $I) (i32.shl (local.get $p) (i32.const 2)))))`;
  return `
(module
  (import "env" "mem" (memory 1 65536 shared))
  ${SGD_RANGE_SIGNATURE}
    (local $p i32) (local $kb i32) (local $du v128) (local $di v128) (local $sse f64)
    ${perRating}
    ${RANGE_LOOP_OPEN}
        ${loadIds('0')}
        ${addresses('0')}
        (if (i32.and (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
              (i32.and (i32.ne (i32.load offset=4 (i32.add (local.get $U) (i32.shl (local.get $p) (i32.const 2)))) (local.get $u0))
                       (i32.ne (i32.load offset=4 (i32.add (local.get $I) (i32.shl (local.get $p) (i32.const 2)))) (local.get $i0))))
          (then
            ${loadIds('1')}
            ${addresses('1')}
            ${dotSteps.map(([acc, o]) => `${dot('0', acc, o)}\n            ${dot('1', acc, o)}`).join('\n            ')}
            ${errorAndBiases('0')}
            ${errorAndBiases('1')}
            ${updates.map((o) => `${update('0', o)}\n            ${update('1', o)}`).join('\n            ')}
            (local.set $p (i32.add (local.get $p) (i32.const 2))))
          (else
            ${dotSteps.map(([acc, o]) => dot('0', acc, o)).join('\n            ')}
            ${errorAndBiases('0')}
            ${updates.map((o) => update('0', o)).join('\n            ')}
            (local.set $p (i32.add (local.get $p) (i32.const 1)))))
        (br $ratings)))
    (local.get $sse))
${SHUFFLE_WAT}
)
`;
}

/** The parts of the WebAssembly JS API used here (the project's type libraries do not declare it). */
export interface SgdWasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
export interface SgdWasmModule {
  readonly __sgdWasmModule?: never;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => SgdWasmModule;
  Instance: new (module: SgdWasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SgdWasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const compiled = new Map<number, Promise<SgdWasmModule | null>>();

/**
 * The kernel compiled for rows of `stride` floats (a multiple of 4), or null when this runtime lacks WebAssembly
 * SIMD / shared memory (or REELAB_NO_WASM=1). Compiled once per stride and process. `layout` 'looped' forces
 * the looped kernel (tests compare the two; wide strides always use it).
 */
export function sgdKernelModule(
  stride: number,
  layout: 'unrolled' | 'looped' = 'unrolled',
): Promise<SgdWasmModule | null> {
  if (!(Number.isInteger(stride) && stride >= 4 && stride % 4 === 0))
    throw new RangeError(`SGD kernel: row stride must be a positive multiple of 4, got ${stride}`);
  const looped = layout === 'looped' || stride > MAX_UNROLLED;
  const key = looped ? 0 : stride;
  let module = compiled.get(key);
  if (module) return module;
  module = (async () => {
    if (process.env.REELAB_NO_WASM === '1' || !wasmApi) return null;
    try {
      const buffer = await watToBinary('sgd.wat', looped ? LOOPED_WAT : unrolledWat(stride), {
        simd: true,
        threads: true,
      });
      return new wasmApi.Module(buffer);
    } catch (err) {
      if (process.env.REELAB_DEBUG_WASM) console.error(err);
      return null;
    }
  })();
  compiled.set(key, module);
  return module;
}

/** A shared memory cut into 16-byte aligned typed-array regions; `offset` gives a region's byte offset. */
export class SgdArena {
  readonly memory: SgdWasmMemory;
  private next = 0;

  constructor(bytes: number) {
    const pages = Math.ceil((bytes + 64) / 65536);
    if (pages > 65536 || !wasmApi)
      throw new RangeError(`SGD: ${bytes} bytes do not fit a WebAssembly memory`);
    this.memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
  }

  static size(bytes: number): number {
    return Math.ceil(bytes / 16) * 16;
  }

  private take(bytes: number): number {
    const at = this.next;
    this.next += SgdArena.size(bytes);
    return at;
  }

  float32 = (n: number): Float32Array => new Float32Array(this.memory.buffer, this.take(n * 4), n);
  float64 = (n: number): Float64Array => new Float64Array(this.memory.buffer, this.take(n * 8), n);
  int32 = (n: number): Int32Array => new Int32Array(this.memory.buffer, this.take(n * 4), n);
}

/** What a thread needs to run the kernel on a state whose arrays live in `memory`. */
export interface SgdWasm {
  module: SgdWasmModule;
  memory: SgdWasmMemory;
}

type SgdRangeFn = (...args: number[]) => number;
type ShuffleFn = (...args: number[]) => void;
interface SgdKernels {
  range: SgdRangeFn;
  shuffle: ShuffleFn;
}
const instances = new WeakMap<object, WeakMap<object, SgdKernels>>();

/** The kernels bound to `wasm.memory` in this thread (instantiated once per thread, module and memory). */
function sgdKernels(wasm: SgdWasm): SgdKernels {
  let byMemory = instances.get(wasm.module);
  if (!byMemory) {
    byMemory = new WeakMap();
    instances.set(wasm.module, byMemory);
  }
  const key = wasm.memory.buffer as object;
  let kernels = byMemory.get(key);
  if (!kernels) {
    const { exports } = new wasmApi!.Instance(wasm.module, { env: { mem: wasm.memory } });
    kernels = { range: exports.sgd_range as SgdRangeFn, shuffle: exports.shuffle_block as ShuffleFn };
    byMemory.set(key, kernels);
  }
  return kernels;
}

/** The SGD pass over a range of ratings, bound to `wasm.memory` in this thread. */
export function sgdRangeKernel(wasm: SgdWasm): SgdRangeFn {
  return sgdKernels(wasm).range;
}

/** The block shuffle (see SHUFFLE_WAT), bound to `wasm.memory` in this thread. */
export function sgdShuffleKernel(wasm: SgdWasm): ShuffleFn {
  return sgdKernels(wasm).shuffle;
}
