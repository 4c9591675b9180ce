import { afterAll, describe, expect, it } from 'vitest';
import { fillNormalParallel } from '../../lib/compute/normals';
import { WorkerPool } from '../../lib/compute/pool';
import { Rng } from '../../lib/util/rng';

const shared = (n: number) => new Float32Array(new SharedArrayBuffer(n * 4));
const pool = new WorkerPool(2);
afterAll(() => pool.close());

describe('fillNormalParallel', () => {
  it('gives exactly fillNormal’s values and leaves the generator where fillNormal does', async () => {
    for (const n of [200001, 262144])
      for (const spareFirst of [false, true]) {
        const serial = new Rng(11);
        const parallel = new Rng(11);
        if (spareFirst) expect(parallel.normal()).toBe(serial.normal());
        const x = new Float32Array(n);
        serial.fillNormal(x, 0.2, 0.1);
        const y = shared(n);
        await fillNormalParallel(parallel, y, 0.2, 0.1, pool);
        expect(Buffer.from(y.slice().buffer).equals(Buffer.from(x.buffer))).toBe(true);
        expect(parallel.hasSpareNormal).toBe(serial.hasSpareNormal);
        expect(parallel.normal()).toBe(serial.normal());
      }
  });

  it('runs on this thread without a pool (same values)', async () => {
    const x = new Float32Array(1001);
    new Rng(3).fillNormal(x);
    const y = shared(1001);
    await fillNormalParallel(new Rng(3), y, 0, 1, null);
    expect(Array.from(y)).toEqual(Array.from(x));
  });
});
