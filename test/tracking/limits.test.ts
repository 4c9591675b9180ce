import { describe, expect, it } from 'vitest';
import { artifactProxyRoot, checkArtifactPath } from '../../lib/tracking/artifacts';
import {
  checkParamValue,
  checkRecordKey,
  type LogBatch,
  MLFLOW_LIMITS,
  metricIdentity,
  normalizeMetricValue,
  splitBatch,
} from '../../lib/tracking/limits';
import { backoffDelay, isTransientFailure, parseRetryAfter } from '../../lib/tracking/retry';
import { ConfigError } from '../../lib/util/errors';

function records(metrics: number, params: number, tags: number, valueChars = 3): LogBatch {
  return {
    metrics: Array.from({ length: metrics }, (_, i) => ({
      key: 'loss',
      value: i / 7,
      timestamp: 1000 + i,
      step: i,
    })),
    params: Array.from({ length: params }, (_, i) => ({ key: `p${i}`, value: 'v'.repeat(valueChars) })),
    tags: Array.from({ length: tags }, (_, i) => ({ key: `t${i}`, value: 'x' })),
  };
}

describe('log-batch splitting', () => {
  it('keeps every batch within the per-kind and total limits and loses nothing', () => {
    const input = records(2500, 150, 120);
    const batches = splitBatch(input);
    // params first (100 + 50), then tags fill up to 100 per batch, then metrics up to 1000 entities per batch.
    expect(batches.map((b) => [b.params.length, b.tags.length, b.metrics.length])).toEqual([
      [100, 0, 0],
      [50, 100, 0],
      [0, 20, 980],
      [0, 0, 1000],
      [0, 0, 520],
    ]);
    for (const b of batches) {
      expect(b.params.length).toBeLessThanOrEqual(MLFLOW_LIMITS.paramsPerBatch);
      expect(b.tags.length).toBeLessThanOrEqual(MLFLOW_LIMITS.tagsPerBatch);
      expect(b.metrics.length).toBeLessThanOrEqual(MLFLOW_LIMITS.metricsPerBatch);
      expect(b.params.length + b.tags.length + b.metrics.length).toBeLessThanOrEqual(
        MLFLOW_LIMITS.entitiesPerBatch,
      );
    }
    expect(batches.flatMap((b) => b.metrics)).toEqual(input.metrics);
    expect(batches.flatMap((b) => b.params)).toEqual(input.params);
    expect(batches.flatMap((b) => b.tags)).toEqual(input.tags);
  });

  it('splits by request size when values are large', () => {
    // 100 params of 6000 chars are ~600 KB: with a 1 MB limit they cannot all share one request with 100 more.
    const input = records(0, 300, 0, 6000);
    const batches = splitBatch(input);
    for (const b of batches)
      expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThan(MLFLOW_LIMITS.requestBytes);
    expect(batches.length).toBe(3); // 100 per batch by count: ~600 KB each fits in 1 MB
    const small = splitBatch(input, { ...MLFLOW_LIMITS, requestBytes: 100_000 });
    // Each param is 6000 + ~20 bytes of JSON: 16 fit in 100 KB with the request overhead.
    expect(small[0]!.params.length).toBe(16);
    expect(small.flatMap((b) => b.params)).toEqual(input.params);
  });

  it('returns no batch for no records', () => {
    expect(splitBatch({ metrics: [], params: [], tags: [] })).toEqual([]);
  });
});

describe('record validation', () => {
  it('accepts the names MLflow accepts', () => {
    for (const key of [
      'rmse',
      'ndcg@10'.replace('@', '_at_'),
      'train/loss',
      'a b',
      'x:y',
      'fold-1.rmse',
      'précision',
    ])
      expect(() => checkRecordKey('metric', key)).not.toThrow();
  });

  it('rejects names MLflow rejects, naming the record', () => {
    for (const key of ['', 'ndcg@10', 'a//b', '/a', 'a/', './a', 'a/../b', 'x'.repeat(251), 'tab\there']) {
      expect(() => checkRecordKey('metric', key)).toThrow(ConfigError);
    }
    expect(() => checkRecordKey('param', 'ndcg@10')).toThrow('param "ndcg@10"');
  });

  it('rejects param values over 6000 characters with the param name', () => {
    expect(() => checkParamValue('grid', 'a'.repeat(6000))).not.toThrow();
    expect(() => checkParamValue('grid', 'a'.repeat(6001))).toThrow(/param "grid".*6001 characters.*6000/);
  });

  it('stores infinities as MLflow does and keeps NaN', () => {
    expect(normalizeMetricValue('m', Number.POSITIVE_INFINITY)).toBe(1.7976931348623157e308);
    expect(normalizeMetricValue('m', Number.NEGATIVE_INFINITY)).toBe(-1.7976931348623157e308);
    expect(normalizeMetricValue('m', Number.NaN)).toBeNaN();
    expect(() => normalizeMetricValue('m', '1' as unknown as number)).toThrow(ConfigError);
  });

  it('identifies metric points by key, step, timestamp and value', () => {
    const a = { key: 'loss', value: 0.5, step: 3, timestamp: 10 };
    expect(metricIdentity(a)).toBe(metricIdentity({ ...a }));
    expect(metricIdentity(a)).not.toBe(metricIdentity({ ...a, step: 4 }));
    expect(metricIdentity(a)).not.toBe(metricIdentity({ ...a, timestamp: 11 }));
    expect(metricIdentity(a)).not.toBe(metricIdentity({ ...a, value: 0.25 }));
    expect(metricIdentity({ ...a, value: Number.NaN })).toBe(metricIdentity({ ...a, value: Number.NaN }));
  });
});

describe('artifact paths', () => {
  it('accepts relative paths inside the artifact root', () => {
    for (const p of ['model.bin', 'figures/curve.html', 'a/b/c d.csv', '.hidden', 'x..y'])
      expect(checkArtifactPath(p)).toBe(p);
  });

  it('rejects paths that could leave the root, with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['../x', /"\.\."/],
      ['a/../../b', /"\.\."/],
      ['/abs', /absolute/],
      ['C:/x', /absolute/],
      ['', /empty/],
      ['a//b', /empty name/],
      ['a/', /empty name/],
      ['./a', /"\."/],
      ['a\\b', /backslash/],
      ['a\u0000b', /NUL/],
    ];
    for (const [path, reason] of cases) {
      expect(() => checkArtifactPath(path)).toThrow(ConfigError);
      expect(() => checkArtifactPath(path)).toThrow(reason);
    }
  });

  it('maps proxied artifact URIs to proxy paths and refuses others', () => {
    expect(artifactProxyRoot('mlflow-artifacts:/1/abc/artifacts')).toBe('1/abc/artifacts');
    expect(artifactProxyRoot('mlflow-artifacts://host:5000/1/abc/artifacts')).toBe('1/abc/artifacts');
    expect(() => artifactProxyRoot('/tmp/mlruns/1/abc/artifacts')).toThrow(/artifact proxy/);
  });
});

describe('retry policy', () => {
  it('retries connection failures, 429 and 5xx but not other 4xx', () => {
    expect(isTransientFailure(undefined, 'ECONNREFUSED')).toBe(true);
    expect(isTransientFailure(undefined, 'ECONNRESET')).toBe(true);
    expect(isTransientFailure(429, undefined)).toBe(true);
    expect(isTransientFailure(503, undefined)).toBe(true);
    expect(isTransientFailure(500, undefined)).toBe(true);
    expect(isTransientFailure(400, undefined)).toBe(false);
    expect(isTransientFailure(404, undefined)).toBe(false);
    expect(isTransientFailure(undefined, 'ERR_BAD_REQUEST')).toBe(false);
  });

  it('draws jittered delays under an exponentially growing cap', () => {
    const policy = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let attempt = 0; attempt < 6; attempt++) {
      const cap = Math.min(1000, 100 * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(policy, attempt);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(cap);
      }
    }
    const draws = new Set(Array.from({ length: 50 }, () => backoffDelay(policy, 3)));
    expect(draws.size).toBeGreaterThan(10);
    expect(backoffDelay(policy, 0, 400)).toBe(400);
    expect(backoffDelay(policy, 0, 5000)).toBe(1000);
  });

  it('reads Retry-After in seconds', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
