/**
 * k-core filtering (lib/data/kcore.ts), the `kcore:<k>+<split>` split modifier, and the future-leakage note of
 * splits (lib/data/split.ts `futureLeakage`).
 */
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { filterKCore } from '../../lib/data/kcore';
import { loadRatings } from '../../lib/data/load';
import { futureLeakage, makeSplit, parseSplitSpec } from '../../lib/data/split';
import { generateSynthetic } from '../../lib/data/synthetic';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';

function build(pairs: Array<[number, number]>, timestamps?: number[]): Interactions {
  const nU = Math.max(...pairs.map((p) => p[0])) + 1;
  const nI = Math.max(...pairs.map((p) => p[1])) + 1;
  return new Interactions({
    users: Int32Array.from(pairs.map((p) => p[0])),
    items: Int32Array.from(pairs.map((p) => p[1])),
    ratings: new Float32Array(pairs.length).fill(4),
    timestamps: timestamps ? Int32Array.from(timestamps) : null,
    userIds: IdMap.fromSorted(Int32Array.from({ length: nU }, (_, u) => u + 1)),
    itemIds: IdMap.fromSorted(Int32Array.from({ length: nI }, (_, i) => 100 + i)),
    source: 'fixture',
  });
}

const pairsOf = (x: Interactions) =>
  Array.from({ length: x.size }, (_, k) => `${x.users[k]}:${x.items[k]}`).sort();

describe('filterKCore', () => {
  it('iterates until stable: removing a user can push an item below k, and so on', () => {
    // user 3 has 1 rating → goes; then item 2 has 1 rating → goes; then user 2 has 1 → goes
    const pairs: Array<[number, number]> = [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 1],
      [2, 2],
      [3, 2],
    ];
    const r = filterKCore(build(pairs), { users: 2, items: 2 });
    expect(pairsOf(r.data)).toEqual(['0:0', '0:1', '1:0', '1:1']);
    expect(r.kept).toEqual({ users: 2, items: 2, interactions: 4 });
    expect(r.removed).toEqual({ users: 2, items: 1, interactions: 3 });
    expect(r.rounds).toBeGreaterThanOrEqual(2);
    // id maps are kept unless compact
    expect(r.data.nUsers).toBe(4);
    const c = filterKCore(build(pairs), { users: 2, items: 2, compact: true });
    expect(c.data.nUsers).toBe(2);
    expect(c.data.nItems).toBe(2);
    expect([...c.data.itemIds.ids]).toEqual([100, 101]);
  });

  it('on random data every kept user and item meets its k, and the core is the largest such one', () => {
    const rng = new Rng(5);
    const pairs: Array<[number, number]> = [];
    const seen = new Set<string>();
    while (pairs.length < 600) {
      const u = Math.floor(rng.next() ** 2 * 80);
      const i = Math.floor(rng.next() ** 2 * 60);
      if (seen.has(`${u}:${i}`)) continue;
      seen.add(`${u}:${i}`);
      pairs.push([u, i]);
    }
    for (const [ku, ki] of [
      [5, 5],
      [3, 8],
      [10, 2],
    ] as const) {
      const r = filterKCore(build(pairs), { users: ku, items: ki });
      const uc = new Map<number, number>();
      const ic = new Map<number, number>();
      for (let k = 0; k < r.data.size; k++) {
        uc.set(r.data.users[k]!, (uc.get(r.data.users[k]!) ?? 0) + 1);
        ic.set(r.data.items[k]!, (ic.get(r.data.items[k]!) ?? 0) + 1);
      }
      for (const v of uc.values()) expect(v).toBeGreaterThanOrEqual(ku);
      for (const v of ic.values()) expect(v).toBeGreaterThanOrEqual(ki);
      // maximal: the one-row-at-a-time peeling (another removal order) ends at the same core
      expect(pairsOf(r.data)).toEqual(peel(pairs, ku, ki));
      expect(r.data.size).toBeGreaterThan(0);
    }
  });

  it('rejects a k below 1', () => {
    expect(() => filterKCore(build([[0, 0]]), { users: 0, items: 1 })).toThrow(/users/);
  });
});

/** Peels one offending user or item at a time, highest index first. */
function peel(pairs: Array<[number, number]>, ku: number, ki: number): string[] {
  let rows = pairs.slice();
  for (;;) {
    const uc = new Map<number, number>();
    const ic = new Map<number, number>();
    for (const [u, i] of rows) {
      uc.set(u, (uc.get(u) ?? 0) + 1);
      ic.set(i, (ic.get(i) ?? 0) + 1);
    }
    const badUsers = [...uc].filter(([, c]) => c < ku).map(([u]) => u);
    const badItems = [...ic].filter(([, c]) => c < ki).map(([i]) => i);
    if (badUsers.length === 0 && badItems.length === 0) break;
    if (badItems.length > 0) {
      const item = Math.max(...badItems);
      rows = rows.filter(([, i]) => i !== item);
    } else {
      const user = Math.max(...badUsers);
      rows = rows.filter(([u]) => u !== user);
    }
  }
  return rows.map(([u, i]) => `${u}:${i}`).sort();
}

describe('kcore:<k>+<split>', () => {
  it('parses as the inner split with a kcore field', () => {
    expect(parseSplitSpec('kcore:5+temporal-user:0.2')).toEqual({
      kind: 'temporal-user',
      fraction: 0.2,
      kcore: { users: 5, items: 5 },
    });
    expect(parseSplitSpec('kcore:3:10+random:0.1')).toEqual({
      kind: 'random',
      fraction: 0.1,
      kcore: { users: 3, items: 10 },
    });
    for (const bad of ['kcore:5', 'kcore:0+random:0.2', 'kcore:5+u1', 'kcore:x+random:0.2', 'kcore:5+nope'])
      expect(() => parseSplitSpec(bad), bad).toThrow(ConfigError);
  });

  it('splits the k-core: every train/test rating is in the core, and the split says what went', () => {
    const data = generateSynthetic({ ratings: 3000, users: 80, items: 150, seed: 3 }).ratings;
    const core = filterKCore(data, { users: 5, items: 5 });
    const s = makeSplit(data, 'kcore:5+temporal-user:0.2', 'synthetic');
    expect(s.train.size + s.test.size).toBe(core.data.size);
    const inCore = new Set(pairsOf(core.data));
    for (const p of [...pairsOf(s.train), ...pairsOf(s.test)]) expect(inCore.has(p)).toBe(true);
    expect(s.kcore).toEqual({
      rounds: core.rounds,
      removed: { users: core.removed.users, items: core.removed.items, ratings: core.removed.interactions },
      kept: { users: core.kept.users, items: core.kept.items, ratings: core.kept.interactions },
    });
    expect(s.train.nItems).toBe(data.nItems); // the dataset's id maps stay
    // the same as splitting the filtered data directly
    const direct = makeSplit(core.data, 'temporal-user:0.2', 'synthetic');
    expect(pairsOf(s.test)).toEqual(pairsOf(direct.test));
  });

  it.runIf(HAS_ML_LATEST_SMALL)('ml-latest-small: the 5-core and 20-core (real data)', () => {
    const all = loadRatings('ml-latest-small', { dataDir: realDataDir() });
    for (const k of [5, 20]) {
      const r = filterKCore(all, { users: k, items: k });
      console.log(
        `[kcore real data] ml-latest-small ${k}-core: ${r.kept.users} users, ${r.kept.items} items, ` +
          `${r.kept.interactions} ratings (removed ${r.removed.items} items, ${r.removed.interactions} ratings, ${r.rounds} rounds)`,
      );
      expect(r.kept.interactions).toBeLessThan(all.size);
      expect(r.kept.users).toBeGreaterThan(500); // every MovieLens user has ≥ 20 ratings before filtering
    }
  });
});

describe('future leakage of a split', () => {
  const pairs: Array<[number, number]> = [
    [0, 0],
    [0, 1],
    [0, 2],
    [0, 3],
    [1, 0],
    [1, 1],
    [1, 2],
    [1, 3],
  ];
  const ts = [1, 2, 3, 4, 10, 20, 30, 40];

  it('temporal splits have none; a random split on timestamped data reports users and ratings', () => {
    const data = build(pairs, ts);
    expect(makeSplit(data, 'temporal-user:0.5', 'x').leakage).toBeNull();
    expect(makeSplit(data, 'leave-last-out', 'x').leakage).toBeNull();
    // train holds the latest rating, test an earlier one
    const train = data.filter(Uint8Array.from([1, 1, 0, 1, 1, 1, 1, 1]));
    const test = data.filter(Uint8Array.from([0, 0, 1, 0, 0, 0, 0, 0]));
    const leak = futureLeakage(train, test)!;
    expect(leak).toMatchObject({ users: 1, testUsers: 1, ratings: 1 });
    expect(leak.message).toMatch(/future of 1 of 1 test users/);
    expect(leak.message).toMatch(/temporal-user/);
  });

  it('needs timestamps', () => {
    const data = build(pairs);
    expect(makeSplit(data, 'random:0.5', 'x').leakage).toBeNull();
  });

  it('random and kfold splits of synthetic (timestamped) data leak', () => {
    const data = generateSynthetic({ ratings: 2000, users: 50, items: 100, seed: 1 }).ratings;
    expect(data.timestamps).not.toBeNull();
    for (const spec of ['random:0.2', 'kfold:5:1']) {
      const leak = makeSplit(data, spec, 'synthetic').leakage;
      expect(leak, spec).not.toBeNull();
      expect(leak!.users).toBeGreaterThan(leak!.testUsers / 2);
    }
    expect(makeSplit(data, 'temporal-user:0.2', 'synthetic').leakage).toBeNull();
  });
});
