import { ConfigError, ReelabError } from '../../util/errors';
import type { Rng } from '../../util/rng';

/**
 * The hybrid network, NeuMF-shaped:
 *   MLP branch   h0 = [userEmb[u], itemEmb[i], relu(content[i]·Wc + bc)] → relu dense layers → h_L
 *   GMF branch   g  = gmfUser[u] ⊙ gmfItem[i]
 *   score        outB + [h_L, g]·outW (+ userBias[u] + itemBias[i])
 * Rating mode regresses ratings with the score; implicit mode reads it as a logit.
 */
export interface NetworkShape {
  nUsers: number;
  nItems: number;
  /** MLP-branch embedding size (0: no collaborative input to the MLP). */
  factors: number;
  /** GMF-branch embedding size (0: no GMF branch). */
  gmfFactors: number;
  /** Hidden layer sizes of the MLP branch ([]: no MLP branch). */
  hidden: number[];
  /** Content feature columns (0: no content). */
  contentIn: number;
  /** Width of the content tower's output. */
  contentDims: number;
  biases: boolean;
}

/** Every trainable array, row-major ([in × out] for dense weights). */
export interface NetworkWeights {
  userEmb: Float32Array;
  itemEmb: Float32Array;
  gmfUser: Float32Array;
  gmfItem: Float32Array;
  contentW: Float32Array;
  contentB: Float32Array;
  denseW: Float32Array[];
  denseB: Float32Array[];
  outW: Float32Array;
  outB: Float32Array;
  userBias: Float32Array;
  itemBias: Float32Array;
}

export function mlpInputSize(s: NetworkShape): number {
  return s.hidden.length === 0 ? 0 : 2 * s.factors + (s.contentIn > 0 ? s.contentDims : 0);
}

export function headSize(s: NetworkShape): number {
  return (s.hidden.length > 0 ? s.hidden[s.hidden.length - 1]! : 0) + s.gmfFactors;
}

export function validateShape(s: NetworkShape): void {
  if (s.hidden.length > 0 && mlpInputSize(s) === 0)
    throw new ConfigError(
      'hidden',
      'the MLP branch has no input: set factors > 0 or enable content features',
    );
  if (headSize(s) === 0 && !s.biases)
    throw new ConfigError('model', 'the network has neither an MLP nor a GMF branch nor biases');
  for (const h of s.hidden)
    if (!(Number.isInteger(h) && h > 0))
      throw new ConfigError('hidden', `layer sizes must be positive, got ${h}`);
}

/** Expected length of every weight array, by name (dense layers as denseW.<l> / denseB.<l>). */
export function weightLengths(s: NetworkShape): Record<string, number> {
  const out: Record<string, number> = {
    userEmb: s.nUsers * s.factors,
    itemEmb: s.nItems * s.factors,
    gmfUser: s.nUsers * s.gmfFactors,
    gmfItem: s.nItems * s.gmfFactors,
    contentW: s.contentIn > 0 ? s.contentIn * s.contentDims : 0,
    contentB: s.contentIn > 0 ? s.contentDims : 0,
    outW: headSize(s),
    outB: 1,
    userBias: s.biases ? s.nUsers : 0,
    itemBias: s.biases ? s.nItems : 0,
  };
  let nIn = mlpInputSize(s);
  s.hidden.forEach((h, l) => {
    out[`denseW.${l}`] = nIn * h;
    out[`denseB.${l}`] = h;
    nIn = h;
  });
  return out;
}

/** Seeded initialisation: embeddings N(0, std), dense layers He-uniform, biases 0, outB = `outBias`. */
export function initWeights(
  s: NetworkShape,
  rng: Rng,
  embeddingStd: number,
  outBias: number,
): NetworkWeights {
  const normal = (n: number, std: number) => {
    const a = new Float32Array(n);
    for (let k = 0; k < n; k++) a[k] = rng.normal(0, std);
    return a;
  };
  const heUniform = (nIn: number, nOut: number) => {
    const a = new Float32Array(nIn * nOut);
    const limit = Math.sqrt(6 / Math.max(1, nIn));
    for (let k = 0; k < a.length; k++) a[k] = (rng.next() * 2 - 1) * limit;
    return a;
  };
  const denseW: Float32Array[] = [];
  const denseB: Float32Array[] = [];
  let nIn = mlpInputSize(s);
  for (const h of s.hidden) {
    denseW.push(heUniform(nIn, h));
    denseB.push(new Float32Array(h));
    nIn = h;
  }
  const head = headSize(s);
  const outW = new Float32Array(head);
  const limit = Math.sqrt(3 / Math.max(1, head));
  for (let k = 0; k < head; k++) outW[k] = (rng.next() * 2 - 1) * limit;
  return {
    userEmb: normal(s.nUsers * s.factors, embeddingStd),
    itemEmb: normal(s.nItems * s.factors, embeddingStd),
    gmfUser: normal(s.nUsers * s.gmfFactors, embeddingStd),
    gmfItem: normal(s.nItems * s.gmfFactors, embeddingStd),
    contentW: s.contentIn > 0 ? heUniform(s.contentIn, s.contentDims) : new Float32Array(0),
    contentB: new Float32Array(s.contentIn > 0 ? s.contentDims : 0),
    denseW,
    denseB,
    outW,
    outB: Float32Array.of(outBias),
    userBias: new Float32Array(s.biases ? s.nUsers : 0),
    itemBias: new Float32Array(s.biases ? s.nItems : 0),
  };
}

/** Flat name → array view of the weights (the names `weightLengths` uses). */
export function namedWeights(w: NetworkWeights): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {
    userEmb: w.userEmb,
    itemEmb: w.itemEmb,
    gmfUser: w.gmfUser,
    gmfItem: w.gmfItem,
    contentW: w.contentW,
    contentB: w.contentB,
    outW: w.outW,
    outB: w.outB,
    userBias: w.userBias,
    itemBias: w.itemBias,
  };
  w.denseW.forEach((a, l) => {
    out[`denseW.${l}`] = a;
    out[`denseB.${l}`] = w.denseB[l]!;
  });
  return out;
}

/** Rebuilds weights from named arrays, checking every length against the shape. */
export function weightsFromNamed(s: NetworkShape, get: (name: string) => Float32Array): NetworkWeights {
  const lengths = weightLengths(s);
  const take = (name: string) => {
    const a = get(name);
    if (a.length !== lengths[name])
      throw new ReelabError(
        `saved model: weight "${name}" has ${a.length} values, expected ${lengths[name]}`,
      );
    return a;
  };
  return {
    userEmb: take('userEmb'),
    itemEmb: take('itemEmb'),
    gmfUser: take('gmfUser'),
    gmfItem: take('gmfItem'),
    contentW: take('contentW'),
    contentB: take('contentB'),
    denseW: s.hidden.map((_, l) => take(`denseW.${l}`)),
    denseB: s.hidden.map((_, l) => take(`denseB.${l}`)),
    outW: take('outW'),
    outB: take('outB'),
    userBias: take('userBias'),
    itemBias: take('itemBias'),
  };
}

/**
 * Typed-array inference for the network (no TensorFlow needed once trained). The first dense layer is split
 * into a user part and an item part; the item part (item embedding + content tower) is computed once for
 * every item, so scoring all items for a user costs the remaining layers only.
 */
export class NetworkScorer {
  private itemPart: Float32Array | null = null;
  private readonly h1: number;
  private readonly buffers: Float32Array[];
  private readonly head: Float32Array;
  private userPartCache: Float32Array;
  private cachedUser = -1;

  constructor(
    readonly shape: NetworkShape,
    readonly weights: NetworkWeights,
    /** Row-major nItems × contentIn content features (empty when contentIn = 0). */
    readonly content: Float32Array,
  ) {
    validateShape(shape);
    this.h1 = shape.hidden[0] ?? 0;
    this.buffers = shape.hidden.map((h) => new Float32Array(h));
    this.head = new Float32Array(headSize(shape));
    this.userPartCache = new Float32Array(this.h1);
  }

  /** First-layer pre-activations contributed by each item: itemEmb·W1[f:2f] + tower(content)·W1[2f:] + b1. */
  private items(): Float32Array {
    if (this.itemPart) return this.itemPart;
    const s = this.shape;
    const part = new Float32Array(s.nItems * this.h1);
    if (this.h1 > 0) {
      const w1 = this.weights.denseW[0]!;
      const b1 = this.weights.denseB[0]!;
      const f = s.factors;
      const c = s.contentIn > 0 ? s.contentDims : 0;
      const tower = new Float32Array(c);
      for (let i = 0; i < s.nItems; i++) {
        const row = i * this.h1;
        for (let o = 0; o < this.h1; o++) part[row + o] = b1[o]!;
        for (let k = 0; k < f; k++) {
          const v = this.weights.itemEmb[i * f + k]!;
          if (v === 0) continue;
          const wRow = (f + k) * this.h1;
          for (let o = 0; o < this.h1; o++) part[row + o]! += v * w1[wRow + o]!;
        }
        if (c > 0) {
          this.tower(this.content, i * s.contentIn, tower);
          for (let k = 0; k < c; k++) {
            const v = tower[k]!;
            if (v === 0) continue;
            const wRow = (2 * f + k) * this.h1;
            for (let o = 0; o < this.h1; o++) part[row + o]! += v * w1[wRow + o]!;
          }
        }
      }
    }
    this.itemPart = part;
    return part;
  }

  /** relu(content[x .. x+contentIn)·Wc + bc) into `out`. */
  private tower(content: Float32Array, x: number, out: Float32Array): void {
    const { contentIn: nIn, contentDims: nOut } = this.shape;
    const w = this.weights.contentW;
    out.set(this.weights.contentB);
    for (let k = 0; k < nIn; k++) {
      const v = content[x + k]!;
      if (v === 0) continue;
      const wRow = k * nOut;
      for (let o = 0; o < nOut; o++) out[o]! += v * w[wRow + o]!;
    }
    for (let o = 0; o < nOut; o++) if (out[o]! < 0) out[o] = 0;
  }

  private userPart(u: number): Float32Array {
    if (u === this.cachedUser) return this.userPartCache;
    const part = this.userPartCache;
    part.fill(0);
    const f = this.shape.factors;
    const w1 = this.weights.denseW[0];
    if (w1 && u >= 0) {
      for (let k = 0; k < f; k++) {
        const v = this.weights.userEmb[u * f + k]!;
        if (v === 0) continue;
        const wRow = k * this.h1;
        for (let o = 0; o < this.h1; o++) part[o]! += v * w1[wRow + o]!;
      }
    }
    this.cachedUser = u;
    return part;
  }

  /** Score of (u, i): a rating in rating mode, a logit in implicit mode. u = -1: a user with no signal. */
  score(u: number, i: number): number {
    return this.forward(u, this.items(), i * this.h1, i);
  }

  /**
   * Score of user u for a movie the network never saw, from its content row alone (length contentIn): the
   * movie's embedding, GMF factors and bias are those of an unseen item (zero), its content tower is real.
   */
  scoreNewItem(u: number, content: Float32Array): number {
    const s = this.shape;
    if (content.length !== s.contentIn) {
      throw new ReelabError(
        `new-movie content has ${content.length} features, the network takes ${s.contentIn}`,
      );
    }
    const part = new Float32Array(this.h1);
    if (this.h1 > 0) {
      const w1 = this.weights.denseW[0]!;
      part.set(this.weights.denseB[0]!);
      if (s.contentIn > 0) {
        const tower = new Float32Array(s.contentDims);
        this.tower(content, 0, tower);
        for (let k = 0; k < s.contentDims; k++) {
          const v = tower[k]!;
          if (v === 0) continue;
          const wRow = (2 * s.factors + k) * this.h1;
          for (let o = 0; o < this.h1; o++) part[o]! += v * w1[wRow + o]!;
        }
      }
    }
    return this.forward(u, part, 0, -1);
  }

  /** The layers after the first, given the item's first-layer part at itemPart[row…]; item -1 = unseen. */
  private forward(u: number, itemPart: Float32Array, row: number, i: number): number {
    const s = this.shape;
    const w = this.weights;
    const head = this.head;
    let hp = 0;
    if (s.hidden.length > 0) {
      const up = this.userPart(u);
      const ip = itemPart;
      let cur = this.buffers[0]!;
      for (let o = 0; o < this.h1; o++) {
        const z = up[o]! + ip[row + o]!;
        cur[o] = z > 0 ? z : 0;
      }
      for (let l = 1; l < s.hidden.length; l++) {
        const next = this.buffers[l]!;
        const nIn = s.hidden[l - 1]!;
        const nOut = s.hidden[l]!;
        const wl = w.denseW[l]!;
        next.set(w.denseB[l]!);
        for (let k = 0; k < nIn; k++) {
          const v = cur[k]!;
          if (v === 0) continue;
          const wRow = k * nOut;
          for (let o = 0; o < nOut; o++) next[o]! += v * wl[wRow + o]!;
        }
        for (let o = 0; o < nOut; o++) if (next[o]! < 0) next[o] = 0;
        cur = next;
      }
      head.set(cur);
      hp = cur.length;
    }
    const g = s.gmfFactors;
    for (let k = 0; k < g; k++)
      head[hp + k] = u < 0 || i < 0 ? 0 : w.gmfUser[u * g + k]! * w.gmfItem[i * g + k]!;
    let out = w.outB[0]!;
    for (let k = 0; k < head.length; k++) out += head[k]! * w.outW[k]!;
    if (s.biases) out += (u < 0 ? 0 : w.userBias[u]!) + (i < 0 ? 0 : w.itemBias[i]!);
    return out;
  }

  scoreAll(u: number, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.score(u, i);
  }
}
