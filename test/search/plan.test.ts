import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../lib/config/load';
import type { ExperimentConfigInput } from '../../lib/config/schema';
import { bestConfig, configScores, planFinal, planSearch, selectKey } from '../../lib/search/plan';
import { canonicalJson, hashValue, seedFromHash } from '../../lib/util/hash';

const INPUT = {
  name: 'plan',
  dataset: 'ml-100k',
  split: ['u1', 'u2'],
  seed: 5,
  validation: { split: 'random:0.1' },
  metrics: ['rmse', 'mae'],
  earlyStopping: { metric: 'validation_rmse', patience: 2 },
  models: [
    { model: 'baseline' },
    { model: 'svd', params: { epochs: 30 }, space: { factors: [10, 20, 30], learningRate: [0.005, 0.01] } },
    { model: 'knn-user', label: 'knn' },
  ],
} satisfies ExperimentConfigInput;

const plan = (input: ExperimentConfigInput, sha: string | null = 'abc') =>
  planSearch({ config: parseExperimentConfig(input), datasetSha256: sha });

describe('canonical hashing', () => {
  it('ignores key order and undefined members, rejects non-finite numbers', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}',
    );
    expect(hashValue({ a: 1, b: 2 })).toBe(hashValue({ b: 2, a: 1 }));
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/\$\.a/);
    expect(seedFromHash('ffffffff00')).toBe(0x7fffffff);
    expect(seedFromHash('0000000a')).toBe(10);
  });
});

describe('search plan', () => {
  it('one trial per configuration × split × validation part; hashes unique and stable', () => {
    const { sets, trials } = plan(INPUT);
    expect(sets.map((s) => s.length)).toEqual([1, 6, 1]);
    expect(trials).toHaveLength((1 + 6 + 1) * 2);
    expect(trials.map((t) => t.index)).toEqual(trials.map((_, i) => i));
    expect(new Set(trials.map((t) => t.hash)).size).toBe(trials.length);
    expect(plan(INPUT).trials.map((t) => t.hash)).toEqual(trials.map((t) => t.hash));
    const svd = trials.filter((t) => t.model === 'svd');
    expect(svd[0]).toMatchObject({
      split: 'u1',
      validation: 'random:0.1',
      searched: { factors: 10, learningRate: 0.005 },
      role: 'search',
    });
    // resolved params: schema defaults applied
    expect(svd[0]!.params).toMatchObject({
      epochs: 30,
      factors: 10,
      learningRate: 0.005,
      reg: 0.02,
      initStd: 0.1,
    });
    expect(svd[0]!.spec.earlyStopping).toEqual({
      metric: 'validation_rmse',
      goal: 'min',
      patience: 2,
      minDelta: 0,
      epochParam: 'epochs',
    });
    // knn has no epoch parameter: no early stopping
    expect(trials.find((t) => t.label === 'knn')!.spec.earlyStopping).toBeNull();
  });

  it('hashes change with what decides the numbers, not with labels, titles or parallelism', () => {
    const base = plan(INPUT).trials.map((t) => t.hash);
    const same = plan({
      ...INPUT,
      title: 'another title',
      description: 'x',
      search: { parallel: 1 },
      mlflow: { experiment: 'elsewhere' },
      report: { bootstrap: 200 },
    }).trials.map((t) => t.hash);
    expect(same).toEqual(base);
    const changed = (input: ExperimentConfigInput, sha = 'abc') => plan(input, sha).trials.map((t) => t.hash);
    expect(changed({ ...INPUT, seed: 6 }).some((h) => base.includes(h))).toBe(false);
    expect(changed(INPUT, 'other-data').some((h) => base.includes(h))).toBe(false);
    expect(changed({ ...INPUT, metrics: ['rmse'] }).some((h) => base.includes(h))).toBe(false);
    expect(changed({ ...INPUT, validation: { split: 'random:0.2' } }).some((h) => base.includes(h))).toBe(
      false,
    );
    expect(
      changed({ ...INPUT, earlyStopping: { patience: 3 } }).filter((h) => base.includes(h)),
    ).toHaveLength(2 * 1);
    // only the knn trials survive a change of early stopping (they do not early-stop)
  });

  it('model seeds: derived from the trial (same for a config on one split, different across splits), explicit ones kept', () => {
    const { trials } = plan(INPUT);
    const svd = trials.filter((t) => t.model === 'svd');
    const u1 = svd.filter((t) => t.split === 'u1').map((t) => t.params.seed);
    const u2 = svd.filter((t) => t.split === 'u2').map((t) => t.params.seed);
    expect(new Set(u1).size).toBe(6);
    expect(u1.every((s, i) => s !== u2[i])).toBe(true);
    expect(u1.every((s) => Number.isInteger(s) && (s as number) >= 0)).toBe(true);
    const fixed = plan({ ...INPUT, models: [{ model: 'svd', params: { seed: 3 } }] }).trials;
    expect(fixed.map((t) => t.params.seed)).toEqual([3, 3]);
    // baseline has no seed parameter
    expect('seed' in trials[0]!.params).toBe(false);
  });

  it('selection: mean score per configuration, failures excluded, ties to the lower index', () => {
    const t = (config: number, v: number | undefined) => ({
      entry: 0,
      config,
      role: 'search' as const,
      metrics: v === undefined ? null : { rmse: v },
    });
    const scores = configScores(
      [t(0, 0.9), t(0, 0.92), t(1, 0.91), t(1, 0.91), t(2, 0.8), t(2, undefined)],
      0,
      'rmse',
    );
    expect([...scores]).toEqual([
      [0, 0.91],
      [1, 0.91],
      [2, null],
    ]);
    expect(bestConfig(scores, 'min')).toBe(0);
    expect(
      bestConfig(
        new Map([
          [0, 0.1],
          [1, 0.3],
        ]),
        'max',
      ),
    ).toBe(1);
    expect(bestConfig(new Map([[0, null]]), 'max')).toBeNull();
    expect(
      selectKey(
        parseExperimentConfig({
          ...INPUT,
          metrics: ['ndcg@10'],
          select: 'ndcg@10',
          earlyStopping: false,
          models: [{ model: 'ials' }],
        }),
      ),
    ).toBe('full/ndcg_at_10');
  });

  it('final trials: the best configuration per entry on every split, epochs from its validation trials', () => {
    const config = parseExperimentConfig(INPUT);
    const { sets, trials } = planSearch({ config, datasetSha256: 'abc' });
    const withEpochs = trials.map((t) => ({
      ...t,
      bestEpoch: t.model === 'svd' ? (t.split === 'u1' ? 7 : 12) : null,
    }));
    const finals = planFinal({ config, datasetSha256: 'abc' }, sets, [0, 3, 0], withEpochs, trials.length);
    expect(finals).toHaveLength(3 * 2);
    const svd = finals.filter((f) => f.model === 'svd');
    expect(svd.map((f) => [f.split, f.params.epochs, f.validation, f.role])).toEqual([
      ['u1', 7, null, 'final'],
      ['u2', 12, null, 'final'],
    ]);
    expect(svd[0]!.searched).toEqual({ factors: 20, learningRate: 0.01 });
    // same initialisation as the search trials that chose it
    const chooser = trials.find((t) => t.model === 'svd' && t.config === 3 && t.split === 'u1')!;
    expect(svd[0]!.params.seed).toBe(chooser.params.seed);
    expect(svd[0]!.spec.perUser).toBe(true);
    expect(chooser.spec.perUser).toBe(false);
    expect(finals.map((f) => f.index)).toEqual([16, 17, 18, 19, 20, 21]);
  });

  it('random search draws are part of the plan: same config, same draws; another seed, other draws', () => {
    const input = {
      ...INPUT,
      search: { strategy: 'random', trials: 5 },
      models: [
        { model: 'svd', space: { learningRate: { logUniform: [0.001, 0.1] }, factors: { int: [5, 50] } } },
      ],
    } satisfies ExperimentConfigInput;
    const a = plan(input).sets[0]!.map((s) => s.searched);
    expect(a).toHaveLength(5);
    expect(plan(input).sets[0]!.map((s) => s.searched)).toEqual(a);
    expect(plan({ ...input, seed: 99 }).sets[0]!.map((s) => s.searched)).not.toEqual(a);
  });
});
