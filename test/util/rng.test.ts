import { describe, expect, it } from 'vitest';
import { Rng } from '../../lib/util/rng';

describe('Rng', () => {
  it('is a pure function of its seed', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('is xoshiro128** seeded by splitmix32: the first outputs of seed 42 are pinned', () => {
    // Pinned so that a change of representation (int32 state words, shared step function) cannot move the
    // stream: every seeded result in reelab depends on it.
    const r = new Rng(42);
    expect(Array.from({ length: 4 }, () => r.nextUint32())).toEqual([
      2837322924, 544945897, 479756282, 3500138142,
    ]);
  });

  it('fillNormal draws exactly what repeated normal() calls draw, spare value included', () => {
    for (const n of [0, 1, 2, 7, 1000, 10001])
      for (const spareFirst of [false, true]) {
        const bulk = new Rng(5);
        const single = new Rng(5);
        if (spareFirst) expect(bulk.normal()).toBe(single.normal());
        const x = new Float64Array(n);
        bulk.fillNormal(x, 0.3, 0.1);
        const y = Float64Array.from({ length: n }, () => single.normal(0.3, 0.1));
        expect(Array.from(x)).toEqual(Array.from(y));
        expect(bulk.normal()).toBe(single.normal());
      }
  });

  it('normal draws have the asked mean and spread', () => {
    const x = new Float64Array(200000);
    new Rng(1).fillNormal(x, 2, 0.5);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    expect(mean).toBeCloseTo(2, 2);
    expect(sd).toBeCloseTo(0.5, 2);
  });
});
