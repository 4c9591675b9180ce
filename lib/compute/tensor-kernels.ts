import type { DataType, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/**
 * out[s, :] = Σ_{k : ids[k] = s} x[k, :] for rows of `inner` values; `out` must be zeroed by the caller.
 * Negative ids are skipped (as TensorFlow does); ids ≥ numSegments are an error.
 */
export function segmentSumInto(
  x: Float32Array | Int32Array,
  ids: Int32Array,
  numSegments: number,
  inner: number,
  out: Float32Array | Int32Array,
): void {
  if (x.length !== ids.length * inner)
    throw new RangeError(`segment sum: x has ${x.length} values, expected ${ids.length} × ${inner}`);
  if (out.length !== numSegments * inner)
    throw new RangeError(`segment sum: out has ${out.length} values, expected ${numSegments} × ${inner}`);
  for (let k = 0; k < ids.length; k++) {
    const s = ids[k]!;
    if (s < 0) continue;
    if (s >= numSegments)
      throw new RangeError(`segment id ${s} at ${k} is not below numSegments ${numSegments}`);
    const src = k * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += x[src + j]!;
  }
}

interface SegmentArgs {
  x: TensorInfo;
  segmentIds: TensorInfo;
  numSegments: number;
  inner: number;
  outShape: number[];
}

function segmentArgs(
  inputs: Record<string, TensorInfo | undefined>,
  attrs: Record<string, unknown> | undefined,
): SegmentArgs {
  const x = inputs.x;
  const segmentIds = inputs.segmentIds;
  const numSegments = Number(attrs?.numSegments);
  if (!x || !segmentIds) throw new Error('UnsortedSegmentSum needs inputs x and segmentIds');
  if (!(Number.isInteger(numSegments) && numSegments >= 0))
    throw new Error(
      `UnsortedSegmentSum: numSegments must be a non-negative integer, got ${attrs?.numSegments}`,
    );
  const idCount = segmentIds.shape.reduce((a, b) => a * b, 1);
  const xCount = x.shape.reduce((a, b) => a * b, 1);
  const tail = x.shape.slice(segmentIds.shape.length);
  return {
    x,
    segmentIds,
    numSegments,
    inner: idCount === 0 ? 0 : xCount / idCount,
    outShape: [numSegments, ...tail],
  };
}

function asNumeric(values: unknown, dtype: DataType, what: string): Float32Array | Int32Array {
  if (dtype === 'float32' && values instanceof Float32Array) return values;
  if (dtype === 'int32' && values instanceof Int32Array) return values;
  if (values instanceof Float32Array || values instanceof Int32Array) return values;
  throw new Error(`UnsortedSegmentSum: ${what} of dtype ${dtype} is not supported`);
}

/** The parts of tfjs' CPU backend the kernel uses (its values live in JS typed arrays). */
interface CpuBackendLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: DataType, values?: Float32Array | Int32Array): TensorInfo;
}

/** The parts of the wasm backend the kernel uses (its values live in the wasm heap). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): unknown;
}

const cpuSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const a = segmentArgs(inputs as Record<string, TensorInfo>, attrs as Record<string, unknown>);
  const cpu = backend as unknown as CpuBackendLike;
  const x = asNumeric(cpu.readSync(a.x.dataId), a.x.dtype, 'x');
  const rawIds = asNumeric(cpu.readSync(a.segmentIds.dataId), 'int32', 'segmentIds');
  const ids = rawIds instanceof Int32Array ? rawIds : Int32Array.from(rawIds);
  const size = a.numSegments * a.inner;
  const out = a.x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  segmentSumInto(x, ids, a.numSegments, a.inner, out);
  return cpu.makeTensorInfo(a.outShape, a.x.dtype, out);
};

const wasmSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const a = segmentArgs(inputs as Record<string, TensorInfo>, attrs as Record<string, unknown>);
  const wasm = backend as unknown as WasmBackendLike;
  const out = wasm.makeOutput(a.outShape, a.x.dtype);
  const outValues = asNumeric(wasm.typedArrayFromHeap(out), a.x.dtype, 'output');
  outValues.fill(0);
  const x = asNumeric(wasm.typedArrayFromHeap(a.x), a.x.dtype, 'x');
  const rawIds = wasm.typedArrayFromHeap(a.segmentIds);
  const ids =
    rawIds instanceof Int32Array ? rawIds : Int32Array.from(asNumeric(rawIds, 'int32', 'segmentIds'));
  segmentSumInto(x, ids, a.numSegments, a.inner, outValues);
  return out;
};

/**
 * Kernels for `UnsortedSegmentSum`, the op behind the gradient of `tf.gather` (embedding training): the wasm
 * backend has none, and the CPU backend's runs one masked full pass per segment (O(segments × rows)).
 */
export const segmentSumKernels: Record<'cpu' | 'wasm', KernelConfig> = {
  cpu: { kernelName: 'UnsortedSegmentSum', backendName: 'cpu', kernelFunc: cpuSegmentSum },
  wasm: { kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: wasmSegmentSum },
};
