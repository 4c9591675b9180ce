/**
 * The IMDb join (lib/data/imdb `loadImdb`) attached to the movie catalogue as its IMDb columns (tconsts, people,
 * directors, writers, actors, runtimes, imdbYears, imdbRatings, imdbVotes; see `MovieCatalogue`). `loadDataset`
 * and `loadCatalogue` stay synchronous and never read IMDb; this is the one async step that adds it.
 */
import { ConfigError } from '../util/errors';
import { searchSorted } from '../util/search-sorted';
import type { CataloguePeopleLists, MovieCatalogue } from './catalogue';
import { type ImdbJoin, type ImdbLoadOptions, type ImdbPeopleLists, imdbPresent, loadImdb } from './imdb';
import { isMovieLensName } from './movielens';

/**
 * The catalogue with the IMDb columns of `dataset` set, from `loadImdb` (its cache under
 * `<data dir>/imdb/.cache/`, else a DuckDB scan of the dumps). Without IMDb data — no `<data dir>/imdb/`, or
 * not a MovieLens dataset (synthetic) — the catalogue itself is returned unchanged. A dump missing from an
 * existing `imdb/` folder is loadImdb's error. The input catalogue is never modified.
 */
export async function attachImdb(
  catalogue: MovieCatalogue,
  dataset: string,
  options: ImdbLoadOptions = {},
): Promise<MovieCatalogue> {
  if (!isMovieLensName(dataset) || !imdbPresent(options.dataDir)) return catalogue;
  return withImdbJoin(catalogue, await loadImdb(dataset, options));
}

/**
 * The catalogue with the columns of an IMDb join set (synchronous; `attachImdb` loads the join first). Rows are
 * matched by movieId, never by position: every catalogue movie must be in the join (a join of the same movies
 * file has exactly the catalogue's movies), else a ConfigError names the first missing movies — a join of
 * another dataset or of an older movies file is refused, not misaligned.
 */
export function withImdbJoin(catalogue: MovieCatalogue, join: ImdbJoin): MovieCatalogue {
  const n = catalogue.size;
  const joinRow = new Int32Array(n);
  const missing: number[] = [];
  for (let r = 0; r < n; r++) {
    const id = catalogue.movieIds[r]!;
    const j = searchSorted(join.movieIds, id);
    joinRow[r] = j;
    if (j < 0) missing.push(id);
  }
  if (missing.length > 0)
    throw new ConfigError(
      'imdb',
      `the IMDb join of ${join.dataset} (${join.size} movies) does not match this catalogue (${n} movies): ` +
        `${missing.length} catalogue movie${missing.length === 1 ? ' is' : 's are'} not in it (movieId ` +
        `${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}); attach the join of the ` +
        "catalogue's own dataset and movies file",
    );
  const tconsts: string[] = new Array(n);
  const runtimes = new Float32Array(n);
  const imdbYears = new Int16Array(n);
  const imdbRatings = new Float32Array(n);
  const imdbVotes = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const j = joinRow[r]!;
    tconsts[r] = join.tconsts[j]!;
    runtimes[r] = join.runtimes[j]!;
    imdbYears[r] = join.years[j]!;
    imdbRatings[r] = join.ratings[j]!;
    imdbVotes[r] = join.votes[j]!;
  }
  return {
    ...catalogue,
    tconsts,
    people: { nconsts: join.people.ids, names: join.people.names },
    directors: reindex(join.directors, joinRow),
    writers: reindex(join.writers, joinRow),
    actors: reindex(join.actors, joinRow),
    runtimes,
    imdbYears,
    imdbRatings,
    imdbVotes,
  };
}

/** The join's CSR lists re-rowed to the catalogue: catalogue row r gets join row `joinRow[r]`'s list. */
function reindex(lists: ImdbPeopleLists, joinRow: Int32Array): CataloguePeopleLists {
  const n = joinRow.length;
  const indptr = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) {
    const j = joinRow[r]!;
    indptr[r + 1] = indptr[r]! + lists.indptr[j + 1]! - lists.indptr[j]!;
  }
  const indices = new Int32Array(indptr[n]!);
  for (let r = 0; r < n; r++) {
    const j = joinRow[r]!;
    indices.set(lists.indices.subarray(lists.indptr[j]!, lists.indptr[j + 1]!), indptr[r]!);
  }
  return { indptr, indices };
}
