import { describe, expect, it } from 'vitest';
import { executeNotebook, notebookText } from '../../lib/notebooks/execute';
import { RunArtifacts } from '../../lib/tracking/artifacts';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { fetchRuns, metricHistory } from '../../lib/tracking/read';
import { HAS_ML_LATEST_SMALL, realDataDir } from '../helpers/data';
import { useMlflowServer } from '../helpers/mlflow';
import { figureTitled, htmlOutputs } from './notebook-outputs';

const server = useMlflowServer();

describe.runIf(HAS_ML_LATEST_SMALL)('notebooks/05-embeddings.ipynb on real ml-latest-small', () => {
  it('trains iALS, draws a movie map where genres cluster, explains a recommendation and logs it all', async () => {
    const nb = await executeNotebook('notebooks/05-embeddings.ipynb', {
      params: {
        dataset: 'ml-latest-small',
        dataDir: realDataDir(),
        experiment: 'nb-embeddings-test',
        threads: 2,
      },
      env: { MLFLOW_TRACKING_URI: server().url },
      outDir: 'test-artifacts/notebooks',
      timeoutSeconds: 600,
    });
    const text = notebookText(nb.content);
    expect(text).toContain('ials: 64 factors for 610 users and 9724 movies');

    // Genre clustering on the map, against chance.
    const m =
      /same main genre among the 10 nearest map neighbours: ([\d.]+)% \(random pairing: ([\d.]+)%, ([\d.]+)× chance\)/.exec(
        text,
      );
    expect(m).not.toBeNull();
    const [rate, random] = [Number(m![1]), Number(m![2])];
    expect(random).toBeGreaterThan(5);
    expect(random).toBeLessThan(10);
    expect(rate).toBeGreaterThan(1.8 * random);
    const factorRate = Number(/in the 64-d factor space \(cosine\): ([\d.]+)%/.exec(text)![1]);
    expect(factorRate).toBeGreaterThan(rate * 0.9);

    const map = figureTitled(nb.content, 'Movie map');
    expect(map.data.reduce((s, t) => s + t.x!.length, 0)).toBe(3000);
    expect(map.layout.title!.text).toContain('the 3000 most-rated of 9724 movies');
    expect(map.data.map((t) => t.name!.replace(/ \(\d+\)$/, ''))).toEqual(
      expect.arrayContaining(['Comedy', 'Horror', 'Animation', 'Documentary']),
    );
    expect(
      map.data
        .find((t) => t.name!.startsWith('Animation'))!
        .text!.some((h) => h.includes('<b>Toy Story (1995)</b>')),
    ).toBe(true);
    expect(figureTitled(nb.content, 'User map').data.reduce((s, t) => s + t.x!.length, 0)).toBe(610);
    expect(figureTitled(nb.content, 'ials on ml-latest-small: training curve').data[0]!.y).toHaveLength(15);
    expect(figureTitled(nb.content, 'Cosine similarity among the movie').data[0]!.z).toHaveLength(11);

    // Toy Story's neighbours include other family animation; the explanation names the user's rated movies.
    const tables = htmlOutputs(nb.content);
    const neighbours = tables.find((h) => h.includes('movies closest to Toy Story (1995)'))!;
    expect(
      ['Toy Story 2 (1999)', "Bug's Life, A (1998)", 'Lion King, The (1994)', 'Aladdin (1992)'].some((t) =>
        neighbours.includes(`<td>${t}</td>`),
      ),
    ).toBe(true);
    expect(text).toMatch(
      /" is recommended to user 1 mostly because of ".+" \(rated [\d.]+, cosine [-\d.]+\)/,
    );

    // Progress bars: one in-place display each, finished, never a stream of lines.
    const bars = tables.filter((h) => h.includes('class="reelab-progress"'));
    expect(bars).toHaveLength(5); // fit, item neighbours, item layout, user neighbours, user layout
    for (const b of bars) expect(b).toContain('data-finished="true"');
    expect(bars.some((b) => b.includes('UMAP items layout') && b.includes('data-count="400"'))).toBe(true);

    const client = new MlflowClient({ trackingUri: server().url, outboxDir: false });
    const runs = await fetchRuns(client, 'nb-embeddings-test');
    expect(runs.rows).toHaveLength(1);
    const run = runs.rows[0]!;
    expect(run.status).toBe('FINISHED');
    expect(run.params.factors).toBe('64');
    expect(run.metrics.map_same_genre_rate).toBeCloseTo(rate / 100, 3);
    expect((await metricHistory(client, run.runId, 'loss')).steps).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    const files = (await new RunArtifacts(client, run.artifactUri!).listFiles()).map((f) => f.path);
    for (const name of ['learning-curve', 'movie-map', 'neighbour-similarity', 'user-map'])
      expect(files).toContain(`figures/${name}.html`);
  }, 900_000);
});
