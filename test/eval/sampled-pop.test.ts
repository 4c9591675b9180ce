/**
 * The popularity-sampled protocol (`sampled-pop:<N>`): the sampler's distribution (∝ training popularity,
 * without replacement, never an excluded or never-seen item), the protocol's labels and determinism, and the
 * leakage note evaluateModel attaches to results of a split that lets training see the future.
 */
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { makeSplit } from '../../lib/data/split';
import { generateSynthetic } from '../../lib/data/synthetic';
import { evaluateModel, PopularitySampler, parseProtocol, protocolLabel } from '../../lib/eval/protocols';
import { createModel } from '../../lib/models/registry';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';

describe('PopularitySampler', () => {
  const weights = [0, 1, 2, 3, 4, 10, 0, 5];
  const total = weights.reduce((a, b) => a + b, 0);

  it('single draws follow weight / Σ weight (chi-square test), zero-weight items never drawn', () => {
    const sampler = new PopularitySampler(weights);
    const rng = new Rng(11);
    const stamp = new Int32Array(weights.length);
    const out = new Int32Array(1);
    const counts = new Array<number>(weights.length).fill(0);
    const draws = 50_000;
    for (let d = 0; d < draws; d++) {
      sampler.draw(rng, 1, stamp, 7, out);
      counts[out[0]!]!++;
    }
    expect(counts[0]).toBe(0);
    expect(counts[6]).toBe(0);
    let chi2 = 0;
    for (let i = 0; i < weights.length; i++) {
      if (weights[i] === 0) continue;
      const e = (draws * weights[i]!) / total;
      chi2 += (counts[i]! - e) ** 2 / e;
    }
    // 5 degrees of freedom: P(χ² > 20.5) ≈ 0.001
    expect(chi2).toBeLessThan(20.5);
    expect([...stamp].every((s) => s === 0)).toBe(true);
  });

  it('draws without replacement like successive weighted draws, and skips excluded items', () => {
    const sampler = new PopularitySampler(weights);
    const rng = new Rng(3);
    const stamp = new Int32Array(weights.length);
    stamp[5] = 9; // the heaviest item is the user's: never drawn
    const out = new Int32Array(2);
    const firsts = new Array<number>(weights.length).fill(0);
    const pairFreq = new Map<string, number>();
    const draws = 40_000;
    for (let d = 0; d < draws; d++) {
      sampler.draw(rng, 2, stamp, 9, out);
      expect(out[0]).not.toBe(out[1]);
      expect(out[0]).not.toBe(5);
      expect(out[1]).not.toBe(5);
      firsts[out[0]!]!++;
      const key = `${out[0]},${out[1]}`;
      pairFreq.set(key, (pairFreq.get(key) ?? 0) + 1);
    }
    expect(stamp[5]).toBe(9);
    // P(first = 7) = 5/15; P(first = 7, second = 4) = 5/15 · 4/10
    const allowed = total - 10;
    expect(firsts[7]! / draws).toBeCloseTo(5 / allowed, 2);
    expect((pairFreq.get('7,4') ?? 0) / draws).toBeCloseTo((5 / allowed) * (4 / (allowed - 5)), 2);
  });

  it('falls back to exact keys when little mass is allowed, still without excluded items', () => {
    const w = [1000, 1000, 1000, 1, 1, 1];
    const sampler = new PopularitySampler(w);
    const stamp = Int32Array.from([4, 4, 4, 0, 0, 0]);
    const out = new Int32Array(3);
    sampler.draw(new Rng(1), 3, stamp, 4, out);
    expect([...out].sort()).toEqual([3, 4, 5]);
  });
});

describe('sampled-pop protocol', () => {
  it('parses and labels', () => {
    expect(parseProtocol('sampled-pop:50')).toEqual({ kind: 'sampled-pop', negatives: 50 });
    expect(protocolLabel(parseProtocol('sampled-pop:50'))).toBe('sampled-pop:50');
    expect(() => parseProtocol('sampled-pop:0')).toThrow(ConfigError);
    expect(() => parseProtocol('sampled-pop')).toThrow(/sampled-pop:<N>/);
  });

  it('runs beside the uniform one: seeded, and popularity is hurt more by popular negatives', async () => {
    const data = generateSynthetic({ ratings: 6000, users: 120, items: 300, seed: 4 }).ratings;
    const split = makeSplit(data, 'temporal-user:0.2', 'synthetic');
    const model = createModel('popularity');
    await model.fit(split.train);
    const options = {
      metrics: ['hr@10', 'auc'],
      protocols: ['sampled:50', 'sampled-pop:50'],
      relevance: null,
      seed: 5,
    };
    const [uniform, pop] = await evaluateModel(model, split.train, split.test, options);
    expect(uniform!.protocol).toBe('sampled:50');
    expect(uniform!.sampler).toBe('uniform');
    expect(pop!.protocol).toBe('sampled-pop:50');
    expect(pop!.sampler).toBe('popularity');
    expect(pop!.negatives).toBe(50);
    expect(pop!.leakage).toBeUndefined();
    expect(pop!.metrics.auc!).toBeLessThan(uniform!.metrics.auc!);
    const again = await evaluateModel(model, split.train, split.test, options);
    expect(again[1]!.metrics).toEqual(pop!.metrics);
  });

  it('says so when a user has too few drawable items', async () => {
    const ids = (n: number) => IdMap.fromSorted(Int32Array.from({ length: n }, (_, i) => i + 1));
    // items 2 and 3 have no training interactions: never drawable
    const train = new Interactions({
      users: Int32Array.from([0, 1]),
      items: Int32Array.from([0, 1]),
      ratings: Float32Array.from([5, 5]),
      userIds: ids(2),
      itemIds: ids(4),
    });
    const test = new Interactions({
      users: Int32Array.from([0]),
      items: Int32Array.from([2]),
      ratings: Float32Array.from([5]),
      userIds: ids(2),
      itemIds: ids(4),
    });
    const model = createModel('popularity');
    await model.fit(train);
    await expect(
      evaluateModel(model, train, test, { metrics: ['hr@1'], protocols: ['sampled-pop:2'] }),
    ).rejects.toThrow(/only 1 items .*with training interactions/);
  });
});

describe('leakage note', () => {
  it('a random split of timestamped data: every result carries it and stderr gets one warning', async () => {
    const data = generateSynthetic({ ratings: 3000, users: 60, items: 120, seed: 2 }).ratings;
    const split = makeSplit(data, 'random:0.2', 'synthetic');
    expect(split.leakage).not.toBeNull();
    const model = createModel('popularity');
    await model.fit(split.train);
    const warnings: string[] = [];
    const options = {
      metrics: ['ndcg@10'],
      protocols: ['full', 'sampled-pop:20'],
      warn: (m: string) => warnings.push(m),
    };
    const results = await evaluateModel(model, split.train, split.test, options);
    for (const r of results) expect(r.leakage).toEqual(split.leakage);
    await evaluateModel(model, split.train, split.test, options);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/training sees the future of \d+ of \d+ test users/);
  });

  it('a temporal split carries none', async () => {
    const data = generateSynthetic({ ratings: 3000, users: 60, items: 120, seed: 2 }).ratings;
    const split = makeSplit(data, 'temporal-user:0.2', 'synthetic');
    const model = createModel('popularity');
    await model.fit(split.train);
    const warnings: string[] = [];
    const [r] = await evaluateModel(model, split.train, split.test, {
      metrics: ['ndcg@10'],
      warn: (m) => warnings.push(m),
    });
    expect(r!.leakage).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});
