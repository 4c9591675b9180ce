/**
 * Feature-table timing at scale: synthetic ratings → DuckDB tables (typed arrays copied a vector at a time)
 * → movie and user feature matrices. Prints one JSON object with the phase timings and peak RSS.
 *
 *   npx tsx bench/load-features.ts [--ratings 32000000]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { loadDataset } from '../lib/data/load';
import { openFeatureDb } from '../lib/features/duckdb';
import { movieFeatures } from '../lib/features/movies';
import { userFeatures } from '../lib/features/users';
import { FEATURES_MARKER, formatMarkdown } from './load-common';

async function main(): Promise<void> {
  const i = process.argv.indexOf('--ratings');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 32e6;
  const timings: Record<string, number> = {};
  const load0 = loadavg();
  const time = async <T>(label: string, f: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const r = await f();
    timings[label] = Number(((performance.now() - t) / 1000).toFixed(2));
    process.stderr.write(`${label}: ${timings[label]} s\n`);
    return r;
  };
  const data = await time('generate', () => loadDataset(`synthetic:${n}`));
  const db = await time('duckdb tables', () => openFeatureDb(data));
  const movies = await time('movie features', () => movieFeatures(db));
  const users = await time('user features', () => userFeatures(db));
  // The same user aggregates as one DuckDB query (join with genres, filtered group-by), for comparison.
  const genres = data.movies.genreNames;
  await time('user features as DuckDB SQL', () =>
    db.connection.run(`
      CREATE TABLE user_features_sql AS
      WITH base AS (SELECT user, count(*) AS activity, avg(rating) AS mean_rating, var_pop(rating) AS rating_var
                    FROM ratings GROUP BY user),
      gen AS (SELECT r.user, ${genres
        .map(
          (_, j) =>
            `count(*) FILTER (WHERE g.genre_index = ${j}) AS c${j}, avg(r.rating) FILTER (WHERE g.genre_index = ${j}) AS m${j}`,
        )
        .join(', ')}
              FROM ratings r JOIN movie_genres g ON g.item = r.item GROUP BY r.user)
      SELECT * FROM base LEFT JOIN gen USING (user)`),
  );
  await time('movie popularity/mean as DuckDB SQL', () =>
    db.connection.run(
      'CREATE TABLE movie_stats_sql AS SELECT item, count(*) AS n, avg(rating) AS mean FROM ratings GROUP BY item',
    ),
  );
  db.close();
  const result = {
    ratings: data.ratings.size,
    movieRows: movies.rows,
    movieColumns: movies.columns.length,
    userRows: users.rows,
    userColumns: users.columns.length,
    seconds: timings,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const outFile = join(__dirname, 'results', 'load.md');
  const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : `${FEATURES_MARKER}\n`;
  const at = previous.indexOf(FEATURES_MARKER);
  const head = at >= 0 ? previous.slice(0, at) : `${previous}\n`;
  const section = [
    FEATURES_MARKER,
    '',
    `## Feature tables at ${n.toLocaleString('en-US')} synthetic ratings`,
    '',
    `- Date: ${new Date().toISOString()}; load average before/after: ${load0.map((x) => x.toFixed(1)).join(' / ')} → ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')}`,
    `- Command: \`npx tsx bench/load-features.ts --ratings ${n}\`; one run; peak RSS ${result.peakRssMB} MB`,
    '',
    '| phase | seconds |',
    '| --- | ---: |',
    ...Object.entries(timings).map(([k, v]) => `| ${k} | ${v.toFixed(2)} |`),
    '',
    `Movie features: ${movies.rows} × ${movies.columns.length}; user features: ${users.rows} × ${users.columns.length}.`,
    'Features are computed with typed-array loops and then stored as DuckDB tables; the "as DuckDB SQL" rows',
    'time the same aggregates written as DuckDB queries over the `ratings` table, for comparison.',
    '',
  ];
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${head}${section.join('\n')}`);
  formatMarkdown(outFile);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
