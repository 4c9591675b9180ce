/**
 * WebAssembly SIMD kernels of full ranking, generated here as bytes (no toolchain needed) and specialised for
 * the factor count, so the loop over factors is fully unrolled with constant memory offsets. Both kernels
 * score a block of users × a tile of items with the same register blocking — USERS_PER_STEP users ×
 * ITEMS_PER_STEP items per step, lanes across 4 items, item factors packed in groups of 4 items, user factors
 * broadcast — and both list, per user row, the 4-item groups whose value exceeds the row's threshold, so
 * top-k selection only looks at those.
 *
 * - `score` (f32): the exact ranking score. acc = 0; acc = fround(acc + fround(u_f·v_f)) for f = 0..F-1,
 *   then fround(acc + bias): the same order whatever the blocking (see `factorScore` in ranking-kernel).
 * - `scoreq` (int16): a certified upper bound of that score from 12-bit quantised factors —
 *   `i32x4.dot_i16x8_s` does 8 multiply-adds per instruction, about twice the f32 rate — written as
 *   su·(sv_i·(I + c_u) + h_i) + b⁺_i with I the exact integer dot product (see ranking-kernel for the bound).
 *   Items whose bound is not above the threshold cannot enter the top k; the others are rescored exactly.
 */

/** Users per register block of the kernels. */
export const USERS_PER_STEP = 3;
/** Groups of 4 items per register block. */
export const GROUPS_PER_STEP = 4;
/** Items per register block; item counts and tiles are padded to multiples of this. */
export const ITEMS_PER_STEP = GROUPS_PER_STEP * 4;

function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  const out = uleb(items.length);
  for (const it of items) for (const b of it) out.push(b);
  return out;
}

function name(s: string): number[] {
  const bytes = Array.from(Buffer.from(s, 'utf8'));
  return [...uleb(bytes.length), ...bytes];
}

const I32 = 0x7f;
const V128 = 0x7b;
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Store: 0x36,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  simd: 0xfd,
} as const;
const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  const: 0x0c,
  f32x4Le: 0x45,
  not: 0x4d,
  anyTrue: 0x53,
  i32x4Add: 0xae,
  i32x4DotI16x8: 0xba,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f32x4ConvertI32x4: 0xfa,
} as const;

/** Builds one function body: locals are declared as they are requested, params come first. */
class Body {
  readonly c: number[] = [];
  private readonly i32Locals: number[] = [];
  private readonly v128Locals: number[] = [];
  constructor(readonly nParams: number) {}

  /** Allocates locals; indices are fixed once `bytes()` orders them (all i32 first, then v128). */
  local(type: 'i32' | 'v128'): number {
    const id = -(this.i32Locals.length + this.v128Locals.length + 1);
    (type === 'i32' ? this.i32Locals : this.v128Locals).push(id);
    return id;
  }

  /** Parameters are pushed as their index (< 128, one byte), locals as a negative placeholder. */
  get(l: number): void {
    this.c.push(OP.localGet, l);
  }
  set(l: number): void {
    this.c.push(OP.localSet, l);
  }
  i32(v: number): void {
    this.c.push(OP.i32Const, ...sleb(v));
  }
  simd(o: number, ...imm: number[]): void {
    this.c.push(OP.simd, ...uleb(o), ...imm);
  }
  /** memarg: alignment exponent and offset */
  mem(align: number, offset: number): number[] {
    return [align, ...uleb(offset)];
  }
  addTo(l: number, v: number): void {
    this.get(l);
    this.i32(v);
    this.c.push(OP.i32Add);
    this.set(l);
  }
  /** l += a · b (a a local, b a constant) */
  addScaled(l: number, a: number, b: number): void {
    this.get(l);
    this.get(a);
    this.i32(b);
    this.c.push(OP.i32Mul, OP.i32Add);
    this.set(l);
  }

  /** Encoded body: local declarations, then the code with local placeholders (negative) resolved. */
  bytes(): number[] {
    const index = new Map<number, number>();
    let next = this.nParams;
    for (const id of this.i32Locals) index.set(id, next++);
    for (const id of this.v128Locals) index.set(id, next++);
    const code: number[] = [];
    for (const b of this.c) {
      if (b < 0) code.push(...uleb(index.get(b)!));
      else code.push(b);
    }
    const decls = vec([
      [...uleb(this.i32Locals.length), I32],
      [...uleb(this.v128Locals.length), V128],
    ]);
    const body = [...decls, ...code, OP.end];
    return [...uleb(body.length), ...body];
  }
}

/**
 * Shared skeleton: loop over user groups, loop over item steps, `dot` computes the accumulators, `finish`
 * turns accumulator (r, g) into the 4 values to store; then store, candidate check and pointer updates.
 */
interface Skeleton {
  /** params */
  users: number;
  userGroups: number;
  items: number;
  itemSteps: number;
  out: number;
  stride: number;
  thresholds: number;
  cand: number;
  candStride: number;
  counts: number;
  /** per-item pointers advanced by 16·G bytes per step (bias arrays) */
  itemArrays: number[];
  /** per-row pointers advanced by 4·R bytes per group (per-row constants) */
  rowArrays: number[];
  /** bytes of one user row and one item step */
  userRowBytes: number;
  itemStepBytes: number;
}

function emitSkeleton(
  b: Body,
  s: Skeleton,
  dot: (ip: number, acc: number[]) => void,
  finish: (acc: number, r: number, g: number, arrays: number[]) => void,
): void {
  const R = USERS_PER_STEP;
  const G = GROUPS_PER_STEP;
  const ip = b.local('i32');
  const op = b.local('i32');
  const step = b.local('i32');
  const group = b.local('i32');
  const row = b.local('i32');
  const itemOff = b.local('i32');
  const arrays = s.itemArrays.map(() => b.local('i32'));
  const cnt: number[] = [];
  const candRow: number[] = [];
  const thr: number[] = [];
  for (let r = 0; r < R; r++) cnt.push(b.local('i32'));
  for (let r = 0; r < R; r++) candRow.push(b.local('i32'));
  const acc: number[] = [];
  for (let k = 0; k < R * G; k++) acc.push(b.local('v128'));
  for (let r = 0; r < R; r++) thr.push(b.local('v128'));
  const c = b.c;

  b.i32(0);
  b.set(group);
  c.push(OP.block, 0x40, OP.loop, 0x40);
  b.get(group);
  b.get(s.userGroups);
  c.push(OP.i32GeU, OP.brIf, 1);
  for (let r = 0; r < R; r++) {
    b.get(s.thresholds);
    b.simd(SIMD.load32Splat, ...b.mem(2, r * 4));
    b.set(thr[r]!);
    b.i32(0);
    b.set(cnt[r]!);
    b.get(s.cand);
    if (r > 0) {
      b.get(s.candStride);
      b.i32(r);
      c.push(OP.i32Mul, OP.i32Add);
    }
    b.set(candRow[r]!);
  }
  b.get(s.items);
  b.set(ip);
  s.itemArrays.forEach((p, j) => {
    b.get(p);
    b.set(arrays[j]!);
  });
  b.get(s.out);
  b.set(op);
  b.i32(0);
  b.set(step);
  b.i32(0);
  b.set(itemOff);
  c.push(OP.block, 0x40, OP.loop, 0x40);
  b.get(step);
  b.get(s.itemSteps);
  c.push(OP.i32GeU, OP.brIf, 1);
  for (const a of acc) {
    b.simd(SIMD.const, ...new Array<number>(16).fill(0));
    b.set(a);
  }
  dot(ip, acc);
  b.get(op);
  b.set(row);
  for (let r = 0; r < R; r++) {
    for (let g = 0; g < G; g++) {
      const a = acc[r * G + g]!;
      finish(a, r, g, arrays);
      b.get(row);
      b.get(a);
      b.simd(SIMD.store, ...b.mem(4, g * 16));
      // candidate group: a lane not ≤ the threshold (above it, or NaN)
      b.get(a);
      b.get(thr[r]!);
      b.simd(SIMD.f32x4Le);
      b.simd(SIMD.not);
      b.simd(SIMD.anyTrue);
      c.push(OP.if, 0x40);
      b.get(candRow[r]!);
      b.get(cnt[r]!);
      b.i32(2);
      c.push(OP.i32Shl, OP.i32Add);
      b.get(itemOff);
      if (g > 0) {
        b.i32(g * 4);
        c.push(OP.i32Add);
      }
      c.push(OP.i32Store, 2, 0);
      b.addTo(cnt[r]!, 1);
      c.push(OP.end);
    }
    if (r < R - 1) {
      b.get(row);
      b.get(s.stride);
      c.push(OP.i32Add);
      b.set(row);
    }
  }
  b.addTo(ip, s.itemStepBytes);
  for (const a of arrays) b.addTo(a, G * 16);
  b.addTo(op, G * 16);
  b.addTo(itemOff, G * 4);
  b.addTo(step, 1);
  c.push(OP.br, 0, OP.end, OP.end);
  for (let r = 0; r < R; r++) {
    b.get(s.counts);
    b.get(cnt[r]!);
    c.push(OP.i32Store, 2, ...uleb(r * 4));
  }
  b.addTo(s.users, R * s.userRowBytes);
  b.addScaled(s.out, s.stride, R);
  b.addTo(s.thresholds, R * 4);
  b.addTo(s.counts, R * 4);
  for (const p of s.rowArrays) b.addTo(p, R * 4);
  b.addScaled(s.cand, s.candStride, R);
  b.addTo(group, 1);
  c.push(OP.br, 0, OP.end, OP.end);
}

/**
 * f32 kernel `score(users, userGroups, items, itemSteps, bias, out, outStride, thresholds, cand, candStride,
 * counts)` (byte addresses): user row r (F floats at users + r·4F), items packed in steps of
 * ITEMS_PER_STEP; the score of row r, item j goes to out + r·outStride + 4j.
 */
function f32Body(F: number): number[] {
  const b = new Body(11);
  const s: Skeleton = {
    users: 0,
    userGroups: 1,
    items: 2,
    itemSteps: 3,
    out: 5,
    stride: 6,
    thresholds: 7,
    cand: 8,
    candStride: 9,
    counts: 10,
    itemArrays: [4],
    rowArrays: [],
    userRowBytes: F * 4,
    itemStepBytes: GROUPS_PER_STEP * F * 16,
  };
  const G = GROUPS_PER_STEP;
  const itm: number[] = [];
  for (let g = 0; g < G; g++) itm.push(b.local('v128'));
  const splat = b.local('v128');
  emitSkeleton(
    b,
    s,
    (ip, acc) => {
      for (let f = 0; f < F; f++) {
        for (let g = 0; g < G; g++) {
          b.get(ip);
          b.simd(SIMD.load, ...b.mem(4, (g * F + f) * 16));
          b.set(itm[g]!);
        }
        for (let r = 0; r < USERS_PER_STEP; r++) {
          b.get(s.users);
          b.simd(SIMD.load32Splat, ...b.mem(2, (r * F + f) * 4));
          b.set(splat);
          for (let g = 0; g < G; g++) {
            const a = acc[r * G + g]!;
            b.get(a);
            b.get(splat);
            b.get(itm[g]!);
            b.simd(SIMD.f32x4Mul);
            b.simd(SIMD.f32x4Add);
            b.set(a);
          }
        }
      }
    },
    (a, _r, g, arrays) => {
      b.get(a);
      b.get(arrays[0]!);
      b.simd(SIMD.load, ...b.mem(4, g * 16));
      b.simd(SIMD.f32x4Add);
      b.set(a);
    },
  );
  return b.bytes();
}

/**
 * int16 kernel `scoreq(users, userGroups, items, itemSteps, itemScale, itemSlack, biasUp, out, outStride,
 * thresholds, userScale, userSlack, cand, candStride, counts)`: user rows of Fq int16 (Fq = F rounded up to
 * even), items packed per step as groups of 4 items × pairs of factors (8 int16 per 16 bytes); writes
 * su·(sv_i·(I + c_u) + h_i) + b⁺_i with per-row su (userScale), c_u (userSlack) and per-item sv_i
 * (itemScale), h_i (itemSlack), b⁺_i (biasUp).
 */
function q16Body(F: number): number[] {
  const Fq = F + (F & 1);
  const P = Fq / 2;
  const b = new Body(15);
  const s: Skeleton = {
    users: 0,
    userGroups: 1,
    items: 2,
    itemSteps: 3,
    out: 7,
    stride: 8,
    thresholds: 9,
    cand: 12,
    candStride: 13,
    counts: 14,
    itemArrays: [4, 5, 6],
    rowArrays: [10, 11],
    userRowBytes: Fq * 2,
    itemStepBytes: GROUPS_PER_STEP * P * 16,
  };
  const G = GROUPS_PER_STEP;
  const itm: number[] = [];
  for (let g = 0; g < G; g++) itm.push(b.local('v128'));
  const splat = b.local('v128');
  emitSkeleton(
    b,
    s,
    (ip, acc) => {
      for (let q = 0; q < P; q++) {
        for (let g = 0; g < G; g++) {
          b.get(ip);
          b.simd(SIMD.load, ...b.mem(4, (g * P + q) * 16));
          b.set(itm[g]!);
        }
        for (let r = 0; r < USERS_PER_STEP; r++) {
          b.get(s.users);
          b.simd(SIMD.load32Splat, ...b.mem(2, (r * Fq + 2 * q) * 2));
          b.set(splat);
          for (let g = 0; g < G; g++) {
            const a = acc[r * G + g]!;
            b.get(a);
            b.get(splat);
            b.get(itm[g]!);
            b.simd(SIMD.i32x4DotI16x8);
            b.simd(SIMD.i32x4Add);
            b.set(a);
          }
        }
      }
    },
    (a, r, g, arrays) => {
      const [scale, slack, biasUp] = arrays as [number, number, number];
      b.get(a);
      b.simd(SIMD.f32x4ConvertI32x4);
      b.get(11); // userSlack
      b.simd(SIMD.load32Splat, ...b.mem(2, r * 4));
      b.simd(SIMD.f32x4Add);
      b.get(scale);
      b.simd(SIMD.load, ...b.mem(4, g * 16));
      b.simd(SIMD.f32x4Mul);
      b.get(slack);
      b.simd(SIMD.load, ...b.mem(4, g * 16));
      b.simd(SIMD.f32x4Add);
      b.get(10); // userScale
      b.simd(SIMD.load32Splat, ...b.mem(2, r * 4));
      b.simd(SIMD.f32x4Mul);
      b.get(biasUp);
      b.simd(SIMD.load, ...b.mem(4, g * 16));
      b.simd(SIMD.f32x4Add);
      b.set(a);
    },
  );
  return b.bytes();
}

/** Bytes of the module exporting `mem`, `score` (f32) and `scoreq` (int16 bound), for F factors. */
export function kernelModuleBytes(factors: number): Uint8Array {
  if (!(Number.isInteger(factors) && factors >= 1 && factors <= 4096))
    throw new RangeError(`factor count must be an integer in 1..4096, got ${factors}`);
  const type = (n: number) => [0x60, ...vec(new Array<number[]>(n).fill([I32])), 0];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec([type(11), type(15)])),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...name('score'), 0, 0],
        [...name('scoreq'), 0, 1],
        [...name('mem'), 2, 0],
      ]),
    ),
    ...section(10, vec([f32Body(factors), q16Body(factors)])),
  ]);
}
