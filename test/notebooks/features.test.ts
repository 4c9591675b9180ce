import { describe, expect, it } from 'vitest';
import { genresOf } from '../../lib/data/catalogue';
import { loadDataset } from '../../lib/data/load';
import { executeNotebook, notebookText } from '../../lib/notebooks/execute';
import { RunArtifacts } from '../../lib/tracking/artifacts';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { fetchRuns } from '../../lib/tracking/read';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { useMlflowServer } from '../helpers/mlflow';
import { figuresOf, figureTitled, htmlOutputs, sum } from './notebook-outputs';

const server = useMlflowServer();

describe.runIf(HAS_ML_LATEST_SMALL)('notebooks/02-features.ipynb on real ml-latest-small', () => {
  it('builds movie, tag, user and weighting tables, shows them and logs a run', async () => {
    const nb = await executeNotebook('notebooks/02-features.ipynb', {
      params: {
        dataset: 'ml-latest-small',
        dataDir: realDataDir(),
        movieId: 2959,
        userId: 1,
        experiment: 'nb-features-test',
      },
      env: { MLFLOW_TRACKING_URI: server().url },
      outDir: 'test-artifacts/notebooks',
      timeoutSeconds: 480,
    });
    const data = loadDataset('ml-latest-small', { dataDir: realDataDir() });
    const r = data.ratings;
    const text = notebookText(nb.content);
    expect(text).toContain('ml-latest-small: 100836 ratings, 9742 catalogue movies, 3683 tag applications');
    expect(text).toMatch(/movie features: 9724 rows × \d+ columns/);
    expect(text).toMatch(/user features: 610 rows × \d+ columns/);
    expect(text).toMatch(/tag vocabulary: \d+ terms; movie 2959 \(Fight Club \(1999\)\) has \d+ of them/);

    // The SQL table of the most-rated movies starts with the movie that has the most ratings.
    const counts = r.itemCounts();
    let top = 0;
    for (let i = 1; i < counts.length; i++) if (counts[i]! > counts[top]!) top = i;
    const topTitle = data.movies.titles[data.movies.rowOfItem[top]!]!;
    const tables = htmlOutputs(nb.content);
    const mostRated = tables.find((h) => h.includes('the ten most-rated movies'))!;
    expect(mostRated.indexOf(`<td>${topTitle}</td><td>`)).toBeGreaterThan(0);
    expect(mostRated).toContain(`<td>${counts[top]}</td>`);

    // Weighting summary: the binarised matrix keeps exactly the ratings ≥ 4.
    const liked = Array.from(r.ratings).filter((v) => v >= 4).length;
    const weighting = tables.find((h) => h.includes('stored values of the user × item matrix'))!;
    expect(weighting).toContain(`<td>binary, rating ≥ 4</td><td>${liked}</td>`);
    expect(weighting).toContain('<td>rating (raw)</td><td>100836</td><td>0.500</td>');

    const figures = figuresOf(nb.content);
    expect(figures).toHaveLength(3);
    const scatter = figureTitled(nb.content, 'Mean rating vs number of ratings').data[0]!;
    expect(scatter.x).toHaveLength(9724);
    expect(Math.max(...(scatter.x as number[]))).toBe(counts[top]);

    // User 1's genre bars: counts of their rated movies per genre, from the data.
    const user = r.userIds.index(1);
    const csr = r.csr();
    const perGenre = new Map<string, number>();
    for (let p = csr.indptr[user]!; p < csr.indptr[user + 1]!; p++)
      for (const g of genresOf(data.movies, data.movies.rowOfItem[csr.indices[p]!]!))
        perGenre.set(g, (perGenre.get(g) ?? 0) + 1);
    const bars = figureTitled(nb.content, 'What user 1 rates').data[0]!;
    const shown = new Map((bars.y as string[]).map((g, i) => [g, Number(bars.x![i])]));
    for (const [g, n] of perGenre) if (g !== '(no genres listed)') expect(shown.get(g)).toBe(n);

    expect(sum(figureTitled(nb.content, 'BM25 weights').data[0]!.y)).toBe(100_836);

    const client = new MlflowClient({ trackingUri: server().url, outboxDir: false });
    const runs = await fetchRuns(client, 'nb-features-test');
    expect(runs.rows).toHaveLength(1);
    expect(runs.rows[0]!.metrics.movie_rows).toBe(9724);
    expect(runs.rows[0]!.metrics.user_rows).toBe(610);
    const files = (await new RunArtifacts(client, runs.rows[0]!.artifactUri!).listFiles()).map((f) => f.path);
    for (const name of ['popularity-vs-mean', 'user-genres', 'bm25-weights'])
      expect(files).toContain(`figures/${name}.html`);
  }, 900_000);
});
