/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32). Every random choice in reelab
 * goes through this class so that the same seed gives the same numbers on every machine and thread count.
 */
export class Rng {
  /** xoshiro128** state words a, b, c, d (int32 storage of the uint32 words). */
  private readonly state = new Int32Array(4);
  private spareNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    let s = Math.trunc(seed) >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    const st = this.state;
    for (let w = 0; w < 4; w++) st[w] = next();
    if ((st[0]! | st[1]! | st[2]! | st[3]!) === 0) st[3] = 1;
  }

  /** A child generator whose stream depends only on this seed and `stream` (for per-block / per-worker use). */
  static derive(seed: number, stream: number): Rng {
    return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0);
  }

  /** The four xoshiro128** state words (int32), for kernels that continue this stream outside JS. */
  stateWords(): [number, number, number, number] {
    const st = this.state;
    return [st[0]!, st[1]!, st[2]!, st[3]!];
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    return xoshiroNext(this.state);
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (n <= 0) throw new RangeError(`int(n) needs n > 0, got ${n}`);
    if (n <= 0x100000000) {
      // Lemire-style rejection keeps the draw unbiased.
      const limit = 0x100000000 - (0x100000000 % n);
      let x = this.nextUint32();
      while (x >= limit) x = this.nextUint32();
      return x % n;
    }
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: number }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** Fill with normal(mean, std) values. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    // The same draws as calling normal() out.length times, with both Box-Muller values used in place (no spare
    // value stored between calls: that field write cost more than the arithmetic). Uniforms are drawn in chunks
    // and transformed by `boxMuller`, the same code a parallel fill runs (lib/compute/normals.ts).
    let i = 0;
    if (this.spareNormal !== null && out.length > 0) out[i++] = this.normal(mean, std);
    const chunk = new Uint32Array(2 * Math.min(NORMAL_CHUNK_PAIRS, out.length >> 1));
    while (i + 1 < out.length) {
      const pairs = Math.min(NORMAL_CHUNK_PAIRS, (out.length - i) >> 1);
      this.normalUniforms(pairs, chunk);
      boxMuller(chunk, 0, pairs, out, i, mean, std);
      i += 2 * pairs;
    }
    if (i < out.length) out[i] = this.normal(mean, std);
  }

  /**
   * The uniforms of `pairs` Box–Muller pairs (u, v per pair, a zero u redrawn), as `fillNormal` draws them, into
   * `out` (2·pairs values). Only valid with no spare normal pending (see `hasSpareNormal`).
   */
  normalUniforms(pairs: number, out = new Uint32Array(2 * pairs)): Uint32Array {
    if (this.spareNormal !== null) throw new Error('normalUniforms: a spare normal value is pending');
    const st = this.state;
    for (let j = 0; j < 2 * pairs; j += 2) {
      let u = 0;
      while (u === 0) u = xoshiroNext(st);
      out[j] = u;
      out[j + 1] = xoshiroNext(st);
    }
    return out;
  }

  /** Whether the next normal() returns the stored second value of a Box–Muller pair. */
  get hasSpareNormal(): boolean {
    return this.spareNormal !== null;
  }
}

const NORMAL_CHUNK_PAIRS = 4096;

/**
 * Box–Muller: pairs [first, end) of `uniforms` (from `Rng.normalUniforms`) → out[at + 2(j − first)] (the cosine
 * value) and the next slot (the sine value), scaled to mean/std. A pure function of its inputs, so any split of
 * the pairs over threads gives the same values as one `fillNormal`.
 */
export function boxMuller(
  uniforms: Uint32Array,
  first: number,
  end: number,
  out: Float32Array | Float64Array,
  at: number,
  mean: number,
  std: number,
): void {
  const TWO_PI = 2 * Math.PI;
  for (let j = first, o = at; j < end; j++, o += 2) {
    const u = uniforms[2 * j]! / 4294967296;
    const v = uniforms[2 * j + 1]! / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    out[o] = mean + std * r * Math.cos(TWO_PI * v);
    out[o + 1] = mean + std * (r * Math.sin(TWO_PI * v));
  }
}

/** One xoshiro128** step on `st` (a, b, c, d), returning the uint32 output. */
function xoshiroNext(st: Int32Array): number {
  const a = st[0]!;
  const b = st[1]!;
  const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
  const c = st[2]! ^ a;
  const d = st[3]! ^ b;
  st[0] = a ^ d;
  st[1] = b ^ c;
  st[2] = c ^ (b << 9);
  st[3] = rotl(d, 11);
  return result;
}

/** 32-bit rotate left, as an int32. */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
