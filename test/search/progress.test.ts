import { describe, expect, it } from 'vitest';
import type { PlannedTrial } from '../../lib/search/plan';
import { BestSoFar, PhaseProgress, phaseLabel } from '../../lib/search/progress';
import { type TrialResult, trialResult } from '../../lib/search/result';

function result(index: number, rmse: number | undefined, status: TrialResult['status'] = 'ran'): TrialResult {
  const t = {
    index,
    hash: `h${index}`,
    role: 'search',
    entry: 0,
    label: 'svd',
    model: 'svd',
    task: 'rating',
    config: index,
    split: 'u1',
    validation: null,
    searched: { factors: 10 * index },
    params: {},
    spec: {} as PlannedTrial['spec'],
  } satisfies PlannedTrial;
  return trialResult(t, { status, metrics: rmse === undefined ? {} : { rmse } });
}

describe('search progress', () => {
  it('BestSoFar keeps the best finite value for the goal and describes it', () => {
    const min = new BestSoFar('rmse', 'rmse', 'min');
    expect(min.detail()).toBe('');
    for (const [i, v] of [
      [1, 0.95],
      [2, 0.93],
      [3, Number.NaN],
      [4, 0.97],
    ] as const)
      min.note(result(i, v));
    min.note(result(5, undefined, 'failed'));
    expect(min.value).toBe(0.93);
    expect(min.detail()).toBe('best rmse 0.9300 (svd factors=20)');
    const max = new BestSoFar('rmse', 'rmse', 'max');
    for (const i of [1, 2, 4]) max.note(result(i, [0, 0.95, 0.93, 0, 0.97][i]));
    expect(max.value).toBe(0.97);
  });

  it('PhaseProgress ticks per trial with the best so far and names the failures at the end', () => {
    let out = '';
    const best = new BestSoFar('rmse', 'rmse', 'min');
    best.note(result(0, 0.99, 'reused'));
    const bar = new PhaseProgress({
      label: phaseLabel('grid', 'search', 1),
      total: 3,
      output: 'terminal',
      bar: { stream: { write: (s: string) => (out += s), isTTY: false } },
      best,
    });
    bar.trialDone(result(1, 0.95));
    bar.trialDone(result(2, undefined, 'failed'));
    bar.trialDone(result(3, 0.96));
    bar.done();
    expect(bar.failures).toBe(1);
    const last = out.trim().split('\n').at(-1)!;
    expect(last).toContain('grid search (1 reused)');
    expect(last).toContain('3/3 trials');
    expect(last).toContain('best rmse 0.9500 (svd factors=10) · 1 failed');
    expect(phaseLabel('grid', 'final', 0)).toBe('grid final');
  });
});
