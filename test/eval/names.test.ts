import { describe, expect, it } from 'vitest';
import { mlflowMetricKey, parseMetric, parseMetrics } from '../../lib/eval/names';
import { parseProtocol } from '../../lib/eval/protocols';
import { ConfigError } from '../../lib/util/errors';

describe('metric names', () => {
  it('parses every contract name', () => {
    const names = 'rmse mae precision@10 recall@5 ndcg@10 map@10 mrr hr@10 auc coverage novelty'.split(' ');
    const specs = parseMetrics(names);
    expect(specs.map((s) => s.name)).toEqual(names);
    expect(specs.map((s) => s.family)).toEqual([
      'rating',
      'rating',
      'accuracy',
      'accuracy',
      'accuracy',
      'accuracy',
      'accuracy',
      'accuracy',
      'accuracy',
      'beyond',
      'beyond',
    ]);
    expect(parseMetric('NDCG@20')).toEqual({ name: 'ndcg@20', kind: 'ndcg', k: 20, family: 'accuracy' });
    expect(parseMetric('mrr')).toMatchObject({ kind: 'mrr', k: null });
    expect(parseMetric('mrr@5')).toMatchObject({ kind: 'mrr', k: 5 });
    expect(parseMetric('coverage')).toMatchObject({ name: 'coverage', k: 10 });
    expect(parseMetric('diversity@5')).toMatchObject({ name: 'diversity@5', k: 5, family: 'beyond' });
    expect(parseMetric('popularity-bias')).toMatchObject({ kind: 'popularity-bias', k: 10 });
    expect(parseMetric('ndcg-graded@10')).toMatchObject({ kind: 'ndcg-graded', k: 10 });
  });

  it('rejects unknown names, missing or bad K with a ConfigError listing the valid names', () => {
    for (const bad of ['ndcg', 'precision@0', 'rmse@10', 'auc@5', 'f1@10', 'hr@-1', 'ndcg@ten', '']) {
      let err: unknown;
      try {
        parseMetrics([bad]);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain('valid metrics: rmse, mae, precision@K');
    }
    expect(() => parseMetrics([])).toThrow(ConfigError);
  });

  it('removes duplicates and builds MLflow-safe keys', () => {
    expect(parseMetrics(['ndcg@10', 'NDCG@10']).length).toBe(1);
    expect(mlflowMetricKey('ndcg@10')).toBe('ndcg_at_10');
    expect(mlflowMetricKey('hr@10', 'sampled:100')).toBe('sampled-100/hr_at_10');
    expect(mlflowMetricKey('auc', 'full')).toBe('full/auc');
  });

  it('parses protocols', () => {
    expect(parseProtocol('full')).toEqual({ kind: 'full' });
    expect(parseProtocol('sampled:100')).toEqual({ kind: 'sampled', negatives: 100 });
    for (const bad of ['sampled', 'sampled:0', 'sampled:x', 'loo'])
      expect(() => parseProtocol(bad)).toThrow(ConfigError);
  });
});
