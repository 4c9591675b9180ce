import { describe, expect, it } from 'vitest';
import {
  expandGrid,
  gridSize,
  gridValues,
  type NamedSpace,
  parseSpace,
  type Space,
  sampleRandom,
} from '../../lib/config/spaces';
import { EarlyStopper } from '../../lib/eval/early-stopping';

function space(raw: unknown): Space {
  const parsed = parseSpace(raw);
  if (!parsed.space) throw new Error(JSON.stringify(parsed.problems));
  return parsed.space;
}

describe('search spaces', () => {
  it('parses every form and rejects bad ones with a reason', () => {
    expect(space([1, 2, 3])).toEqual({ kind: 'choice', values: [1, 2, 3] });
    expect(space({ choice: ['a', 'b'] })).toEqual({ kind: 'choice', values: ['a', 'b'] });
    expect(space({ uniform: [0, 1] })).toEqual({ kind: 'uniform', low: 0, high: 1, steps: null });
    expect(space({ logUniform: [0.001, 1], steps: 4 })).toEqual({
      kind: 'logUniform',
      low: 0.001,
      high: 1,
      steps: 4,
    });
    expect(space({ int: [2, 10], step: 4 })).toEqual({ kind: 'int', low: 2, high: 10, step: 4 });
    const bad = (raw: unknown) =>
      parseSpace(raw)
        .problems.map((p) => p.message)
        .join('; ');
    expect(bad([])).toContain('empty list');
    expect(bad([1, 1])).toContain('listed twice');
    expect(bad({ uniform: [2, 1] })).toContain('must not exceed high');
    expect(bad({ int: [1.5, 3] })).toContain('int bounds must be integers');
    expect(bad({ logUniform: [-1, 1] })).toContain('must be positive');
    expect(bad({ uniform: [0, 1], step: 2 })).toContain(
      'unknown key(s) step in a uniform space; allowed: uniform, steps',
    );
    expect(bad({ normal: [0, 1] })).toContain('expected a list of values');
    expect(bad(3)).toContain('expected a list of values');
  });

  it('grid values: lists as given, int ranges by step, real ranges by steps (log: geometric, exact ends)', () => {
    expect(gridValues(space({ int: [2, 10], step: 4 }))).toEqual([2, 6, 10]);
    expect(gridValues(space({ int: [2, 11], step: 4 }))).toEqual([2, 6, 10]);
    expect(gridValues(space({ uniform: [0, 1], steps: 5 }))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(gridValues(space({ logUniform: [0.001, 10], steps: 5 }))).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(gridValues(space({ uniform: [0, 1] }))).toBeNull();
  });

  it('expands the grid as a cartesian product, the last space fastest', () => {
    const spaces: NamedSpace[] = [
      { name: 'factors', space: space([20, 50, 100]) },
      { name: 'lr', space: space([0.005, 0.01]) },
      { name: 'reg', space: space({ logUniform: [0.01, 1], steps: 3 }) },
    ];
    expect(gridSize(spaces)).toBe(18);
    const grid = expandGrid(spaces);
    expect(grid).toHaveLength(18);
    expect(grid[0]).toEqual({ factors: 20, lr: 0.005, reg: 0.01 });
    expect(grid[1]).toEqual({ factors: 20, lr: 0.005, reg: 0.1 });
    expect(grid[3]).toEqual({ factors: 20, lr: 0.01, reg: 0.01 });
    expect(grid[17]).toEqual({ factors: 100, lr: 0.01, reg: 1 });
    expect(new Set(grid.map((g) => JSON.stringify(g))).size).toBe(18);
    expect(expandGrid([])).toEqual([{}]);
    expect(gridSize([{ name: 'x', space: space({ uniform: [0, 1] }) }])).toBe(Number.POSITIVE_INFINITY);
  });

  it('random search: N distinct draws within bounds, the same for the same seed', () => {
    const spaces: NamedSpace[] = [
      { name: 'lr', space: space({ logUniform: [0.0001, 0.1] }) },
      { name: 'reg', space: space({ uniform: [0.01, 0.2] }) },
      { name: 'factors', space: space({ int: [8, 128], step: 8 }) },
      { name: 'solver', space: space({ choice: ['cg', 'cholesky'] }) },
    ];
    const a = sampleRandom(spaces, 50, 7);
    expect(a).toHaveLength(50);
    expect(sampleRandom(spaces, 50, 7)).toEqual(a);
    expect(sampleRandom(spaces, 50, 8)).not.toEqual(a);
    expect(new Set(a.map((c) => JSON.stringify(c))).size).toBe(50);
    for (const c of a) {
      expect(c.lr).toBeGreaterThanOrEqual(0.0001);
      expect(c.lr).toBeLessThanOrEqual(0.1);
      expect(c.reg).toBeGreaterThanOrEqual(0.01);
      expect(c.reg).toBeLessThanOrEqual(0.2);
      expect(Number.isInteger(c.factors)).toBe(true);
      expect((c.factors as number) % 8).toBe(0);
      expect(['cg', 'cholesky']).toContain(c.solver);
      // Rounded to 6 significant digits.
      expect(Number((c.lr as number).toPrecision(6))).toBe(c.lr);
    }
  });

  it('log-uniform draws are uniform in log space (half fall below the geometric mean of the bounds)', () => {
    const draws = sampleRandom([{ name: 'x', space: space({ logUniform: [0.001, 1000] }) }], 4000, 11).map(
      (c) => c.x as number,
    );
    const belowOne = draws.filter((x) => x < 1).length / draws.length;
    expect(belowOne).toBeGreaterThan(0.47);
    expect(belowOne).toBeLessThan(0.53);
    // each decade gets about a sixth
    const decade = draws.filter((x) => x >= 10 && x < 100).length / draws.length;
    expect(decade).toBeGreaterThan(0.14);
    expect(decade).toBeLessThan(0.19);
    const uniform = sampleRandom([{ name: 'x', space: space({ uniform: [0.001, 1000] }) }], 4000, 11).map(
      (c) => c.x as number,
    );
    expect(uniform.filter((x) => x < 1).length / uniform.length).toBeLessThan(0.01);
  });

  it('a discrete space smaller than the number of trials gives its whole grid once', () => {
    const spaces: NamedSpace[] = [
      { name: 'a', space: space([1, 2]) },
      { name: 'b', space: space(['x', 'y', 'z']) },
    ];
    expect(sampleRandom(spaces, 10, 1)).toEqual(expandGrid(spaces));
    expect(sampleRandom(spaces, 4, 1)).toHaveLength(4);
    expect(sampleRandom([], 5, 1)).toEqual([{}]);
  });
});

describe('early stopping', () => {
  it('stops after `patience` epochs without an improvement larger than minDelta; remembers the best epoch', () => {
    const s = new EarlyStopper('min', 2, 0.01);
    const values = [1.0, 0.9, 0.895, 0.85, 0.849, 0.86];
    const stops = values.map((v, i) => s.observe(i + 1, v));
    // epoch 3 (0.895) improves by < 0.01: no; epoch 4 (0.85) improves; epochs 5 and 6 do not → stop at 6
    expect(stops).toEqual([false, false, false, false, false, true]);
    expect(s.bestEpoch).toBe(4);
    expect(s.best).toBe(0.85);
    expect(s.lastEpoch).toBe(6);
  });

  it('maximises too, and counts NaN as no improvement', () => {
    const s = new EarlyStopper('max', 1);
    expect(s.observe(1, 0.1)).toBe(false);
    expect(s.observe(2, 0.2)).toBe(false);
    expect(s.observe(3, Number.NaN)).toBe(true);
    expect(s.bestEpoch).toBe(2);
    expect(() => new EarlyStopper('min', 0)).toThrow(/patience/);
  });
});
