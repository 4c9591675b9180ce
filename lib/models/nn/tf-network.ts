import type { Scalar, Tensor, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs';
import type { TF } from '../../compute/tensor';
import { headSize, mlpInputSize, type NetworkShape, type NetworkWeights, namedWeights } from './network';

/** The network as TensorFlow.js variables, for training; weights go in and come out as typed arrays. */
export class TfNetwork {
  private readonly vars = new Map<string, Variable>();
  private readonly content: Tensor2D | null;

  constructor(
    private readonly tf: TF,
    readonly shape: NetworkShape,
    weights: NetworkWeights,
    content: Float32Array,
  ) {
    const s = shape;
    const dims: Record<string, number[]> = {
      userEmb: [s.nUsers, s.factors],
      itemEmb: [s.nItems, s.factors],
      gmfUser: [s.nUsers, s.gmfFactors],
      gmfItem: [s.nItems, s.gmfFactors],
      contentW: [s.contentIn, s.contentDims],
      contentB: [s.contentDims],
      outW: [headSize(s), 1],
      outB: [1],
      userBias: [s.nUsers],
      itemBias: [s.nItems],
    };
    let nIn = mlpInputSize(s);
    s.hidden.forEach((h, l) => {
      dims[`denseW.${l}`] = [nIn, h];
      dims[`denseB.${l}`] = [h];
      nIn = h;
    });
    for (const [name, values] of Object.entries(namedWeights(weights))) {
      if (values.length === 0) continue;
      this.vars.set(name, tf.variable(tf.tensor(values, dims[name]!, 'float32'), true));
    }
    this.content = s.contentIn > 0 ? tf.tensor2d(content, [s.nItems, s.contentIn], 'float32') : null;
  }

  get variables(): Variable[] {
    return [...this.vars.values()];
  }

  private v(name: string): Variable {
    const x = this.vars.get(name);
    if (!x) throw new Error(`network variable ${name} does not exist`);
    return x;
  }

  /**
   * Scores of (users[k], items[k]) and the L2 penalty of the embedding rows and biases they touch.
   * `dropout` (rate, seed) applies inverted dropout after each hidden layer while training.
   */
  forward(
    users: Tensor1D,
    items: Tensor1D,
    dropout: { rate: number; seed: number } | null,
  ): { score: Tensor1D; penalty: Scalar } {
    const tf = this.tf;
    const s = this.shape;
    const touched: Tensor[] = [];
    const headParts: Tensor2D[] = [];
    if (s.hidden.length > 0) {
      const parts: Tensor2D[] = [];
      if (s.factors > 0) {
        const ue = tf.gather(this.v('userEmb'), users) as Tensor2D;
        const ie = tf.gather(this.v('itemEmb'), items) as Tensor2D;
        parts.push(ue, ie);
        touched.push(ue, ie);
      }
      if (this.content) {
        const c = tf.gather(this.content, items) as Tensor2D;
        parts.push(tf.relu(tf.add(tf.matMul(c, this.v('contentW')), this.v('contentB'))) as Tensor2D);
      }
      let x: Tensor2D = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
      s.hidden.forEach((_, l) => {
        x = tf.relu(tf.add(tf.matMul(x, this.v(`denseW.${l}`)), this.v(`denseB.${l}`))) as Tensor2D;
        if (dropout && dropout.rate > 0)
          x = tf.dropout(x, dropout.rate, undefined, dropout.seed + l) as Tensor2D;
      });
      headParts.push(x);
    }
    if (s.gmfFactors > 0) {
      const gu = tf.gather(this.v('gmfUser'), users) as Tensor2D;
      const gi = tf.gather(this.v('gmfItem'), items) as Tensor2D;
      touched.push(gu, gi);
      headParts.push(tf.mul(gu, gi));
    }
    let score: Tensor1D = tf.add(tf.zeros([users.shape[0]]), this.v('outB')) as Tensor1D;
    if (headParts.length > 0) {
      const head = headParts.length === 1 ? headParts[0]! : tf.concat(headParts, 1);
      score = tf.add(score, tf.reshape(tf.matMul(head, this.v('outW')), [-1])) as Tensor1D;
    }
    if (s.biases) {
      const bu = tf.gather(this.v('userBias'), users);
      const bi = tf.gather(this.v('itemBias'), items);
      touched.push(bu, bi);
      score = tf.add(score, tf.add(bu, bi)) as Tensor1D;
    }
    const penalty = touched.reduce<Scalar>((acc, t) => tf.add(acc, tf.sum(tf.square(t))), tf.scalar(0));
    return { score, penalty };
  }

  /** Σ w² over the dense and content weights (weight decay). */
  densePenalty(): Scalar {
    const tf = this.tf;
    let acc: Scalar = tf.scalar(0);
    for (const [name, v] of this.vars) {
      // contentW, denseW.<l>, outW; embeddings get their L2 per batch in forward(), biases none.
      if (!/W(\.\d+)?$/.test(name)) continue;
      acc = tf.add(acc, tf.sum(tf.square(v)));
    }
    return acc;
  }

  /** Current weights as fresh typed arrays (arrays of size 0 stay empty). */
  read(): NetworkWeights {
    const s = this.shape;
    const get = (name: string) => {
      const v = this.vars.get(name);
      return v ? new Float32Array(v.dataSync() as Float32Array) : new Float32Array(0);
    };
    return {
      userEmb: get('userEmb'),
      itemEmb: get('itemEmb'),
      gmfUser: get('gmfUser'),
      gmfItem: get('gmfItem'),
      contentW: get('contentW'),
      contentB: get('contentB'),
      denseW: s.hidden.map((_, l) => get(`denseW.${l}`)),
      denseB: s.hidden.map((_, l) => get(`denseB.${l}`)),
      outW: get('outW'),
      outB: get('outB'),
      userBias: get('userBias'),
      itemBias: get('itemBias'),
    };
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.content?.dispose();
  }
}
