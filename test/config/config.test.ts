import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ExperimentConfigError,
  loadExperimentConfig,
  parseExperimentConfig,
  parseExperimentYaml,
} from '../../lib/config/load';
import type { ExperimentConfig, ExperimentConfigInput } from '../../lib/config/schema';
import { MODELS } from '../../lib/models/registry';
import { projectRoot } from '../../lib/util/project';

const BASE = {
  name: 'unit',
  dataset: 'ml-100k',
  split: 'u1',
  metrics: ['rmse'],
  models: [{ model: 'svd' }],
};

/** The error a config raises (fails the test when it is valid). */
function problems(input: unknown): ExperimentConfigError {
  try {
    parseExperimentConfig(input);
  } catch (err) {
    if (err instanceof ExperimentConfigError) return err;
    throw err;
  }
  throw new Error('the config was accepted');
}

function issueAt(err: ExperimentConfigError, path: string): string {
  const found = err.issues.find((i) => i.path === path);
  if (!found) throw new Error(`no problem at ${path}; problems:\n${err.message}`);
  return found.message;
}

describe('experiment config validation: each bad case names the field and what is allowed', () => {
  it('unknown model: lists every registry name', () => {
    const err = problems({ ...BASE, models: [{ model: 'svdd' }] });
    const msg = issueAt(err, 'models[0].model');
    expect(msg).toContain('unknown model "svdd"');
    for (const name of MODELS.keys()) expect(msg).toContain(name);
    expect(err.message).toContain('models[0].model');
  });

  it('unknown metric: lists the metric grammar', () => {
    const err = problems({ ...BASE, metrics: ['rmse', 'ndcg'] });
    const msg = issueAt(err, 'metrics[1]');
    expect(msg).toContain('"ndcg" needs a list length');
    expect(msg).toContain('valid metrics: rmse, mae, precision@K');
    expect(issueAt(problems({ ...BASE, metrics: ['accuracy'] }), 'metrics[0]')).toContain(
      'unknown metric "accuracy"',
    );
  });

  it('wrong types name the field and the expected type', () => {
    const err = problems({
      ...BASE,
      seed: 'forty-two',
      models: [{ model: 'svd', params: { factors: 'ten' } }],
    });
    expect(issueAt(err, 'seed')).toBe('Expected number, received string');
    // Structure first: the params are checked once the shape is right.
    expect(err.issues).toHaveLength(1);
    const err2 = problems({ ...BASE, models: [{ model: 'svd', params: { factors: 'ten' } }] });
    expect(issueAt(err2, 'models[0].params.factors')).toBe('Expected number, received string');
    const err3 = problems({ ...BASE, search: { strategy: 'bayes' } });
    expect(issueAt(err3, 'search.strategy')).toContain("Expected 'grid' | 'random', received 'bayes'");
  });

  it('empty grid: a space with no values', () => {
    const err = problems({ ...BASE, models: [{ model: 'svd', space: { factors: [] } }] });
    expect(issueAt(err, 'models[0].space.factors')).toContain(
      'empty list: a search space needs at least one value',
    );
    const err2 = problems({ ...BASE, models: [{ model: 'svd', space: { factors: { choice: [] } } }] });
    expect(issueAt(err2, 'models[0].space.factors')).toContain('empty list');
  });

  it("unknown param: lists that model's parameters (fixed and searched)", () => {
    const err = problems({ ...BASE, models: [{ model: 'svd', params: { foo: 1 }, space: { bar: [1, 2] } }] });
    const shape = Object.keys(MODELS.get('svd')!.schema.shape);
    for (const path of ['models[0].params.foo', 'models[0].space.bar']) {
      const msg = issueAt(err, path);
      expect(msg).toContain('model svd has no parameter');
      expect(msg).toContain(`parameters: ${shape.join(', ')}`);
    }
  });

  it("space values are checked against the model's own schema", () => {
    const err = problems({ ...BASE, models: [{ model: 'svd', space: { factors: [10, 0] } }] });
    expect(issueAt(err, 'models[0].space.factors')).toMatch(
      /value 0 is not allowed: Number must be greater than or equal to 1/,
    );
    const err2 = problems({
      ...BASE,
      search: { strategy: 'random', trials: 3 },
      models: [{ model: 'svd', space: { factors: { uniform: [10, 100] } } }],
    });
    expect(issueAt(err2, 'models[0].space.factors')).toContain('use {int: [low, high]}');
    const err3 = problems({ ...BASE, models: [{ model: 'svd', space: { kernel: ['js', 'gpu'] } }] });
    expect(issueAt(err3, 'models[0].space.kernel')).toContain("Expected 'auto' | 'js', received 'gpu'");
    const err4 = problems({ ...BASE, models: [{ model: 'svd', params: { factors: 0 } }] });
    expect(issueAt(err4, 'models[0].params.factors')).toContain('greater than or equal to 1');
  });

  it('grid search refuses real ranges without steps; random search needs trials', () => {
    const err = problems({
      ...BASE,
      models: [{ model: 'svd', space: { learningRate: { uniform: [0.001, 0.01] } } }],
    });
    expect(issueAt(err, 'models[0].space.learningRate')).toContain(
      'a real range cannot be enumerated by grid search',
    );
    const err2 = problems({
      ...BASE,
      search: { strategy: 'random' },
      models: [{ model: 'svd', space: { learningRate: { logUniform: [0.001, 0.01] } } }],
    });
    expect(issueAt(err2, 'search.trials')).toContain('random search needs the number of configurations');
    const err3 = problems({ ...BASE, models: [{ model: 'svd', space: { reg: { logUniform: [0, 1] } } }] });
    expect(issueAt(err3, 'models[0].space.reg.logUniform')).toContain('bounds must be positive');
  });

  it('early stopping needs a validation part and a metric the model reports', () => {
    const err = problems({ ...BASE, earlyStopping: { metric: 'validation_rmse' } });
    expect(issueAt(err, 'earlyStopping')).toContain('add validation: {split: random:0.1}');
    const err2 = problems({
      ...BASE,
      metrics: ['ndcg@10'],
      validation: { split: 'random:0.1' },
      earlyStopping: { metric: 'validation_rmse' },
      models: [{ model: 'ials' }],
    });
    expect(issueAt(err2, 'models[0].model')).toContain('reported by rating models only');
  });

  it('metrics that cannot score a model, a selection outside the metrics, splits for another dataset', () => {
    expect(issueAt(problems({ ...BASE, models: [{ model: 'ials' }] }), 'models[0].model')).toContain(
      'ials is a ranking model',
    );
    expect(issueAt(problems({ ...BASE, select: 'mae' }), 'select')).toContain('allowed: rmse');
    expect(issueAt(problems({ ...BASE, dataset: 'ml-latest-small' }), 'split')).toContain(
      'exists only for ml-100k',
    );
    expect(issueAt(problems({ ...BASE, split: 'random:2' }), 'split')).toContain('strictly between 0 and 1');
    expect(issueAt(problems({ ...BASE, dataset: 'ml-99k' }), 'dataset')).toContain(
      'unknown dataset "ml-99k"',
    );
    expect(issueAt(problems({ ...BASE, crossValidation: { folds: 5 } }), 'crossValidation')).toContain(
      'not both',
    );
    expect(
      issueAt(
        problems({ ...BASE, protocol: 'sampled:x', metrics: ['ndcg@10'], models: [{ model: 'ials' }] }),
        'protocol',
      ),
    ).toContain('expected full or sampled:<N>');
  });

  it('unknown keys list the allowed ones; duplicate labels are refused', () => {
    const err = problems({ ...BASE, splits: ['u1'] });
    expect(issueAt(err, 'splits')).toContain('allowed: name, title, description, dataset, seed, split');
    const err2 = problems({ ...BASE, models: [{ model: 'svd', parmas: {} }] });
    expect(issueAt(err2, 'models[0].parmas')).toContain('allowed: model, label, description, params, space');
    const err3 = problems({ ...BASE, models: [{ model: 'svd' }, { model: 'svd' }] });
    expect(issueAt(err3, 'models[1].model')).toContain('label "svd" is already used by models[0]');
  });

  it('reports every problem at once', () => {
    const err = problems({
      ...BASE,
      metrics: ['rmse', 'nope'],
      models: [{ model: 'svdd' }, { model: 'svd', params: { foo: 1 }, space: { factors: [] } }],
    });
    expect(err.issues.map((i) => i.path).sort()).toEqual(
      ['metrics[1]', 'models[0].model', 'models[1].params.foo', 'models[1].space.factors'].sort(),
    );
  });

  it('YAML errors and problems carry line numbers', () => {
    const yaml = [
      'name: lines',
      'dataset: ml-100k',
      'split: u1',
      'metrics: [rmse]',
      'models:',
      '  - model: svd',
      '  - model: svdd',
      '    params:',
      '      factors: 0',
    ].join('\n');
    const err = (() => {
      try {
        parseExperimentYaml(yaml, 'lines.yaml');
      } catch (e) {
        return e as ExperimentConfigError;
      }
      throw new Error('accepted');
    })();
    expect(err).toBeInstanceOf(ExperimentConfigError);
    expect(err.issues).toEqual([
      { path: 'models[1].model', line: 7, message: expect.stringContaining('unknown model "svdd"') },
    ]);
    expect(err.message).toContain(
      'lines.yaml: invalid experiment config (1 problem):\n  line 7, models[1].model',
    );
    expect(() => parseExperimentYaml('name: x\nname: y\n', 'dup.yaml')).toThrow(/line 2/);
    expect(() => parseExperimentYaml('models: [\n', 'broken.yaml')).toThrow(
      /broken\.yaml: invalid experiment config/,
    );
  });
});

describe('experiment config normalisation', () => {
  it('fills defaults and canonical names', () => {
    const c = parseExperimentConfig({
      name: 'n',
      dataset: 'ml-latest-small',
      split: 'temporal-user:0.2',
      metrics: ['NDCG@10', 'recall@10', 'coverage'],
      models: [{ model: 'ials', space: { factors: [32, 64] } }],
    });
    expect(c.seed).toBe(42);
    expect(c.splits).toEqual(['temporal-user:0.2']);
    expect(c.metrics).toEqual(['ndcg@10', 'recall@10', 'coverage']);
    expect(c.protocols).toEqual(['full']);
    expect(c.relevance).toBe(4);
    expect(c.select).toEqual({ metric: 'ndcg@10', goal: 'max' });
    expect(c.search).toEqual({ strategy: 'grid', trials: null, parallel: null });
    expect(c.earlyStopping).toBeNull();
    expect(c.validation).toBeNull();
    expect(c.models[0]).toMatchObject({ model: 'ials', label: 'ials', params: {}, earlyStopping: true });
    expect(c.mlflow.experiment).toBe('reelab-n');
    expect(c.report.title).toBe('n');
  });

  it('cross-validation and validation folds expand to kfold splits; relevance "all" is null', () => {
    const c = parseExperimentConfig({
      ...BASE,
      split: undefined,
      crossValidation: { folds: 3 },
      validation: { folds: 2 },
      metrics: ['rmse', 'ndcg@5'],
      relevance: 'all',
      earlyStopping: { patience: 2 },
    });
    expect(c.splits).toEqual(['kfold:3:1', 'kfold:3:2', 'kfold:3:3']);
    expect(c.splitKind).toBe('crossValidation');
    expect(c.validation).toEqual(['kfold:2:1', 'kfold:2:2']);
    expect(c.relevance).toBeNull();
    expect(c.select).toEqual({ metric: 'rmse', goal: 'min' });
    expect(c.earlyStopping).toEqual({ metric: 'validation_rmse', goal: 'min', patience: 2, minDelta: 0 });
  });

  it('every committed experiment config is valid', () => {
    const dir = join(projectRoot(), 'experiments');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(
      expect.arrayContaining([
        'ml100k-rating-leaderboard.yaml',
        'ml-latest-small-topn.yaml',
        'grid-svd.yaml',
        'grid-ials.yaml',
      ]),
    );
    for (const f of files) {
      const loaded = loadExperimentConfig(join(dir, f));
      expect(loaded.config.name).toBe(f.replace(/\.yaml$/, ''));
      expect(loaded.path).toBe(`experiments/${f}`);
      expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('types: the input type takes a notebook-style object; the normalised type is explicit', () => {
    const input = {
      name: 'typed',
      dataset: 'ml-100k',
      split: ['u1', 'u2'],
      metrics: ['rmse'],
      search: { strategy: 'random', trials: 4 },
      models: [
        { model: 'svd', params: { epochs: 10 }, space: { learningRate: { logUniform: [0.001, 0.01] } } },
      ],
    } satisfies ExperimentConfigInput;
    const c = parseExperimentConfig(input);
    expectTypeOf(c).toEqualTypeOf<ExperimentConfig>();
    expectTypeOf(c.splits).toEqualTypeOf<string[]>();
    expectTypeOf(c.select.goal).toEqualTypeOf<'min' | 'max'>();
    expect(c.search).toEqual({ strategy: 'random', trials: 4, parallel: null });
  });
});
