import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { evaluateModel, heldOutRelevance } from '../../lib/eval/protocols';
import { BaseRecommender } from '../../lib/models/base';
import type { FactorScorer, ModelState } from '../../lib/models/recommender';
import { ConfigError } from '../../lib/util/errors';

/** A model whose scores are a fixed user × item table (a test fixture: the thing under test is the protocol). */
class TableModel extends BaseRecommender<Record<string, never>> {
  readonly name = 'table';
  constructor(private readonly table: number[][]) {
    super({});
  }
  protected async train(): Promise<void> {}
  protected predictOne(u: number, i: number): number {
    return this.table[u]![i]!;
  }
  scoreAll(u: number, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.table[u]![i]!;
  }
  protected modelState(): ModelState {
    return {};
  }
  protected restoreModel(): void {}
}

const users = IdMap.fromSorted(Int32Array.from([10, 20, 30]));
const items = IdMap.fromSorted(Int32Array.from([1, 2, 3, 4, 5, 6]));
function data(rows: Array<[number, number, number]>): Interactions {
  return new Interactions({
    users: Int32Array.from(rows.map((r) => r[0])),
    items: Int32Array.from(rows.map((r) => r[1])),
    ratings: Float32Array.from(rows.map((r) => r[2])),
    userIds: users,
    itemIds: items,
  });
}

// train: user 0 → {0}, user 1 → {1, 2}, user 2 → {0}
const train = data([
  [0, 0, 4],
  [1, 1, 5],
  [1, 2, 3],
  [2, 0, 2],
]);
// test: user 0 → 2 (5★), 3 (2★), 4 (4★); user 1 → 0 (3★); user 2 → 5 (5★), 0 (5★, also a training item)
const test = data([
  [0, 2, 5],
  [0, 3, 2],
  [0, 4, 4],
  [1, 0, 3],
  [2, 5, 5],
  [2, 0, 5],
]);
const table = [
  [0.9, 0.1, 0.5, 0.8, 0.5, 0.2], // user 0: candidates rank 3, 2, 4 (tie → lower index), 5, 1
  [0.3, 0.9, 0.9, 0.1, 0.2, 0.25], // user 1: candidates rank 0, 5, 4, 3
  [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], // user 2: candidates rank 5, 4, 3, 2, 1
];

async function fitted(): Promise<TableModel> {
  const m = new TableModel(table);
  await m.fit(train);
  return m;
}

const L3 = Math.log2(3);

describe('relevance', () => {
  it('keeps held-out items rated ≥ threshold that are not training items', () => {
    const h = heldOutRelevance(train, test, 4);
    expect(Array.from(h.relevant.indptr)).toEqual([0, 2, 2, 3]);
    expect(Array.from(h.relevant.indices)).toEqual([2, 4, 5]);
    expect(Array.from(h.relevant.gains!)).toEqual([5, 4, 5]);
    expect(Array.from(h.testUsers)).toEqual([0, 1, 2]);
    expect(Array.from(h.relevantUsers)).toEqual([0, 2]);
    const all = heldOutRelevance(train, test, null);
    expect(Array.from(all.relevant.indices)).toEqual([2, 3, 4, 0, 5]);
  });
});

describe('full protocol (hand-computed)', () => {
  it('threshold 4: users without relevant items are left out and counted', async () => {
    const [full] = await evaluateModel(await fitted(), train, test, {
      metrics: ['precision@2', 'recall@2', 'ndcg@2', 'map@2', 'hr@1', 'mrr', 'auc'],
      relevance: 4,
    });
    expect(full!.protocol).toBe('full');
    expect(full!.relevance).toBe(4);
    expect(full!.users).toBe(2);
    expect(full!.usersWithoutRelevant).toBe(1);
    expect(full!.scoring).toBe('scoreAll');
    const m = full!.metrics;
    // user 0: list [3, 2], relevant {2, 4}; user 2: list [5, 4], relevant {5}
    expect(m['precision@2']).toBeCloseTo((1 / 2 + 1 / 2) / 2, 15);
    expect(m['recall@2']).toBeCloseTo((1 / 2 + 1) / 2, 15);
    expect(m['ndcg@2']).toBeCloseTo((1 / L3 / (1 + 1 / L3) + 1) / 2, 15);
    expect(m['map@2']).toBeCloseTo((1 / 2 / 2 + 1) / 2, 15);
    expect(m['hr@1']).toBeCloseTo((0 + 1) / 2, 15);
    expect(m.mrr).toBeCloseTo((1 / 2 + 1) / 2, 15);
    // user 0: relevant 2, 4 (0.5) vs negatives 1 (0.1), 3 (0.8), 5 (0.2) → 4 of 6; user 2: 5 beats 1..4 → 1
    expect(m.auc).toBeCloseTo((4 / 6 + 1) / 2, 15);
    expect(Array.from(full!.perUser['ndcg@2']!.users)).toEqual([0, 2]);
  });

  it('relevance "all": every held-out interaction counts; K beyond the candidates', async () => {
    const [full] = await evaluateModel(await fitted(), train, test, {
      metrics: ['precision@10', 'recall@10', 'mrr'],
      relevance: null,
    });
    expect(full!.relevance).toBeNull();
    expect(full!.usersWithoutRelevant).toBe(0);
    // user 0: 5 candidates all listed, relevant {2,3,4} all hit; user 1: relevant {0} first of 4; user 2: {5} first
    expect(full!.metrics['precision@10']).toBeCloseTo((3 / 10 + 1 / 10 + 1 / 10) / 3, 15);
    expect(full!.metrics['recall@10']).toBe(1);
    expect(full!.metrics.mrr).toBe(1);
  });

  it('beyond-accuracy metrics cover every test user (a list per user)', async () => {
    const [full] = await evaluateModel(await fitted(), train, test, {
      metrics: ['coverage@2', 'novelty@1', 'popularity-bias@1'],
    });
    expect(full!.users).toBe(3);
    // first two items: user 0 → 3, 2; user 1 → 0, 5; user 2 → 5, 4 → {0, 2, 3, 4, 5} of 6
    expect(full!.metrics['coverage@2']).toBeCloseTo(5 / 6, 15);
    // training item users: [2, 1, 1, 0, 0, 0], 3 training users; top-1: 3, 0, 5 → −log2(1/3), −log2(2/3), −log2(1/3)
    expect(full!.metrics['novelty@1']).toBeCloseTo((2 * Math.log2(3) + Math.log2(3 / 2)) / 3, 14);
    // percentiles (mid-rank of counts [2,1,1,0,0,0]): item 0 → 5.5/6, items 3, 5 → 1.5/6
    expect(full!.metrics['popularity-bias@1']).toBeCloseTo((1.5 / 6 + 5.5 / 6 + 1.5 / 6) / 3, 15);
  });
});

describe('sampled protocol', () => {
  it('with every available item as a negative, ranks the positive among them (ties → lower index)', async () => {
    // user 0 interacted with {0, 2, 3, 4} → negatives {1, 5}; user 2 with {0, 5} → negatives {1, 2, 3, 4}
    const results = await evaluateModel(await fitted(), train, test, {
      metrics: ['hr@1', 'mrr', 'auc', 'ndcg@2'],
      protocols: ['sampled:2'],
    });
    const s = results[0]!;
    expect(s.protocol).toBe('sampled:2');
    expect(s.negatives).toBe(2);
    expect(s.cases).toBe(3);
    // user 0: positives 2, 4 (0.5) beat 1 (0.1), 5 (0.2) → rank 1; user 2: 5 (0.6) beats anything
    expect(s.metrics['hr@1']).toBe(1);
    expect(s.metrics.mrr).toBe(1);
    expect(s.metrics.auc).toBe(1);
  });

  it('counts ties against the positive when the negative has a lower index', async () => {
    const flat = new TableModel([
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ]);
    await flat.fit(train);
    const [s] = await evaluateModel(flat, train, test, { metrics: ['mrr', 'auc'], protocols: ['sampled:2'] });
    // user 0: positive 2 vs {1, 5} → rank 2; positive 4 vs {1, 5} → rank 2 → user mean 1/2
    // user 2: 4 negatives drawn from {1,2,3,4}, 2 of them, all below index 5 → rank 3
    expect(s!.metrics.mrr).toBeCloseTo((1 / 2 + 1 / 3) / 2, 15);
    expect(s!.metrics.auc).toBe(0.5);
  });

  it('is seeded, and refuses more negatives than the user has items without interactions', async () => {
    const m = await fitted();
    const a = await evaluateModel(m, train, test, { metrics: ['auc'], protocols: ['sampled:1'], seed: 3 });
    const b = await evaluateModel(m, train, test, { metrics: ['auc'], protocols: ['sampled:1'], seed: 3 });
    expect(a[0]!.perUser.auc!.values).toEqual(b[0]!.perUser.auc!.values);
    await expect(
      evaluateModel(m, train, test, { metrics: ['auc'], protocols: ['sampled:3'] }),
    ).rejects.toThrow(/user 10 has only 2 items/);
  });

  it('runs several protocols on one model, each result labelled', async () => {
    const results = await evaluateModel(await fitted(), train, test, {
      metrics: ['rmse', 'hr@1', 'coverage@1'],
      protocols: ['full', 'sampled:2'],
    });
    expect(results.map((r) => r.protocol)).toEqual(['rating', 'full', 'sampled:2']);
    expect(Object.keys(results[1]!.metrics)).toEqual(['hr@1', 'coverage@1']);
    expect(Object.keys(results[2]!.metrics)).toEqual(['hr@1']); // coverage describes full lists only
    expect(results[0]!.metrics.rmse).toBeGreaterThan(0);
  });

  it('refuses what a protocol cannot compute', async () => {
    const m = await fitted();
    await expect(
      evaluateModel(m, train, test, { metrics: ['coverage'], protocols: ['sampled:2'] }),
    ).rejects.toThrow(ConfigError);
    await expect(evaluateModel(m, train, test, { metrics: ['diversity'] })).rejects.toThrow(/genres/);
    await expect(evaluateModel(m, train, data([]), { metrics: ['ndcg@10'] })).rejects.toThrow(/empty/);
    await expect(evaluateModel(m, train, test, { metrics: ['ndcg@2'], relevance: 6 })).rejects.toThrow(
      /no test user has a relevant/,
    );
  });
});

describe('factor models use the same exact scores in both ranking protocols', () => {
  it('full and sampled agree on a model exposing batchScorer()', async () => {
    const F = 2;
    const scorer: FactorScorer = {
      kind: 'factors',
      factors: F,
      userFactors: Float32Array.from([1, 0, 0, 1, 0.5, 0.5]),
      itemFactors: Float32Array.from([0.9, 0.1, 0.1, 0.9, 0.5, 0.5, 0.8, 0.3, 0.5, 0.5, 0.2, 0.6]),
    };
    class FactorTable extends TableModel {
      batchScorer(): FactorScorer {
        return scorer;
      }
    }
    const m = new FactorTable(table);
    await m.fit(train);
    const [full, sampled] = await evaluateModel(m, train, test, {
      metrics: ['mrr'],
      protocols: ['full', 'sampled:2'],
    });
    expect(full!.scoring).toBe('factors');
    expect(sampled!.scoring).toBe('factors');
    // user 0 scores: [.9, .1, .5, .8, .5, .2] → same ranking as the table; user 2: [.5, .5, .5, .55, .5, .4]
    // full: user 0 best relevant (2) at rank 2; user 2: relevant 5 (0.4) below 1,2,3,4 → rank 5
    expect(full!.metrics.mrr).toBeCloseTo((1 / 2 + 1 / 5) / 2, 6);
  });
});
