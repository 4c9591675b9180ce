import { describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { evaluate } from '../../lib/workflows/evaluate';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { useMlflowServer } from '../helpers/mlflow';

describe.runIf(HAS_ML100K)('evaluation results in MLflow carry their protocol', () => {
  const server = useMlflowServer();

  it('logs ranking metrics under protocol-prefixed keys, with protocols and threshold as params', async () => {
    const client = new MlflowClient({ trackingUri: server().url, outboxDir: false });
    const result = await evaluate({
      dataset: 'ml-100k',
      split: 'u1',
      model: 'popularity',
      metrics: ['ndcg@10', 'hr@10', 'coverage'],
      protocols: ['full', 'sampled:50'],
      relevance: 4,
      dataDir: realDataDir(),
      tracking: client,
      source: 'test',
    });
    expect(result.runId).toBeTruthy();
    const run = await client.getRun(result.runId!);
    const metrics = Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));
    expect(metrics['full/ndcg_at_10']).toBeCloseTo(result.metrics['full/ndcg@10']!, 12);
    expect(metrics['full/coverage']).toBeCloseTo(result.metrics['full/coverage']!, 12);
    expect(metrics['sampled-50/hr_at_10']).toBeCloseTo(result.metrics['sampled:50/hr@10']!, 12);
    expect(metrics['sampled-50/coverage']).toBeUndefined();
    expect(metrics['full/users']).toBe(459);
    const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
    expect(params['eval.protocols']).toBe('full,sampled:50');
    expect(params['eval.relevance']).toBe('4');
  });
});
