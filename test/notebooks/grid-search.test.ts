import { describe, expect, it } from 'vitest';
import { executeNotebook, notebookOutputs, notebookText } from '../../lib/notebooks/execute';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { rawMlflow, tagsOf, useMlflowServer } from '../helpers/mlflow';

const server = useMlflowServer();

type Figure = {
  data: Array<{ type: string; dimensions?: Array<{ label: string; values: number[] }>; x?: unknown[] }>;
};

describe.runIf(HAS_ML_LATEST_SMALL)('notebooks/04-grid-search.ipynb through the tslab kernel', () => {
  it('runs a small random search on ml-latest-small, shows parallel coordinates and parameter-vs-metric figures', async () => {
    const nb = await executeNotebook('notebooks/04-grid-search.ipynb', {
      params: { dataDir: realDataDir(), experiment: 'nb-grid-search-test', trials: 4 },
      env: { MLFLOW_TRACKING_URI: server().url },
      outDir: 'test-artifacts/notebooks',
      timeoutSeconds: 600,
    });
    const text = notebookText(nb.content);
    // 4 sampled configurations on the validation part + the best one on the test part
    const m = /(\d+) trials: (\d+) ran, (\d+) reused; MLflow parent run: ([0-9a-f]{32})/.exec(text);
    expect(m, text).not.toBeNull();
    expect(Number(m![1])).toBe(5);
    const parentRunId = m![4]!;

    const figures = notebookOutputs(nb.content)
      .map((o) => o.data?.['application/vnd.plotly.v1+json'] as Figure | undefined)
      .filter((f): f is Figure => f !== undefined);
    const parallel = figures.find((f) => f.data[0]?.type === 'parcoords');
    expect(parallel).toBeDefined();
    const labels = parallel!.data[0]!.dimensions!.map((d) => d.label);
    expect(labels).toEqual(['factors', 'log10(regularization)', 'alpha', 'ndcg@10']);
    expect(parallel!.data[0]!.dimensions![0]!.values).toHaveLength(4);
    const scatters = figures.filter((f) => f.data[0]?.type === 'scatter');
    expect(scatters.length).toBeGreaterThanOrEqual(2);
    // the leaderboard table shows the chosen configuration's test scores
    expect(text).toContain('ndcg@10');

    const raw = rawMlflow(server().url);
    const exp = (await raw.experimentId('nb-grid-search-test'))!;
    const runs = await raw.searchRuns(exp);
    const trials = runs.filter((r) => tagsOf(r)['mlflow.parentRunId'] === parentRunId);
    expect(trials).toHaveLength(5);
    expect(trials.every((r) => r.info.status === 'FINISHED' && tagsOf(r)['reelab.kind'] === 'trial')).toBe(
      true,
    );
    const parent = runs.find((r) => r.info.run_id === parentRunId)!;
    expect(tagsOf(parent)['reelab.source']).toBe('notebook');
  });
});
