import { ConfigError, errorMessage } from '../util/errors';
import { segmentSumKernels } from './tensor-kernels';
import { restoreLegacyUtil } from './tfjs-node-shim';

/** The TensorFlow.js namespace (tfjs-node re-exports the same API over the native runtime). */
export type TF = typeof import('@tensorflow/tfjs');
export type TensorBackendName = 'tensorflow' | 'wasm' | 'cpu';
export const TENSOR_BACKENDS: readonly TensorBackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface TensorFlowHandle {
  tf: TF;
  /** The backend tensors run on now. */
  backend: TensorBackendName;
  /** Why this backend: what was tried before it and why that failed, or that it was asked for. */
  reason: string;
}

export interface LoadTensorFlowOptions {
  /**
   * 'auto' (the default) follows REELAB_TF_BACKEND when set, else tries native TensorFlow (tfjs-node), then wasm,
   * then cpu. Naming a backend selects exactly that one and fails with a ConfigError when it cannot run.
   */
  backend?: TensorBackendName | 'auto';
}

let tfjs: TF | null = null;
let nativeError: string | null | undefined;
let current: TensorFlowHandle | null = null;
const patched = new Set<string>();

/**
 * Loads TensorFlow.js on the fastest backend that works here: tfjs-node (native TensorFlow, set up by
 * scripts/setup-tf.sh), else @tensorflow/tfjs-backend-wasm (SIMD, single-threaded in Node), else the plain
 * JS CPU backend. Both JS backends get a linear-time `UnsortedSegmentSum` so embedding gradients train.
 * The engine is process-wide: the last call decides the backend for everyone.
 */
export async function loadTensorFlow(options: LoadTensorFlowOptions = {}): Promise<TensorFlowHandle> {
  const wanted = options.backend && options.backend !== 'auto' ? options.backend : envBackend();
  const tried: string[] = [];
  const order: TensorBackendName[] = wanted === 'auto' ? [...TENSOR_BACKENDS] : [wanted];
  for (const name of order) {
    const failure = await activate(name);
    if (failure === null) {
      const reason =
        wanted === 'auto'
          ? tried.length === 0
            ? 'fastest backend available'
            : `fallback: ${tried.join('; ')}`
          : `requested (${options.backend && options.backend !== 'auto' ? 'option' : 'REELAB_TF_BACKEND'})`;
      current = { tf: tfjs!, backend: name, reason };
      return current;
    }
    tried.push(`${name} unavailable (${failure})`);
  }
  throw new ConfigError(
    wanted === 'auto' ? 'tensor backend' : `tensor backend ${wanted}`,
    `${tried.join('; ')}${wanted === 'tensorflow' ? '; run scripts/setup-tf.sh to install it' : ''}`,
  );
}

/** The backend chosen by the last `loadTensorFlow`, or null before the first call. */
export function currentTensorFlow(): TensorFlowHandle | null {
  return current;
}

function envBackend(): TensorBackendName | 'auto' {
  const v = process.env.REELAB_TF_BACKEND?.trim();
  if (!v || v === 'auto') return 'auto';
  if ((TENSOR_BACKENDS as readonly string[]).includes(v)) return v as TensorBackendName;
  throw new ConfigError('REELAB_TF_BACKEND', `"${v}" is not one of auto, ${TENSOR_BACKENDS.join(', ')}`);
}

/** Makes `name` the engine's backend; returns null on success, else why it cannot run. */
async function activate(name: TensorBackendName): Promise<string | null> {
  if (name === 'tensorflow') {
    const err = loadNative();
    if (err) return err;
  } else {
    loadJs();
    if (name === 'wasm') {
      try {
        require('@tensorflow/tfjs-backend-wasm');
      } catch (e) {
        return `@tensorflow/tfjs-backend-wasm: ${errorMessage(e)}`;
      }
    }
    registerSegmentSum(tfjs!, name);
  }
  try {
    const ok = await tfjs!.setBackend(name);
    if (!ok || tfjs!.getBackend() !== name) return `setBackend('${name}') failed`;
    await tfjs!.ready();
  } catch (e) {
    return errorMessage(e);
  }
  return null;
}

function loadJs(): void {
  if (tfjs) return;
  tfjs = require('@tensorflow/tfjs') as TF;
  quiet(tfjs);
}

function loadNative(): string | null {
  if (nativeError !== undefined) return nativeError;
  // TensorFlow's C++ logging: hide INFO/WARNING lines (cpu_feature_guard) unless the user chose a level.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // tfjs-node 4.22 calls util.isNullOrUndefined & co., which Node 23 removed: put them back first.
  restoreLegacyUtil();
  try {
    const native = require('@tensorflow/tfjs-node') as TF;
    tfjs = native;
    quiet(native);
    nativeError = null;
  } catch (e) {
    const msg = errorMessage(e).split('\n')[0]!;
    nativeError = /Cannot find module '@tensorflow\/tfjs-node'/.test(msg)
      ? '@tensorflow/tfjs-node is not installed'
      : `@tensorflow/tfjs-node does not load: ${msg}`;
  }
  return nativeError;
}

/** tfjs prints a "use tfjs-node" banner on first CPU use; we report the backend ourselves. PROD only mutes logs. */
function quiet(tf: TF): void {
  tf.env().set('PROD', true);
}

function registerSegmentSum(tf: TF, backend: 'wasm' | 'cpu'): void {
  if (patched.has(backend)) return;
  if (tf.getKernel('UnsortedSegmentSum', backend)) tf.unregisterKernel('UnsortedSegmentSum', backend);
  tf.registerKernel(segmentSumKernels[backend]);
  patched.add(backend);
}

/**
 * Median GFLOP/s of an n×n by n×n float32 matMul on the current backend (2n³ flops per product, including the
 * read-back of the result). Several warm-up runs first; inputs are random normal.
 */
export function measureMatMulGflops(tf: TF, n = 1024, repeats = 5): { gflops: number; medianMs: number } {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const once = () => {
    const started = performance.now();
    const c = tf.matMul(a, b);
    // Read back outside tf.tidy: tidy walks a returned typed array element by element (seconds at 1M values).
    c.dataSync();
    c.dispose();
    return performance.now() - started;
  };
  for (let w = 0; w < 2; w++) once();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) times.push(once());
  a.dispose();
  b.dispose();
  times.sort((x, y) => x - y);
  const medianMs = times[Math.floor(times.length / 2)]!;
  return { gflops: (2 * n * n * n) / (medianMs * 1e6), medianMs };
}
