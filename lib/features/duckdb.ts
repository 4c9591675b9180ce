import {
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  FLOAT,
  INTEGER,
} from '@duckdb/node-api';
import type { MovieCatalogue } from '../data/catalogue';
import type { UserTable } from '../data/demographics';
import type { Genome } from '../data/genome';
import type { Interactions } from '../data/interactions';
import type { TagTable } from '../data/tags';
import type { FeatureMatrix } from './matrix';

// The low-level bindings (a pinned dependency of @duckdb/node-api) copy whole typed-array slices into a chunk's
// vectors; going value by value through the high-level API is several times slower at 32M ratings.
// A plain require: under tslab, `import * as` of this native CommonJS module yields an empty namespace.
const bindings: typeof import('@duckdb/node-bindings') = require('@duckdb/node-bindings');

/** What a feature database is built from (everything but ratings is optional). */
export interface FeatureSource {
  ratings: Interactions;
  movies?: MovieCatalogue | null;
  tags?: TagTable | null;
  users?: UserTable | null;
  genome?: Genome | null;
}

/**
 * An in-memory DuckDB holding the dataset as tables:
 * - `ratings(user, item, user_id, movie_id, rating, ts)`: dense indices, MovieLens ids, rating, unix seconds;
 * - `movies(movie_id, item, title, year, genres)`: the whole catalogue (item -1 when unrated, year NULL when
 *   unknown, genres '|'-joined) and `movie_genres(movie_id, item, genre_index, genre)`;
 * - `tags(user_id, movie_id, item, tag, ts)`, `demographics(user_id, user, age, gender, occupation, zip)`,
 *   `genome_tags(tag_id, tag)` and `genome_scores(movie_id, tag_id, relevance)` when given.
 * Feature builders add `movie_features` / `user_features` tables next to them.
 */
export class FeatureDb {
  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly source: FeatureSource,
  ) {}

  static async open(source: FeatureSource): Promise<FeatureDb> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const db = new FeatureDb(instance, connection, source);
    try {
      await db.loadRatings(source.ratings);
      if (source.movies) await db.loadMovies(source.movies);
      if (source.tags) await db.loadTags(source.tags, source.ratings);
      if (source.users) await db.loadDemographics(source.users, source.ratings);
      if (source.genome) await db.loadGenome(source.genome);
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /** Runs a query and returns its columns as arrays of JS values (for small results). */
  async query(sql: string): Promise<Record<string, unknown[]>> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getColumnsObjectJS() as Record<string, unknown[]>;
  }

  private async loadRatings(r: Interactions): Promise<void> {
    await this.connection.run(
      'CREATE TABLE ratings (user INTEGER, item INTEGER, user_id INTEGER, movie_id INTEGER, rating FLOAT, ts INTEGER)',
    );
    const n = r.size;
    const userIds = new Int32Array(n);
    const movieIds = new Int32Array(n);
    const uid = r.userIds.ids;
    const iid = r.itemIds.ids;
    for (let k = 0; k < n; k++) {
      userIds[k] = uid[r.users[k]!]!;
      movieIds[k] = iid[r.items[k]!]!;
    }
    await appendColumns(
      this.connection,
      'ratings',
      [INTEGER, INTEGER, INTEGER, INTEGER, FLOAT, INTEGER],
      [r.users, r.items, userIds, movieIds, r.ratings, r.timestamps ?? new Int32Array(n)],
    );
  }

  private async loadMovies(m: MovieCatalogue): Promise<void> {
    await this.connection.run(
      'CREATE TABLE movies (movie_id INTEGER, item INTEGER, title VARCHAR, year SMALLINT, genres VARCHAR)',
    );
    await this.connection.run(
      'CREATE TABLE movie_genres (movie_id INTEGER, item INTEGER, genre_index INTEGER, genre VARCHAR)',
    );
    const movies = await this.connection.createAppender('movies');
    const genres = await this.connection.createAppender('movie_genres');
    for (let r = 0; r < m.size; r++) {
      movies.appendInteger(m.movieIds[r]!);
      movies.appendInteger(m.itemIndex[r]!);
      movies.appendVarchar(m.titles[r]!);
      if (m.years[r]) movies.appendSmallInt(m.years[r]!);
      else movies.appendNull();
      const names: string[] = [];
      for (let k = m.genreIndptr[r]!; k < m.genreIndptr[r + 1]!; k++) {
        const g = m.genreIndices[k]!;
        names.push(m.genreNames[g]!);
        genres.appendInteger(m.movieIds[r]!);
        genres.appendInteger(m.itemIndex[r]!);
        genres.appendInteger(g);
        genres.appendVarchar(m.genreNames[g]!);
        genres.endRow();
      }
      movies.appendVarchar(names.join('|'));
      movies.endRow();
    }
    movies.closeSync();
    genres.closeSync();
  }

  private async loadTags(t: TagTable, ratings: Interactions): Promise<void> {
    await this.connection.run(
      'CREATE TABLE tags (user_id INTEGER, movie_id INTEGER, item INTEGER, tag VARCHAR, ts INTEGER)',
    );
    const a = await this.connection.createAppender('tags');
    for (let k = 0; k < t.size; k++) {
      a.appendInteger(t.userIds[k]!);
      a.appendInteger(t.movieIds[k]!);
      a.appendInteger(ratings.itemIds.index(t.movieIds[k]!));
      a.appendVarchar(t.vocabulary[t.tagIds[k]!]!);
      a.appendInteger(t.timestamps[k]!);
      a.endRow();
    }
    a.closeSync();
  }

  private async loadDemographics(u: UserTable, ratings: Interactions): Promise<void> {
    await this.connection.run(
      'CREATE TABLE demographics (user_id INTEGER, user INTEGER, age INTEGER, gender VARCHAR, occupation VARCHAR, zip VARCHAR)',
    );
    const a = await this.connection.createAppender('demographics');
    for (let k = 0; k < u.size; k++) {
      a.appendInteger(u.userIds[k]!);
      a.appendInteger(ratings.userIds.index(u.userIds[k]!));
      a.appendInteger(u.ages[k]!);
      a.appendVarchar(u.genders[k] ? 'M' : 'F');
      a.appendVarchar(u.occupationNames[u.occupations[k]!]!);
      a.appendVarchar(u.zips[k]!);
      a.endRow();
    }
    a.closeSync();
  }

  private async loadGenome(g: Genome): Promise<void> {
    await this.connection.run('CREATE TABLE genome_tags (tag_id INTEGER, tag VARCHAR)');
    const a = await this.connection.createAppender('genome_tags');
    for (let k = 0; k < g.tagIds.length; k++) {
      a.appendInteger(g.tagIds[k]!);
      a.appendVarchar(g.tags[k]!);
      a.endRow();
    }
    a.closeSync();
    await this.connection.run(
      'CREATE TABLE genome_scores (movie_id INTEGER, tag_id INTEGER, relevance FLOAT)',
    );
    const nt = g.tagIds.length;
    const n = g.relevance.length;
    const movie = new Int32Array(n);
    const tag = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      movie[k] = g.movieIds[Math.floor(k / nt)]!;
      tag[k] = g.tagIds[k % nt]!;
    }
    await appendColumns(
      this.connection,
      'genome_scores',
      [INTEGER, INTEGER, FLOAT],
      [movie, tag, g.relevance],
    );
  }
}

/** Opens an in-memory DuckDB with the dataset's tables (see FeatureDb). Call `close()` when done. */
export function openFeatureDb(source: FeatureSource): Promise<FeatureDb> {
  return FeatureDb.open(source);
}

/**
 * Appends equal-length typed-array columns to a table, one DuckDB vector (2048 rows) at a time, copying each
 * column slice with one memcpy. Columns must be 4-byte types (INTEGER ↔ Int32Array, FLOAT ↔ Float32Array).
 */
export async function appendColumns(
  connection: DuckDBConnection,
  table: string,
  types: DuckDBType[],
  columns: Array<Int32Array | Float32Array>,
): Promise<void> {
  const n = columns[0]?.length ?? 0;
  const appender = await connection.createAppender(table);
  const size = bindings.vector_size();
  const chunk = DuckDBDataChunk.create(types, size);
  const vectors = columns.map((_, c) => bindings.data_chunk_get_vector(chunk.chunk, c));
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    chunk.rowCount = count;
    for (let c = 0; c < columns.length; c++) {
      const a = columns[c]!;
      bindings.copy_data_to_vector(
        vectors[c]!,
        0,
        a.buffer as ArrayBuffer,
        a.byteOffset + start * 4,
        count * 4,
      );
    }
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
}

/**
 * Stores a feature matrix as DuckDB table `name(<idName> INTEGER, <indexName> INTEGER, <one FLOAT column per
 * feature>)`, replacing any previous table of that name.
 */
export async function writeFeatureTable(
  db: FeatureDb,
  name: string,
  m: FeatureMatrix,
  idName: string,
  indexName: string,
): Promise<void> {
  const w = m.columns.length;
  const cols = m.columns.map((c) => `${ident(c)} FLOAT`).join(', ');
  await db.connection.run(
    `CREATE OR REPLACE TABLE ${ident(name)} (${ident(idName)} INTEGER, ${ident(indexName)} INTEGER${w ? `, ${cols}` : ''})`,
  );
  const columns: Array<Int32Array | Float32Array> = [m.ids, m.index];
  for (let c = 0; c < w; c++) {
    const col = new Float32Array(m.rows);
    for (let r = 0; r < m.rows; r++) col[r] = m.data[r * w + c]!;
    columns.push(col);
  }
  await appendColumns(db.connection, name, [INTEGER, INTEGER, ...m.columns.map(() => FLOAT)], columns);
}

/** Quotes an SQL identifier ("genre:Sci-Fi" → "\"genre:Sci-Fi\""). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Runs a query and gathers numeric columns into typed arrays chunk by chunk (NULL → `nullAs`), without
 * building a JS value per cell list.
 */
export async function readNumericColumns(
  connection: DuckDBConnection,
  sql: string,
  nullAs = 0,
): Promise<{ names: string[]; columns: Float64Array[]; rows: number }> {
  const result = await connection.run(sql);
  const names = result.columnNames();
  const parts: number[][] = names.map(() => []);
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (let c = 0; c < names.length; c++) {
      const vector = chunk.getColumnVector(c);
      const out = parts[c]!;
      for (let i = 0; i < chunk.rowCount; i++) {
        const v = vector.getItem(i);
        out.push(v === null ? nullAs : typeof v === 'bigint' ? Number(v) : Number(v));
      }
    }
    rows += chunk.rowCount;
  }
  return { names, columns: parts.map((p) => Float64Array.from(p)), rows };
}
