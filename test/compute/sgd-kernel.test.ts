import { describe, expect, it } from 'vitest';
import { type SgdState, sgdRange, shuffleBlock } from '../../lib/compute/sgd';
import { SgdArena, sgdKernelModule } from '../../lib/compute/sgd-wasm';
import { Rng } from '../../lib/util/rng';

/** Random ratings over few users/items, so consecutive ratings often share a user or an item (serial pairs). */
function state(layoutModule: Awaited<ReturnType<typeof sgdKernelModule>>, stride: number, seed: number) {
  const nUsers = 7;
  const nItems = 5;
  const n = 401;
  const arena = new SgdArena(
    SgdArena.size(n * 4) * 3 +
      SgdArena.size(nUsers * stride * 4) +
      SgdArena.size(nItems * stride * 4) +
      SgdArena.size(nUsers * 8) +
      SgdArena.size(nItems * 8),
  );
  const rng = new Rng(seed);
  const users = arena.int32(n);
  const items = arena.int32(n);
  const ratings = arena.float32(n);
  for (let p = 0; p < n; p++) {
    users[p] = rng.int(nUsers);
    items[p] = rng.int(nItems);
    ratings[p] = 1 + rng.int(9) / 2;
  }
  const userFactors = arena.float32(nUsers * stride);
  const itemFactors = arena.float32(nItems * stride);
  rng.fillNormal(userFactors, 0, 0.1);
  rng.fillNormal(itemFactors, 0, 0.1);
  const st = {
    factors: stride,
    users,
    items,
    ratings,
    userFactors,
    itemFactors,
    userBias: arena.float64(nUsers),
    itemBias: arena.float64(nItems),
    mean: 3.5,
    biased: true,
    rates: {
      lrBu: 0.005,
      lrBi: 0.006,
      lrPu: 0.007,
      lrQi: 0.008,
      regBu: 0.02,
      regBi: 0.03,
      regPu: 0.04,
      regQi: 0.05,
    },
    wasm: layoutModule ? { module: layoutModule, memory: arena.memory } : null,
  } as unknown as SgdState;
  return st;
}

describe('SGD WebAssembly kernels', () => {
  for (const stride of [4, 8, 12, 100]) {
    it(`the unrolled two-ratings-in-flight kernel is bit-identical to the looped one (stride ${stride})`, async () => {
      const unrolled = await sgdKernelModule(stride);
      const looped = await sgdKernelModule(stride, 'looped');
      expect(unrolled).not.toBeNull();
      expect(unrolled).not.toBe(looped);
      const a = state(unrolled, stride, 3);
      const b = state(looped, stride, 3);
      let sseA = 0;
      let sseB = 0;
      for (let epoch = 0; epoch < 3; epoch++) {
        sseA = sgdRange(a, 0, a.users.length);
        sseB = sgdRange(b, 0, b.users.length);
      }
      expect(sseA).toBe(sseB);
      expect(
        Buffer.from(a.userFactors.slice().buffer).equals(Buffer.from(b.userFactors.slice().buffer)),
      ).toBe(true);
      expect(
        Buffer.from(a.itemFactors.slice().buffer).equals(Buffer.from(b.itemFactors.slice().buffer)),
      ).toBe(true);
      expect(Array.from(a.userBias)).toEqual(Array.from(b.userBias));
      expect(Array.from(a.itemBias)).toEqual(Array.from(b.itemBias));
      // the updates happened (a kernel that did nothing would also "agree")
      expect(sseA).toBeGreaterThan(0);
      expect(a.userBias.some((x) => x !== 0)).toBe(true);
    });
  }

  it('an odd-length range ends with a lone rating and still agrees', async () => {
    const a = state(await sgdKernelModule(8), 8, 9);
    const b = state(await sgdKernelModule(8, 'looped'), 8, 9);
    expect(sgdRange(a, 3, 120)).toBe(sgdRange(b, 3, 120));
    expect(Array.from(a.itemFactors)).toEqual(Array.from(b.itemFactors));
  });

  for (const layout of ['unrolled', 'looped'] as const) {
    it(`the ${layout} module's block shuffle gives the JS shuffle's order`, async () => {
      const withWasm = state(await sgdKernelModule(8, layout), 8, 5);
      const plain = { ...state(null, 8, 5), wasm: null } as SgdState;
      const before = Array.from(withWasm.items);
      // three blocks: an empty one, a single rating, and the rest (each from its own stream)
      for (const st of [withWasm, plain]) {
        Object.assign(st, { blockPtr: Int32Array.of(0, 0, 1, st.users.length), blocks: 1, seed: 11 });
        for (let epoch = 0; epoch < 2; epoch++) for (let b = 0; b < 3; b++) shuffleBlock(st, epoch, b);
      }
      expect(Array.from(withWasm.users)).toEqual(Array.from(plain.users));
      expect(Array.from(withWasm.items)).toEqual(Array.from(plain.items));
      expect(Array.from(withWasm.ratings)).toEqual(Array.from(plain.ratings));
      expect(Array.from(withWasm.items)).not.toEqual(before);
      expect(withWasm.items[0]).toBe(before[0]);
      expect([...withWasm.items].sort()).toEqual([...before].sort());
    });
  }

  it('rejects a stride that is not a positive multiple of 4', () => {
    expect(() => sgdKernelModule(6)).toThrow(/multiple of 4/);
  });
});
