import type { Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import type { FactorScorer } from './scorer';
import type { TF } from './tensor';

/**
 * Dense scores of blocks of users against every item for a factor model, as one matMul per block on the current
 * TensorFlow.js backend: S = U_block · Vᵀ + item bias + user bias + global bias (FactorScorer semantics).
 * On the native backend this is a multi-threaded GEMM; on wasm/cpu the typed-array kernels are usually faster.
 */
export class TensorFactorScorer {
  private readonly items: Tensor2D;
  private readonly itemBias: Tensor1D | null;
  readonly nItems: number;

  constructor(
    private readonly tf: TF,
    private readonly scorer: FactorScorer,
  ) {
    const k = scorer.factors;
    this.nItems = scorer.itemFactors.length / Math.max(1, k);
    this.items = tf.tensor2d(scorer.itemFactors, [this.nItems, k], 'float32');
    this.itemBias = scorer.itemBias ? tf.tensor1d(scorer.itemBias, 'float32') : null;
  }

  /** Row-major users.length × nItems scores into `out` (allocated when omitted). */
  scoreBlock(users: Int32Array, out = new Float32Array(users.length * this.nItems)): Float32Array {
    const { tf, scorer } = this;
    const k = scorer.factors;
    const b = users.length;
    if (out.length !== b * this.nItems)
      throw new RangeError(`scoreBlock: out must hold ${b}×${this.nItems} values`);
    const u = new Float32Array(b * k);
    const shift = new Float32Array(b);
    for (let r = 0; r < b; r++) {
      const user = users[r]!;
      u.set(scorer.userFactors.subarray(user * k, (user + 1) * k), r * k);
      shift[r] = (scorer.globalBias ?? 0) + (scorer.userBias?.[user] ?? 0);
    }
    const scores = tf.tidy(() => {
      let s = tf.matMul(tf.tensor2d(u, [b, k]), this.items, false, true);
      if (this.itemBias) s = tf.add(s, this.itemBias);
      return tf.add(s, tf.tensor2d(shift, [b, 1]));
    });
    // Read back outside tidy (tidy walks returned typed arrays element by element).
    out.set(scores.dataSync() as Float32Array);
    scores.dispose();
    return out;
  }

  dispose(): void {
    this.items.dispose();
    this.itemBias?.dispose();
  }
}

/** The same block with plain typed-array loops (reference and fallback). */
export function scoreBlockJs(scorer: FactorScorer, users: Int32Array, out: Float32Array): Float32Array {
  const k = scorer.factors;
  const nItems = scorer.itemFactors.length / Math.max(1, k);
  const V = scorer.itemFactors;
  for (let r = 0; r < users.length; r++) {
    const user = users[r]!;
    const base = (scorer.globalBias ?? 0) + (scorer.userBias?.[user] ?? 0);
    const uo = user * k;
    const row = r * nItems;
    for (let i = 0; i < nItems; i++) {
      let s = base + (scorer.itemBias?.[i] ?? 0);
      const io = i * k;
      for (let f = 0; f < k; f++) s += scorer.userFactors[uo + f]! * V[io + f]!;
      out[row + i] = s;
    }
  }
  return out;
}
