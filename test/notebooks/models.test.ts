import { describe, expect, it } from 'vitest';
import { executeNotebook, notebookText } from '../../lib/notebooks/execute';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { fetchRuns, metricHistory } from '../../lib/tracking/read';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { useMlflowServer } from '../helpers/mlflow';
import { type FigureOutput, figureTitled, htmlOutputs } from './notebook-outputs';

const server = useMlflowServer();

/** Rows of the HTML table whose caption starts with `caption`: header → cell text. */
function tableRows(html: string[], caption: string): Record<string, string>[] {
  const table = html.find((h) => h.includes(`<caption>${caption}`));
  if (!table) throw new Error(`no table captioned "${caption}…"`);
  const cells = (tr: string, tag: string) =>
    [...tr.matchAll(new RegExp(`<${tag}>(.*?)</${tag}>`, 'g'))].map((m) => m[1]!);
  const header = cells(/<thead>(.*?)<\/thead>/s.exec(table)![1]!, 'th');
  const body = /<tbody>(.*?)<\/tbody>/s.exec(table)![1]!;
  return [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => {
    const values = cells(m[1]!, 'td');
    return Object.fromEntries(header.map((h, i) => [h, values[i]!]));
  });
}

const RATING = ['baseline', 'svd', 'svdpp', 'knn-item', 'als-genre', 'gbdt', 'hybrid-nn'];
const RANKING = ['popularity', 'item-knn', 'ials', 'bpr'];

describe.runIf(HAS_ML_LATEST_SMALL)('notebooks/03-models.ipynb on real ml-latest-small', () => {
  it('compares the zoo, blends an ensemble that beats its members, draws leaderboards and logs every run', async () => {
    const nb = await executeNotebook('notebooks/03-models.ipynb', {
      params: {
        dataset: 'ml-latest-small',
        split: 'random:0.2',
        dataDir: realDataDir(),
        experiment: 'nb-models-test',
      },
      env: { MLFLOW_TRACKING_URI: server().url },
      outDir: 'test-artifacts/notebooks',
      timeoutSeconds: 1500,
    });
    const text = notebookText(nb.content);

    // Every rating model's test RMSE, in the range such models reach on ml-latest-small (global mean ≈ 1.04).
    const rmse: Record<string, number> = {};
    for (const name of RATING) {
      const m = new RegExp(`^${name}: RMSE (\\d\\.\\d+), NDCG@10 (\\d\\.\\d+)`, 'm').exec(text);
      expect(m, name).not.toBeNull();
      rmse[name] = Number(m![1]);
      expect(rmse[name]).toBeGreaterThan(0.8);
      expect(rmse[name]).toBeLessThan(0.95);
    }
    expect(rmse.svd!).toBeLessThan(rmse.baseline!);
    for (const name of RANKING) expect(text).toMatch(new RegExp(`^${name}: NDCG@10 0\\.\\d+`, 'm'));

    // The ensemble beats its best member on test RMSE; its refitted members are the standalone models exactly.
    const e = /ensemble test RMSE (\d\.\d+) vs best member (\S+) (\d\.\d+) \(difference (-?\d\.\d+)\)/.exec(
      text,
    );
    expect(e).not.toBeNull();
    const [blend, best] = [Number(e![1]), Number(e![3])];
    expect(blend).toBeLessThan(best);
    const tables = htmlOutputs(nb.content);
    const members = tableRows(tables, 'Ensemble members');
    expect(members.map((r) => r.model)).toEqual([
      'baseline',
      'svd',
      'svdpp',
      'knn-item',
      'als-genre',
      'ensemble',
    ]);
    for (const r of members.slice(0, 5)) {
      expect(Number(r['test RMSE'])).toBeCloseTo(rmse[r.model!]!, 4);
      expect(Number(r.weight)).toBeGreaterThanOrEqual(0);
    }
    expect(Number(members[5]!['test RMSE'])).toBeCloseTo(blend, 4);
    expect(Number(members[5]!['validation RMSE'])).toBeLessThan(
      Math.min(...members.slice(0, 5).map((r) => Number(r['validation RMSE']))),
    );
    const rankingMembers = tableRows(tables, 'Ranking ensemble members');
    expect(rankingMembers.map((r) => r.model)).toEqual([
      'popularity',
      'item-knn',
      'ials',
      'ensemble-ranking',
    ]);

    // Leaderboards: tables best first and bar figures with per-user 95 % intervals.
    const board = tableRows(tables, 'Rating leaderboard');
    expect(board.map((r) => r.model).sort()).toEqual([...RATING, 'ensemble'].sort());
    const values = board.map((r) => Number(r.rmse));
    expect(values).toEqual([...values].sort((a, b) => a - b));
    const place = (name: string) => board.findIndex((r) => r.model === name);
    for (const m of ['baseline', 'svd', 'svdpp', 'knn-item', 'als-genre'])
      expect(place('ensemble')).toBeLessThan(place(m));
    const bars: FigureOutput & { data: Array<{ error_y?: { array: number[]; arrayminus: number[] } }> } =
      figureTitled(nb.content, 'Leaderboard — RMSE');
    expect(bars.data[0]!.type).toBe('bar');
    expect(bars.data[0]!.x).toEqual(board.map((r) => r.model));
    for (const y of bars.data[0]!.y as number[]) {
      expect(y).toBeGreaterThan(0.6);
      expect(y).toBeLessThan(1.1);
    }
    expect(bars.data[0]!.error_y!.array.every((v) => v > 0 && v < 0.05)).toBe(true);
    const ndcgBars = figureTitled(nb.content, 'Leaderboard — NDCG@10');
    expect(ndcgBars.data[0]!.x).toHaveLength(RATING.length + RANKING.length + 2);
    for (const y of ndcgBars.data[0]!.y as number[]) {
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThan(0.6);
    }

    // Learning curves from the models' epoch reports: svd's 30 epochs, train and held-out.
    const curves = figureTitled(nb.content, 'Learning curves');
    const svdTest = curves.data.find((t) => t.name === 'svd test')!;
    expect(svdTest.y).toHaveLength(30);
    expect(Number((svdTest.y as number[])[29])).toBeCloseTo(rmse.svd!, 3);
    expect(curves.data.some((t) => t.name === 'hybrid-nn train')).toBe(true);

    // MLflow: one run per model, the ensembles with a nested run per member.
    const client = new MlflowClient({ trackingUri: server().url, outboxDir: false });
    const runs = (await fetchRuns(client, 'nb-models-test')).rows;
    expect(runs.every((r) => r.status === 'FINISHED')).toBe(true);
    const top = runs.filter((r) => r.parentRunId === null);
    expect(top).toHaveLength(RATING.length + RANKING.length + 2);
    const ens = top.find((r) => r.tags['reelab.model'] === 'ensemble')!;
    expect(ens.metrics.rmse).toBeCloseTo(blend, 4);
    const children = runs.filter((r) => r.parentRunId === ens.runId);
    expect(children.map((r) => r.tags['reelab.ensemble.member']).sort()).toEqual(
      ['baseline', 'svd', 'svdpp', 'knn-item', 'als-genre'].sort(),
    );
    const svdRun = top.find((r) => r.tags['reelab.model'] === 'svd')!;
    expect(svdRun.metrics.rmse).toBeCloseTo(rmse.svd!, 4);
    expect((await metricHistory(client, svdRun.runId, 'test_rmse')).steps).toHaveLength(30);
  }, 1_800_000);
});
