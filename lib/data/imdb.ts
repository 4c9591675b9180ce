/**
 * IMDb's non-commercial dumps (https://datasets.imdbws.com, personal and non-commercial use only) joined onto a
 * MovieLens dataset: directors, writers, top-billed cast (billing order), runtime, IMDb year, average rating and
 * votes per MovieLens movie.
 *
 * The dumps are read from `<data dir>/imdb/` under their own names (tab-separated, gzip, one header line, `\N`
 * for null, never quoted) and scanned with DuckDB, filtered to the dataset's titles first: title.basics (by the
 * links' tconsts, and by type and year for title matching), then title.ratings, title.crew, title.principals
 * (~90M rows, joined against the few thousand wanted tconsts) and name.basics. MovieLens movies reach IMDb
 * through links.csv (`imdbId` → tconst) where the release has it, else (and for a link IMDb does not know) by
 * normalised title + year (lib/data/imdb-titles). The joined result is cached as JSON under
 * `<data dir>/imdb/.cache/`, keyed by the dumps' and the dataset's files' sha256, so a second load skips the scan.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ConfigError, DataError, errorMessage } from '../util/errors';
import { hashValue, sha256FileCached } from '../util/hash';
import { type ProgressOutput, progress } from '../util/progress';
import { datasetDir, resolveDataDir } from './data-dir';
import { type ImdbRoute, matchTitles, TITLE_MATCH_TYPES, type TitleCandidate, tconstOf } from './imdb-titles';
import { readLinks } from './links';
import { isMovieLensName, MOVIELENS, type MovieLensSpec } from './movielens';
import { readMovies } from './movies';

export { type ImdbRoute, movieLensTitleKeys, normaliseTitle, tconstOf } from './imdb-titles';

/** Where IMDb publishes the dumps (`<base>/<file>`). */
export const IMDB_BASE_URL = 'https://datasets.imdbws.com';

/** The dumps the join reads and their header lines (tab-separated). */
export const IMDB_DUMPS = {
  basics: {
    file: 'title.basics.tsv.gz',
    columns: [
      'tconst',
      'titleType',
      'primaryTitle',
      'originalTitle',
      'isAdult',
      'startYear',
      'endYear',
      'runtimeMinutes',
      'genres',
    ],
  },
  crew: { file: 'title.crew.tsv.gz', columns: ['tconst', 'directors', 'writers'] },
  principals: {
    file: 'title.principals.tsv.gz',
    columns: ['tconst', 'ordering', 'nconst', 'category', 'job', 'characters'],
  },
  names: {
    file: 'name.basics.tsv.gz',
    columns: ['nconst', 'primaryName', 'birthYear', 'deathYear', 'primaryProfession', 'knownForTitles'],
  },
  ratings: { file: 'title.ratings.tsv.gz', columns: ['tconst', 'averageRating', 'numVotes'] },
} as const;
export type ImdbDump = keyof typeof IMDB_DUMPS;
export const IMDB_DUMP_NAMES = Object.keys(IMDB_DUMPS) as ImdbDump[];

/** What IMDb's terms allow, for help texts and errors. */
export const IMDB_TERMS =
  "IMDb's datasets are for personal and non-commercial use only (https://developer.imdb.com/non-commercial-datasets/)";

/** Bumped when the join's rules or the cache layout change (old caches are then ignored). */
const JOIN_VERSION = 1;

/** `<data dir>/imdb`. */
export function imdbDir(dataDir?: string): string {
  return join(resolveDataDir(dataDir), 'imdb');
}

/** True when `<data dir>/imdb/` exists (whether or not every dump is in it). */
export function imdbPresent(dataDir?: string): boolean {
  return existsSync(imdbDir(dataDir));
}

/** A person list per movie (CSR): row r's people are `people.ids[indices[k]]` for k in indptr[r] .. indptr[r+1]). */
export interface ImdbPeopleLists {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
}

export interface ImdbMatchStats {
  /** Movies in the dataset's movies file. */
  movies: number;
  matched: number;
  unmatched: number;
  /** How the matched movies were found; the four add up to `matched`. */
  byRoute: { links: number; titleYear: number; titleYearNear: number; ambiguousResolved: number };
  /** Links whose tconst title.basics lacks (those movies went on to the title match). */
  danglingLinks: number;
  /** Distinct people in the lists. */
  people: number;
  /** Mean list length over matched movies. */
  peoplePerMovie: { directors: number; writers: number; actors: number };
}

/**
 * The IMDb join of one dataset, one row per movie of its movies file in ascending movieId order (the catalogue's
 * row order). Unmatched rows: tconst '', route null, NaN / 0 numbers, empty lists.
 */
export interface ImdbJoin {
  dataset: string;
  size: number;
  movieIds: Int32Array;
  tconsts: string[];
  routes: Array<ImdbRoute | null>;
  /** IMDb primaryTitle. */
  titles: string[];
  titleTypes: string[];
  /** IMDb startYear, 0 when unknown. */
  years: Int16Array;
  /** runtimeMinutes, NaN when unknown. */
  runtimes: Float32Array;
  /** averageRating (1–10), NaN when unrated. */
  ratings: Float32Array;
  /** numVotes, 0 when unrated. */
  votes: Int32Array;
  /** The people vocabulary: nconsts (ascending) and their primaryName (the nconst when name.basics lacks it). */
  people: { ids: string[]; names: string[] };
  directors: ImdbPeopleLists;
  writers: ImdbPeopleLists;
  /** Actors and actresses from title.principals, in billing order (`ordering`), at most `maxActors`. */
  actors: ImdbPeopleLists;
  stats: ImdbMatchStats;
  /** Where the join came from: `hit` true when it was read from the cache instead of scanning the dumps. */
  cache: { hit: boolean; file: string; key: string };
  /** Time the load took, in seconds. */
  seconds: number;
}

export interface ImdbLoadOptions {
  dataDir?: string;
  /** Top-billed actors/actresses kept per movie (default 10). */
  maxActors?: number;
  /** Read and write the cache (default true). */
  cache?: boolean;
  /** Progress bar of the scan (default 'auto': stderr, or the notebook). */
  progress?: ProgressOutput;
}

/** The path of one dump, or a DataError naming the missing file and how to get it. */
export function imdbDumpPath(dir: string, dump: ImdbDump): string {
  const file = IMDB_DUMPS[dump].file;
  const path = join(dir, file);
  if (!existsSync(path))
    throw new DataError(
      path,
      undefined,
      `IMDb dump ${file} is missing: run \`reelab data fetch imdb\` (into ${dir}) or download ${IMDB_BASE_URL}/${file} from IMDb's datasets page (https://developer.imdb.com/non-commercial-datasets/) into that folder`,
    );
  return path;
}

/**
 * Joins IMDb's dumps onto a MovieLens dataset (see the module comment): reads the cache when the dumps and the
 * dataset's files are unchanged, else scans and writes it.
 */
export async function loadImdb(dataset: string, options: ImdbLoadOptions = {}): Promise<ImdbJoin> {
  const started = performance.now();
  if (!isMovieLensName(dataset))
    throw new ConfigError('dataset', `the IMDb join needs a MovieLens dataset, not "${dataset}"`);
  const spec = MOVIELENS[dataset];
  const dataDir = resolveDataDir(options.dataDir);
  const dir = datasetDir(dataDir, spec.name, spec.moviesFile);
  const idir = join(dataDir, 'imdb');
  const paths = {} as Record<ImdbDump, string>;
  for (const d of IMDB_DUMP_NAMES) paths[d] = imdbDumpPath(idir, d);
  const maxActors = options.maxActors ?? 10;
  if (!Number.isInteger(maxActors) || maxActors < 0)
    throw new ConfigError('maxActors', `must be a non-negative integer, got ${maxActors}`);
  const linksFile =
    spec.linksFile && existsSync(join(dir, spec.linksFile)) ? join(dir, spec.linksFile) : null;
  const dumpSha: Record<string, string> = {};
  for (const d of IMDB_DUMP_NAMES) dumpSha[IMDB_DUMPS[d].file] = await sha256FileCached(paths[d]);
  const key = hashValue({
    version: JOIN_VERSION,
    dataset,
    dumps: dumpSha,
    movies: await sha256FileCached(join(dir, spec.moviesFile)),
    links: linksFile ? await sha256FileCached(linksFile) : null,
    maxActors,
  });
  const cacheDir = join(idir, '.cache');
  const cacheFile = join(cacheDir, `${dataset}.${key.slice(0, 16)}.json`);
  const useCache = options.cache !== false;
  if (useCache && existsSync(cacheFile)) {
    const cached = readCache(cacheFile, key);
    if (cached)
      return {
        ...cached,
        dataset,
        cache: { hit: true, file: cacheFile, key },
        seconds: (performance.now() - started) / 1000,
      };
  }
  for (const d of IMDB_DUMP_NAMES) checkHeader(paths[d], IMDB_DUMPS[d].columns);
  const join_ = await scan(dataset, dir, spec, linksFile, paths, maxActors, options.progress ?? 'auto');
  if (useCache) writeCache(cacheDir, cacheFile, dataset, key, join_);
  return {
    ...join_,
    dataset,
    cache: { hit: false, file: cacheFile, key },
    seconds: (performance.now() - started) / 1000,
  };
}

/** The match counts of a dataset's IMDb join, or null when `<data dir>/imdb/` does not exist. */
export async function describeImdbMatch(
  dataset: string,
  options: ImdbLoadOptions = {},
): Promise<(ImdbMatchStats & { cacheHit: boolean; seconds: number }) | null> {
  if (!imdbPresent(options.dataDir) || !isMovieLensName(dataset)) return null;
  const j = await loadImdb(dataset, options);
  return { ...j.stats, cacheHit: j.cache.hit, seconds: j.seconds };
}

/** Names of row r's people in one list (e.g. `peopleOf(join, join.directors, row)`). */
export function peopleOf(join: ImdbJoin, lists: ImdbPeopleLists, row: number): string[] {
  const out: string[] = [];
  for (let k = lists.indptr[row]!; k < lists.indptr[row + 1]!; k++)
    out.push(join.people.names[lists.indices[k]!]!);
  return out;
}

type JoinBody = Omit<ImdbJoin, 'dataset' | 'cache' | 'seconds'>;

/** A `read_csv` of one dump as published: every column VARCHAR, tab, no quoting, `\N` null, header skipped. */
function readDump(path: string, columns: readonly string[]): string {
  const cols = columns.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ');
  return `read_csv(${sqlString(path)}, delim='\t', header=true, quote='', escape='', nullstr='\\N', auto_detect=false, compression='gzip', columns={${cols}})`;
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Runs a query that reads `dump`, turning DuckDB's CSV errors into a DataError naming the file and line. */
async function runOn(
  connection: DuckDBConnection,
  path: string,
  columns: readonly string[],
  sql: string,
): Promise<Record<string, unknown>[]> {
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } catch (err) {
    const msg = errorMessage(err);
    const line = /CSV Error on Line: (\d+)/.exec(msg);
    const count = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(msg);
    if (line && count)
      throw new DataError(
        path,
        Number(line[1]),
        `expected ${count[1]} tab-separated fields (${columns.join(' ')}), found ${count[2]}`,
      );
    if (line) throw new DataError(path, Number(line[1]), msg.split('\n')[0]!.replace(/^.*Error: /, ''));
    throw new DataError(path, undefined, `cannot read the dump: ${msg.split('\n')[0]}`);
  }
}

/** Checks the first line of a gzip dump against the published header (a wrong or renamed file fails here). */
function checkHeader(path: string, columns: readonly string[]): void {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(64 * 1024);
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  let text: string;
  try {
    text = gunzipSync(buf.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8');
  } catch (err) {
    throw new DataError(path, undefined, `not a gzip file (${errorMessage(err)}): fetch it again`);
  }
  const nl = text.indexOf('\n');
  const header = (nl >= 0 ? text.slice(0, nl) : text).replace(/\r$/, '');
  if (header !== columns.join('\t'))
    throw new DataError(
      path,
      1,
      `expected the header "${columns.join('\\t')}", found "${header.slice(0, 200).replace(/\t/g, '\\t')}"`,
    );
}

async function scan(
  dataset: string,
  dir: string,
  spec: MovieLensSpec,
  linksFile: string | null,
  paths: Record<ImdbDump, string>,
  maxActors: number,
  output: ProgressOutput,
): Promise<JoinBody> {
  const movies = readMovies(dir, spec).sort((a, b) => a.movieId - b.movieId);
  const n = movies.length;
  const movieIds = Int32Array.from(movies, (m) => m.movieId);
  const linked: string[] = new Array(n).fill('');
  if (linksFile) {
    const links = readLinks(dir, spec);
    const rowOf = new Map<number, number>();
    for (let r = 0; r < n; r++) rowOf.set(movieIds[r]!, r);
    for (let k = 0; k < links.size; k++) {
      const r = rowOf.get(links.movieIds[k]!);
      if (r !== undefined && links.imdbIds[k]! > 0) linked[r] = tconstOf(links.imdbIds[k]!);
    }
  }
  const years = new Set<number>();
  for (let r = 0; r < n; r++) {
    const y = movies[r]!.year;
    if (y !== null) for (const d of [-1, 0, 1]) years.add(y + d);
  }
  const bar = progress({ label: `IMDb join ${dataset}`, total: 6, unit: 'steps', output });
  // Required here, not imported: lib/data loads without the native DuckDB addon until a join is scanned.
  const { DuckDBInstance } = require('@duckdb/node-api') as typeof import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    await c.run('CREATE TEMP TABLE link_ids (tconst VARCHAR)');
    await appendStrings(c, 'link_ids', [...new Set(linked.filter((t) => t))]);
    await c.run('CREATE TEMP TABLE wanted_years (y INTEGER)');
    const ya = await c.createAppender('wanted_years');
    for (const y of years) {
      ya.appendInteger(y);
      ya.endRow();
    }
    ya.closeSync();

    // 1. title.basics: the linked titles (any type) and the title-match candidates (type and year).
    bar.detail(IMDB_DUMPS.basics.file);
    const types = TITLE_MATCH_TYPES.map(sqlString).join(', ');
    await runOn(
      c,
      paths.basics,
      IMDB_DUMPS.basics.columns,
      `CREATE TEMP TABLE basics AS SELECT tconst, titleType, primaryTitle, originalTitle,
         TRY_CAST(startYear AS INTEGER) AS start_year, TRY_CAST(runtimeMinutes AS INTEGER) AS runtime
       FROM ${readDump(paths.basics, IMDB_DUMPS.basics.columns)}
       WHERE tconst IN (SELECT tconst FROM link_ids)
          OR (titleType IN (${types}) AND TRY_CAST(startYear AS INTEGER) IN (SELECT y FROM wanted_years))`,
    );
    bar.tick(1);
    // 2. title.ratings of those titles (votes also break ties between same-titled candidates).
    bar.detail(IMDB_DUMPS.ratings.file);
    await runOn(
      c,
      paths.ratings,
      IMDB_DUMPS.ratings.columns,
      `CREATE TEMP TABLE ratings AS SELECT tconst, TRY_CAST(averageRating AS DOUBLE) AS rating,
         TRY_CAST(numVotes AS INTEGER) AS votes
       FROM ${readDump(paths.ratings, IMDB_DUMPS.ratings.columns)}
       WHERE tconst IN (SELECT tconst FROM basics)`,
    );
    bar.tick(1);

    // 3. Match: links first, then title + year for the rest.
    bar.detail('matching titles');
    const known = new Set(
      (
        (
          await c.runAndReadAll('SELECT tconst FROM basics WHERE tconst IN (SELECT tconst FROM link_ids)')
        ).getRowObjectsJS() as Array<{ tconst: string }>
      ).map((row) => row.tconst),
    );
    const tconsts: string[] = new Array(n).fill('');
    const routes: Array<ImdbRoute | null> = new Array(n).fill(null);
    let danglingLinks = 0;
    const byTitle: number[] = [];
    for (let r = 0; r < n; r++) {
      if (linked[r] && known.has(linked[r]!)) {
        tconsts[r] = linked[r]!;
        routes[r] = 'links';
      } else {
        if (linked[r]) danglingLinks++;
        if (movies[r]!.year !== null) byTitle.push(r);
      }
    }
    if (byTitle.length > 0) {
      const needYears = new Set<number>();
      for (const r of byTitle) for (const d of [-1, 0, 1]) needYears.add(movies[r]!.year! + d);
      const rows = await c.runAndReadAll(
        `SELECT b.tconst, b.primaryTitle, b.originalTitle, b.titleType, b.start_year, COALESCE(r.votes, 0) AS votes
         FROM basics b LEFT JOIN ratings r USING (tconst)
         WHERE b.titleType IN (${types}) AND b.start_year IN (${[...needYears].join(', ')})`,
      );
      const candidates: TitleCandidate[] = (rows.getRowObjectsJS() as Record<string, unknown>[]).map(
        (row) => ({
          tconst: String(row.tconst),
          primaryTitle: String(row.primaryTitle ?? ''),
          originalTitle: row.originalTitle === null ? null : String(row.originalTitle),
          titleType: String(row.titleType),
          year: row.start_year === null ? null : Number(row.start_year),
          votes: Number(row.votes),
        }),
      );
      const matches = matchTitles(
        byTitle.map((r) => movies[r]!),
        candidates,
      );
      matches.forEach((m, k) => {
        if (m.candidate < 0) return;
        tconsts[byTitle[k]!] = candidates[m.candidate]!.tconst;
        routes[byTitle[k]!] = m.route;
      });
    }
    await c.run('CREATE TEMP TABLE wanted (tconst VARCHAR)');
    await appendStrings(c, 'wanted', [...new Set(tconsts.filter((t) => t))]);
    bar.tick(1);

    // 4. title.crew: directors and writers (comma-separated nconsts, in IMDb's order).
    bar.detail(IMDB_DUMPS.crew.file);
    const crew = await runOn(
      c,
      paths.crew,
      IMDB_DUMPS.crew.columns,
      `SELECT tconst, directors, writers FROM ${readDump(paths.crew, IMDB_DUMPS.crew.columns)}
       WHERE tconst IN (SELECT tconst FROM wanted)`,
    );
    bar.tick(1);
    // 5. title.principals: top-billed actors and actresses, in billing order.
    bar.detail(IMDB_DUMPS.principals.file);
    const cast =
      maxActors === 0
        ? []
        : await runOn(
            c,
            paths.principals,
            IMDB_DUMPS.principals.columns,
            `SELECT tconst, nconst, TRY_CAST(ordering AS INTEGER) AS ord
             FROM ${readDump(paths.principals, IMDB_DUMPS.principals.columns)}
             WHERE category IN ('actor', 'actress') AND tconst IN (SELECT tconst FROM wanted)
             QUALIFY row_number() OVER (PARTITION BY tconst ORDER BY TRY_CAST(ordering AS INTEGER), nconst) <= ${maxActors}
             ORDER BY tconst, ord, nconst`,
          );
    bar.tick(1);

    const splitIds = (v: unknown) => (typeof v === 'string' && v ? v.split(',').filter((x) => x) : []);
    const crewOf = new Map<string, { directors: string[]; writers: string[] }>();
    for (const row of crew)
      crewOf.set(String(row.tconst), { directors: splitIds(row.directors), writers: splitIds(row.writers) });
    const castOf = new Map<string, string[]>();
    for (const row of cast) {
      const t = String(row.tconst);
      let list = castOf.get(t);
      if (!list) {
        list = [];
        castOf.set(t, list);
      }
      list.push(String(row.nconst));
    }
    const everyone = new Set<string>();
    for (const v of crewOf.values()) for (const p of [...v.directors, ...v.writers]) everyone.add(p);
    for (const v of castOf.values()) for (const p of v) everyone.add(p);
    const ids = [...everyone].sort();

    // 6. name.basics: the names of those people.
    bar.detail(IMDB_DUMPS.names.file);
    await c.run('CREATE TEMP TABLE wanted_people (nconst VARCHAR)');
    await appendStrings(c, 'wanted_people', ids);
    const nameRows = await runOn(
      c,
      paths.names,
      IMDB_DUMPS.names.columns,
      `SELECT nconst, primaryName FROM ${readDump(paths.names, IMDB_DUMPS.names.columns)}
       WHERE nconst IN (SELECT nconst FROM wanted_people)`,
    );
    const nameOf = new Map<string, string>();
    for (const row of nameRows)
      if (row.primaryName !== null) nameOf.set(String(row.nconst), String(row.primaryName));
    const names = ids.map((id) => nameOf.get(id) ?? id);
    bar.tick(1);

    const infoRows = await c.runAndReadAll(
      `SELECT b.tconst, b.primaryTitle, b.titleType, b.start_year, b.runtime, r.rating, r.votes
       FROM basics b LEFT JOIN ratings r USING (tconst) WHERE b.tconst IN (SELECT tconst FROM wanted)`,
    );
    const info = new Map<string, Record<string, unknown>>();
    for (const row of infoRows.getRowObjectsJS() as Record<string, unknown>[])
      info.set(String(row.tconst), row);

    const indexOf = new Map(ids.map((id, i) => [id, i]));
    const lists = () => ({ indptr: new Int32Array(n + 1), indices: [] as number[] });
    const dl = lists();
    const wl = lists();
    const al = lists();
    const titles: string[] = new Array(n).fill('');
    const titleTypes: string[] = new Array(n).fill('');
    const imdbYears = new Int16Array(n);
    const runtimes = new Float32Array(n).fill(Number.NaN);
    const ratings = new Float32Array(n).fill(Number.NaN);
    const votes = new Int32Array(n);
    const byRoute = { links: 0, titleYear: 0, titleYearNear: 0, ambiguousResolved: 0 };
    for (let r = 0; r < n; r++) {
      const t = tconsts[r]!;
      if (t) {
        const row = info.get(t)!;
        titles[r] = String(row.primaryTitle ?? '');
        titleTypes[r] = String(row.titleType ?? '');
        imdbYears[r] = row.start_year === null ? 0 : Number(row.start_year);
        runtimes[r] = row.runtime === null ? Number.NaN : Number(row.runtime);
        ratings[r] = row.rating === null || row.rating === undefined ? Number.NaN : Number(row.rating);
        votes[r] = row.votes === null || row.votes === undefined ? 0 : Number(row.votes);
        const cr = crewOf.get(t);
        for (const p of cr?.directors ?? []) dl.indices.push(indexOf.get(p)!);
        for (const p of cr?.writers ?? []) wl.indices.push(indexOf.get(p)!);
        for (const p of castOf.get(t) ?? []) al.indices.push(indexOf.get(p)!);
        const route = routes[r]!;
        if (route === 'links') byRoute.links++;
        else if (route === 'title-year') byRoute.titleYear++;
        else if (route === 'title-year±1') byRoute.titleYearNear++;
        else byRoute.ambiguousResolved++;
      }
      dl.indptr[r + 1] = dl.indices.length;
      wl.indptr[r + 1] = wl.indices.length;
      al.indptr[r + 1] = al.indices.length;
    }
    const matched = byRoute.links + byRoute.titleYear + byRoute.titleYearNear + byRoute.ambiguousResolved;
    const mean = (len: number) => (matched ? Math.round((len / matched) * 1000) / 1000 : 0);
    bar.done(`${matched}/${n} matched`);
    return {
      size: n,
      movieIds,
      tconsts,
      routes,
      titles,
      titleTypes,
      years: imdbYears,
      runtimes,
      ratings,
      votes,
      people: { ids, names },
      directors: { indptr: dl.indptr, indices: Int32Array.from(dl.indices) },
      writers: { indptr: wl.indptr, indices: Int32Array.from(wl.indices) },
      actors: { indptr: al.indptr, indices: Int32Array.from(al.indices) },
      stats: {
        movies: n,
        matched,
        unmatched: n - matched,
        byRoute,
        danglingLinks,
        people: ids.length,
        peoplePerMovie: {
          directors: mean(dl.indices.length),
          writers: mean(wl.indices.length),
          actors: mean(al.indices.length),
        },
      },
    };
  } finally {
    bar.done();
    c.closeSync();
    instance.closeSync();
  }
}

async function appendStrings(c: DuckDBConnection, table: string, values: readonly string[]): Promise<void> {
  const a = await c.createAppender(table);
  for (const v of values) {
    a.appendVarchar(v);
    a.endRow();
  }
  a.closeSync();
}

// ---- cache ------------------------------------------------------------------------------------------------

interface CacheFile {
  version: number;
  key: string;
  dataset: string;
  body: Omit<
    JoinBody,
    'movieIds' | 'years' | 'runtimes' | 'ratings' | 'votes' | 'directors' | 'writers' | 'actors'
  > & {
    movieIds: number[];
    years: number[];
    runtimes: Array<number | null>;
    ratings: Array<number | null>;
    votes: number[];
    directors: { indptr: number[]; indices: number[] };
    writers: { indptr: number[]; indices: number[] };
    actors: { indptr: number[]; indices: number[] };
  };
}

function writeCache(cacheDir: string, file: string, dataset: string, key: string, body: JoinBody): void {
  const nums = (a: Float32Array) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));
  const csr = (l: ImdbPeopleLists) => ({ indptr: Array.from(l.indptr), indices: Array.from(l.indices) });
  const out: CacheFile = {
    version: JOIN_VERSION,
    key,
    dataset,
    body: {
      ...body,
      movieIds: Array.from(body.movieIds),
      years: Array.from(body.years),
      runtimes: nums(body.runtimes),
      ratings: nums(body.ratings),
      votes: Array.from(body.votes),
      directors: csr(body.directors),
      writers: csr(body.writers),
      actors: csr(body.actors),
    },
  };
  try {
    mkdirSync(cacheDir, { recursive: true });
    // Older joins of this dataset are stale now.
    for (const f of readdirSync(cacheDir))
      if (f.startsWith(`${dataset}.`) && f.endsWith('.json')) rmSync(join(cacheDir, f), { force: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(out));
    renameSync(tmp, file);
  } catch {
    // A read-only data dir only loses the cache.
  }
}

function readCache(file: string, key: string): JoinBody | null {
  let parsed: CacheFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
  } catch {
    return null;
  }
  if (parsed.version !== JOIN_VERSION || parsed.key !== key) return null;
  const b = parsed.body;
  const nums = (a: Array<number | null>) => Float32Array.from(a, (v) => (v === null ? Number.NaN : v));
  const csr = (l: { indptr: number[]; indices: number[] }) => ({
    indptr: Int32Array.from(l.indptr),
    indices: Int32Array.from(l.indices),
  });
  return {
    ...b,
    movieIds: Int32Array.from(b.movieIds),
    years: Int16Array.from(b.years),
    runtimes: nums(b.runtimes),
    ratings: nums(b.ratings),
    votes: Int32Array.from(b.votes),
    directors: csr(b.directors),
    writers: csr(b.writers),
    actors: csr(b.actors),
  };
}
