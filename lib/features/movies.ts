import type { MovieCatalogue } from '../data/catalogue';
import type { Genome } from '../data/genome';
import type { Interactions } from '../data/interactions';
import { ConfigError } from '../util/errors';
import { searchSorted } from '../util/search-sorted';
import { type FeatureDb, readNumericColumns, writeFeatureTable } from './duckdb';
import type { FeatureMatrix, SparseFeatures } from './matrix';

/** Which movies get a row: the rated items in item-index order (default), or the whole catalogue by movieId. */
export type MovieRows = 'items' | 'catalogue';

export interface MovieFeatureOptions {
  rows?: MovieRows;
}

function requireMovies(db: FeatureDb): MovieCatalogue {
  const movies = db.source.movies;
  if (!movies)
    throw new ConfigError(
      'features',
      'movie features need the movie catalogue (open the FeatureDb with movies)',
    );
  return movies;
}

/**
 * Movie features from `ratings` (give it the training part to avoid leaking test ratings): `year` (0 when
 * unknown), `year_known`, `popularity` (number of ratings), `mean_rating` (0 when unrated) and one multi-hot
 * column `genre:<name>` per genre; when the catalogue carries the IMDb columns (lib/data/imdb-catalogue), also
 * `runtime` (minutes), `runtime_known`, `imdb_rating`, `imdb_rating_known`, `imdb_votes`, `directors` and
 * `actors` (list lengths), 0 where unknown (a catalogue without them gets exactly the columns above). Plain
 * typed-array loops: at 32M ratings this is well under a second, where
 * the same group-by in DuckDB took tens of seconds on this machine (bench/results/load.md).
 */
export function movieFeatureMatrix(
  ratings: Interactions,
  movies: MovieCatalogue,
  options: MovieFeatureOptions = {},
): FeatureMatrix {
  const rows = options.rows ?? 'items';
  const nItems = ratings.nItems;
  const count = new Float64Array(nItems);
  const sum = new Float64Array(nItems);
  for (let k = 0; k < ratings.size; k++) {
    const i = ratings.items[k]!;
    count[i]!++;
    sum[i]! += ratings.ratings[k]!;
  }
  const genres = movies.genreNames;
  const imdb = imdbColumns(movies);
  const imdbAt = 4 + genres.length;
  const columns = [
    'year',
    'year_known',
    'popularity',
    'mean_rating',
    ...genres.map((g) => `genre:${g}`),
    ...(imdb ? IMDB_FEATURES : []),
  ];
  const w = columns.length;
  const nRows = rows === 'items' ? movies.rowOfItem.length : movies.size;
  const data = new Float32Array(nRows * w);
  const ids = new Int32Array(nRows);
  const index = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const cr = rows === 'items' ? movies.rowOfItem[r]! : r;
    const item = movies.itemIndex[cr]!;
    ids[r] = movies.movieIds[cr]!;
    index[r] = item;
    const o = r * w;
    data[o] = movies.years[cr]!;
    data[o + 1] = movies.years[cr] ? 1 : 0;
    if (item >= 0 && count[item]! > 0) {
      data[o + 2] = count[item]!;
      data[o + 3] = sum[item]! / count[item]!;
    }
    for (let k = movies.genreIndptr[cr]!; k < movies.genreIndptr[cr + 1]!; k++)
      data[o + 4 + movies.genreIndices[k]!] = 1;
    if (imdb) {
      const runtime = imdb.runtimes[cr]!;
      const rating = imdb.imdbRatings[cr]!;
      const p = o + imdbAt;
      if (!Number.isNaN(runtime)) {
        data[p] = runtime;
        data[p + 1] = 1;
      }
      if (!Number.isNaN(rating)) {
        data[p + 2] = rating;
        data[p + 3] = 1;
      }
      data[p + 4] = imdb.imdbVotes[cr]!;
      data[p + 5] = imdb.directors.indptr[cr + 1]! - imdb.directors.indptr[cr]!;
      data[p + 6] = imdb.actors.indptr[cr + 1]! - imdb.actors.indptr[cr]!;
    }
  }
  return { data, rows: nRows, columns, ids, index };
}

const IMDB_FEATURES = [
  'runtime',
  'runtime_known',
  'imdb_rating',
  'imdb_rating_known',
  'imdb_votes',
  'directors',
  'actors',
];

/** The catalogue's IMDb columns the feature table uses, or null when it has none. */
function imdbColumns(movies: MovieCatalogue) {
  const { runtimes, imdbRatings, imdbVotes, directors, actors } = movies;
  if (!runtimes || !imdbRatings || !imdbVotes || !directors || !actors) return null;
  return { runtimes, imdbRatings, imdbVotes, directors, actors };
}

/**
 * Movie features of the FeatureDb's ratings and catalogue (see movieFeatureMatrix), also stored in DuckDB as
 * table `movie_features(movie_id, item, <feature columns>)` for SQL use.
 */
export async function movieFeatures(
  db: FeatureDb,
  options: MovieFeatureOptions = {},
): Promise<FeatureMatrix> {
  const movies = requireMovies(db);
  const m = movieFeatureMatrix(db.source.ratings, movies, options);
  await writeFeatureTable(db, 'movie_features', m, 'movie_id', 'item');
  return m;
}

/** Reads a table whose first two columns are (external id, dense index) into a FeatureMatrix. */
export async function readFeatureTable(
  db: FeatureDb,
  sql: string,
  idColumn: string,
  indexColumn: string,
): Promise<FeatureMatrix> {
  const { names, columns, rows } = await readNumericColumns(db.connection, sql);
  const idAt = names.indexOf(idColumn);
  const indexAt = names.indexOf(indexColumn);
  const featureAt = names.map((_, c) => c).filter((c) => c !== idAt && c !== indexAt);
  const w = featureAt.length;
  const data = new Float32Array(rows * w);
  for (let f = 0; f < w; f++) {
    const col = columns[featureAt[f]!]!;
    for (let r = 0; r < rows; r++) data[r * w + f] = col[r]!;
  }
  return {
    data,
    rows,
    columns: featureAt.map((c) => names[c]!),
    ids: Int32Array.from(columns[idAt]!),
    index: Int32Array.from(columns[indexAt]!),
  };
}

export interface TagTfidfOptions {
  rows?: MovieRows;
  /** Keep the `maxTerms` terms used on the most movies (ties: alphabetical). Default 1000. */
  maxTerms?: number;
  /** Ignore terms used on fewer movies. Default 1. */
  minDf?: number;
}

/**
 * Tag TF-IDF of movies, computed in DuckDB (table `movie_tag_tfidf(movie_id, item, term, tfidf)`). A term is a
 * tag lower-cased and trimmed; tf = how many times it was applied to the movie; with N = number of tagged
 * movies and df = number of movies carrying the term, idf = ln((1 + N) / (1 + df)) + 1 and each movie's row is
 * L2-normalised (scikit-learn's TfidfVectorizer defaults, with tag applications as the words).
 */
export async function tagTfidf(db: FeatureDb, options: TagTfidfOptions = {}): Promise<SparseFeatures> {
  const movies = requireMovies(db);
  if (!db.source.tags)
    throw new ConfigError('features', 'tag TF-IDF needs tags (open the FeatureDb with tags)');
  const rows = options.rows ?? 'items';
  const maxTerms = options.maxTerms ?? 1000;
  const minDf = options.minDf ?? 1;
  await db.connection.run(`
    CREATE OR REPLACE TABLE movie_tag_tfidf AS
    WITH t AS (
      SELECT movie_id, lower(trim(tag)) AS term FROM tags WHERE trim(tag) <> ''
    ), tf AS (
      SELECT movie_id, term, count(*) AS tf FROM t GROUP BY movie_id, term
    ), n AS (
      SELECT count(DISTINCT movie_id) AS n FROM t
    ), df AS (
      SELECT term, count(*) AS df FROM tf GROUP BY term HAVING count(*) >= ${Math.floor(minDf)}
    ), vocab AS (
      SELECT term, df, (row_number() OVER (ORDER BY df DESC, term) - 1)::INTEGER AS col FROM df
      QUALIFY col < ${Math.floor(maxTerms)}
    ), raw AS (
      SELECT tf.movie_id, vocab.term, vocab.col, tf.tf * (ln((1 + n.n) / (1 + vocab.df)) + 1) AS w
      FROM tf JOIN vocab USING (term), n
    )
    SELECT raw.movie_id, coalesce(m.item, -1) AS item, raw.term, raw.col,
      (raw.w / sqrt(sum(raw.w * raw.w) OVER (PARTITION BY raw.movie_id)))::FLOAT AS tfidf
    FROM raw LEFT JOIN movies m USING (movie_id)
  `);
  const vocab = await db.query('SELECT DISTINCT term, col FROM movie_tag_tfidf ORDER BY col');
  const columns = (vocab.term as string[]).slice();
  const entries = await readNumericColumns(
    db.connection,
    `SELECT movie_id, item, col, tfidf FROM movie_tag_tfidf ORDER BY movie_id, col`,
  );
  const [movieCol, itemCol, colCol, valCol] = entries.columns as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  // Rows: items (rated movies, item order) or the catalogue (movieId order).
  const nRows = rows === 'items' ? movies.rowOfItem.length : movies.size;
  const rowOfEntry = new Int32Array(entries.rows);
  const counts = new Int32Array(nRows + 1);
  for (let k = 0; k < entries.rows; k++) {
    let r: number;
    if (rows === 'items') r = itemCol[k]!;
    else r = catalogueRow(movies, movieCol[k]!);
    rowOfEntry[k] = r;
    if (r >= 0) counts[r + 1]!++;
  }
  for (let r = 0; r < nRows; r++) counts[r + 1]! += counts[r]!;
  const indptr = counts.slice();
  const fill = counts.slice(0, nRows);
  const indices = new Int32Array(indptr[nRows]!);
  const values = new Float32Array(indptr[nRows]!);
  for (let k = 0; k < entries.rows; k++) {
    const r = rowOfEntry[k]!;
    if (r < 0) continue;
    const at = fill[r]!++;
    indices[at] = colCol[k]!;
    values[at] = valCol[k]!;
  }
  const ids =
    rows === 'items'
      ? Int32Array.from(movies.rowOfItem, (cr) => movies.movieIds[cr]!)
      : movies.movieIds.slice();
  const index = rows === 'items' ? Int32Array.from({ length: nRows }, (_, i) => i) : movies.itemIndex.slice();
  return { indptr, indices, values, rows: nRows, columns, ids, index };
}

function catalogueRow(movies: MovieCatalogue, movieId: number): number {
  return searchSorted(movies.movieIds, movieId, 0, movies.size);
}

export interface GenomeFeatureOptions {
  rows?: MovieRows;
  /** Keep the `tags` genome tags whose relevance varies most across movies (default: all). */
  tags?: number;
}

/**
 * Genome relevance as a dense matrix aligned with items or the catalogue: columns `genome:<tag>` plus
 * `genome_known` (0 for movies the genome does not cover, whose relevances are then 0).
 */
export function genomeFeatures(
  genome: Genome,
  movies: MovieCatalogue,
  options: GenomeFeatureOptions = {},
): FeatureMatrix {
  const rows = options.rows ?? 'items';
  const nt = genome.tagIds.length;
  const nm = genome.movieIds.length;
  let chosen = Array.from({ length: nt }, (_, t) => t);
  if (options.tags !== undefined && options.tags < nt) {
    const variance = new Float64Array(nt);
    for (let t = 0; t < nt; t++) {
      let s = 0;
      let s2 = 0;
      for (let m = 0; m < nm; m++) {
        const v = genome.relevance[m * nt + t]!;
        s += v;
        s2 += v * v;
      }
      variance[t] = s2 / nm - (s / nm) ** 2;
    }
    chosen = chosen
      .sort((a, b) => variance[b]! - variance[a]! || a - b)
      .slice(0, options.tags)
      .sort((a, b) => a - b);
  }
  const genomeRow = new Map<number, number>();
  for (let r = 0; r < genome.movieIds.length; r++) genomeRow.set(genome.movieIds[r]!, r);
  const nRows = rows === 'items' ? movies.rowOfItem.length : movies.size;
  const w = chosen.length + 1;
  const data = new Float32Array(nRows * w);
  const ids = new Int32Array(nRows);
  const index = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const cr = rows === 'items' ? movies.rowOfItem[r]! : r;
    ids[r] = movies.movieIds[cr]!;
    index[r] = movies.itemIndex[cr]!;
    const g = genomeRow.get(ids[r]!);
    if (g === undefined) continue;
    for (let c = 0; c < chosen.length; c++) data[r * w + c] = genome.relevance[g * nt + chosen[c]!]!;
    data[r * w + chosen.length] = 1;
  }
  return {
    data,
    rows: nRows,
    columns: [...chosen.map((t) => `genome:${genome.tags[t]}`), 'genome_known'],
    ids,
    index,
  };
}

/**
 * Genome "meta-tags": for each genome movie, its `k` most relevant tags (relevance ≥ `minRelevance`), most
 * relevant first, ties by tagId. A compact, readable description of a movie for content models and reports.
 */
export function genomeMetaTags(
  genome: Genome,
  options: { k?: number; minRelevance?: number } = {},
): Array<{ movieId: number; tags: Array<{ tag: string; relevance: number }> }> {
  const k = options.k ?? 10;
  const min = options.minRelevance ?? 0;
  const nt = genome.tagIds.length;
  const out: Array<{ movieId: number; tags: Array<{ tag: string; relevance: number }> }> = [];
  for (let m = 0; m < genome.movieIds.length; m++) {
    const order: number[] = [];
    for (let t = 0; t < nt; t++) if (genome.relevance[m * nt + t]! >= min) order.push(t);
    order.sort((a, b) => genome.relevance[m * nt + b]! - genome.relevance[m * nt + a]! || a - b);
    out.push({
      movieId: genome.movieIds[m]!,
      tags: order
        .slice(0, k)
        .map((t) => ({ tag: genome.tags[t]!, relevance: genome.relevance[m * nt + t]! })),
    });
  }
  return out;
}
