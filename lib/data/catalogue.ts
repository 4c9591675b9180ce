import { ConfigError, DataError } from '../util/errors';
import { searchSorted } from '../util/search-sorted';
import type { Genome } from './genome';
import type { IdMap } from './id-map';
import type { Movie } from './movies';

/** Tag applications, columnar (lib/data/tags' `TagTable` fits): `vocabulary[tagIds[k]]` was applied to `movieIds[k]`. */
export interface TagApplications {
  readonly size: number;
  readonly movieIds: Int32Array;
  readonly tagIds: Int32Array;
  readonly vocabulary: readonly string[];
}

/**
 * Tags per catalogue row (CSR): row r's tag applications are `vocabulary[indices[k]]` for k in
 * indptr[r] .. indptr[r+1]), one entry per application (a tag applied twice counts twice), in file order.
 */
export interface CatalogueTags {
  readonly vocabulary: readonly string[];
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
}

/** The tag genome with each catalogue row's row in it (`relevance` is genome rows × tags, row-major). */
export interface CatalogueGenome extends Genome {
  /** Genome row of catalogue row r, or -1 when the genome has no scores for that movie. */
  readonly rowOf: Int32Array;
}

/** External ids per catalogue row (links.csv), -1 where unknown. */
export interface CatalogueLinks {
  readonly imdbIds: Int32Array;
  readonly tmdbIds: Int32Array;
}

/**
 * The people vocabulary of the IMDb columns: person p is IMDb's `nconsts[p]` (e.g. "nm0005124"), ascending, named
 * `names[p]` (name.basics' primaryName; the nconst itself when name.basics lacks the person).
 */
export interface CataloguePeople {
  readonly nconsts: readonly string[];
  readonly names: readonly string[];
}

/**
 * A person list per catalogue row (CSR, like the genre columns): row r's people are `people.*[indices[k]]` for
 * k in indptr[r] .. indptr[r+1]), in IMDb's order (for actors: billing order); empty for an unmatched row.
 */
export interface CataloguePeopleLists {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
}

/** Dense per-row vectors, e.g. text embeddings of title + overview (`values` is rows × dims, row-major). */
export interface CatalogueVectors {
  /** What produced them (e.g. "all-MiniLM-L6-v2"). */
  readonly model: string;
  readonly dims: number;
  readonly values: Float32Array;
}

/**
 * THE movie catalogue: every piece of side information a model, a metric or a plot gets about movies, in
 * columnar form (typed arrays and string arrays, so it structured-clones into worker threads), in ascending
 * movieId order and aligned with the ratings' item index space: `itemIndex[row]` is the movie's item index, or
 * -1 for a movie nobody rated; `rowOfItem[item]` goes back. Built once in lib/data (`loadDataset`,
 * `loadCatalogue`, `movieCatalogue`) and handed to models through `fit(train, { catalogue })`; models never
 * read files.
 *
 * Optional parts are null when the release lacks them (or they were not loaded). The IMDb columns and the
 * fields marked "later" (text embeddings) are absent or null unless attached, and every consumer must treat
 * them as optional.
 */
export interface MovieCatalogue {
  readonly size: number;
  readonly movieIds: Int32Array;
  readonly titles: string[];
  /** Release year, or 0 when unknown. */
  readonly years: Int16Array;
  /** Genre names: the u.genre order (ml-100k), the synthetic order, else sorted by name. */
  readonly genreNames: string[];
  /** Genres of row r are genreIndices[genreIndptr[r] .. genreIndptr[r+1]), distinct, in the file's order. */
  readonly genreIndptr: Int32Array;
  readonly genreIndices: Int32Array;
  readonly itemIndex: Int32Array;
  readonly rowOfItem: Int32Array;
  /** Tag applications per movie (tags.csv / tags.dat), or null. */
  readonly tags: CatalogueTags | null;
  /** Tag-genome relevance scores (ml-20m and later, when loaded), or null. */
  readonly genome: CatalogueGenome | null;
  /** IMDb / TMDB ids (links.csv), or null. */
  readonly links: CatalogueLinks | null;
  /*
   * IMDb columns (lib/data/imdb-catalogue `attachImdb`, from the IMDb join of lib/data/imdb): absent (or null)
   * when the dataset has no IMDb data — `<data dir>/imdb/` missing, a synthetic dataset, or not attached — and
   * all set together otherwise. A row IMDb did not match has tconst '', NaN runtime / rating, 0 year / votes
   * and empty person lists.
   */
  /** IMDb title id per row (e.g. "tt0114709"), '' when unmatched. */
  readonly tconsts?: readonly string[] | null;
  /** The people the directors / writers / actors lists point into. */
  readonly people?: CataloguePeople | null;
  /** IMDb directors per row (title.crew order). */
  readonly directors?: CataloguePeopleLists | null;
  /** IMDb writers per row (title.crew order). */
  readonly writers?: CataloguePeopleLists | null;
  /** IMDb top-billed actors and actresses per row, in billing order (title.principals `ordering`). */
  readonly actors?: CataloguePeopleLists | null;
  /** Runtime in minutes (title.basics runtimeMinutes), NaN when unknown. */
  readonly runtimes?: Float32Array | null;
  /** IMDb release year (title.basics startYear), 0 when unknown. */
  readonly imdbYears?: Int16Array | null;
  /** IMDb average rating (1–10), NaN when unknown. */
  readonly imdbRatings?: Float32Array | null;
  /** IMDb number of votes, 0 when unknown. */
  readonly imdbVotes?: Int32Array | null;
  /** Later: text embeddings per movie. */
  readonly textEmbeddings?: CatalogueVectors | null;
}

/** The optional parts `movieCatalogue` joins onto the movies (matched by MovieLens movieId). */
export interface CatalogueParts {
  tags?: TagApplications | null;
  genome?: Genome | null;
  links?: {
    readonly size: number;
    readonly movieIds: Int32Array;
    readonly imdbIds: Int32Array;
    readonly tmdbIds: Int32Array;
  } | null;
}

/**
 * Builds the catalogue from parsed movies, the ratings' item ids and the optional parts. A rated movie that is
 * missing from the movies file is an error (naming `moviesFile`), never a silently title-less item. `itemIds`
 * null: a catalogue of movies without ratings (e.g. new movies to score), every itemIndex -1.
 */
export function movieCatalogue(
  movies: readonly Movie[],
  itemIds: IdMap | null,
  moviesFile: string,
  genreOrder: readonly string[] = [],
  parts: CatalogueParts = {},
): MovieCatalogue {
  const order = movies.map((_, i) => i).sort((a, b) => movies[a]!.movieId - movies[b]!.movieId);
  const n = movies.length;
  const movieIds = new Int32Array(n);
  const titles: string[] = new Array(n);
  const years = new Int16Array(n);
  const genreNames = [...genreOrder];
  const genreIndex = new Map<string, number>(genreNames.map((g, i) => [g, i]));
  const genreIndptr = new Int32Array(n + 1);
  const genreList: number[] = [];
  const itemIndex = new Int32Array(n);
  const rowOfItem = new Int32Array(itemIds ? itemIds.size : 0).fill(-1);
  for (let r = 0; r < n; r++) {
    const m = movies[order[r]!]!;
    movieIds[r] = m.movieId;
    if (r > 0 && movieIds[r - 1] === m.movieId)
      throw new DataError(moviesFile, undefined, `duplicate movie id ${m.movieId}`);
    titles[r] = m.title;
    years[r] = m.year ?? 0;
    const start = genreList.length;
    for (const g of m.genres) {
      let gi = genreIndex.get(g);
      if (gi === undefined) {
        gi = genreNames.length;
        genreNames.push(g);
        genreIndex.set(g, gi);
      }
      let dup = false;
      for (let k = start; k < genreList.length; k++) if (genreList[k] === gi) dup = true;
      if (!dup) genreList.push(gi);
    }
    genreIndptr[r + 1] = genreList.length;
    const item = itemIds ? itemIds.index(m.movieId) : -1;
    itemIndex[r] = item;
    if (item >= 0) rowOfItem[item] = r;
  }
  let genreIndices = Int32Array.from(genreList);
  let names = genreNames;
  if (genreOrder.length === 0) {
    // Without a fixed order (u.genre), genres are sorted by name so columns do not depend on file order.
    names = [...genreNames].sort();
    const remap = genreNames.map((g) => names.indexOf(g));
    genreIndices = Int32Array.from(genreList, (g) => remap[g]!);
  }
  for (let i = 0; i < rowOfItem.length; i++) {
    if (rowOfItem[i]! < 0)
      throw new DataError(
        moviesFile,
        undefined,
        `movie ${itemIds!.id(i)} has ratings but is not in this file`,
      );
  }
  const rowOfId = (id: number) => searchSorted(movieIds, id);
  return {
    size: n,
    movieIds,
    titles,
    years,
    genreNames: names,
    genreIndptr,
    genreIndices,
    itemIndex,
    rowOfItem,
    tags: parts.tags ? catalogueTags(parts.tags, n, rowOfId) : null,
    genome: parts.genome ? catalogueGenome(parts.genome, movieIds) : null,
    links: parts.links ? catalogueLinks(parts.links, n, rowOfId) : null,
  };
}

/** Groups tag applications by catalogue row, keeping file order within a movie (a stable counting sort). */
function catalogueTags(tags: TagApplications, n: number, rowOfId: (id: number) => number): CatalogueTags {
  const rows = new Int32Array(tags.size);
  const indptr = new Int32Array(n + 1);
  for (let k = 0; k < tags.size; k++) {
    const r = rowOfId(tags.movieIds[k]!);
    rows[k] = r;
    if (r >= 0) indptr[r + 1]!++;
  }
  for (let r = 0; r < n; r++) indptr[r + 1]! += indptr[r]!;
  const next = indptr.slice(0, n);
  const indices = new Int32Array(indptr[n]!);
  for (let k = 0; k < tags.size; k++) {
    const r = rows[k]!;
    if (r >= 0) indices[next[r]!++] = tags.tagIds[k]!;
  }
  return { vocabulary: tags.vocabulary, indptr, indices };
}

function catalogueGenome(genome: Genome, movieIds: Int32Array): CatalogueGenome {
  const rowOf = new Int32Array(movieIds.length);
  for (let r = 0; r < movieIds.length; r++) rowOf[r] = searchSorted(genome.movieIds, movieIds[r]!);
  return {
    movieIds: genome.movieIds,
    tagIds: genome.tagIds,
    tags: genome.tags,
    relevance: genome.relevance,
    rowOf,
  };
}

function catalogueLinks(
  links: NonNullable<CatalogueParts['links']>,
  n: number,
  rowOfId: (id: number) => number,
): CatalogueLinks {
  const imdbIds = new Int32Array(n).fill(-1);
  const tmdbIds = new Int32Array(n).fill(-1);
  for (let k = 0; k < links.size; k++) {
    const r = rowOfId(links.movieIds[k]!);
    if (r < 0) continue;
    imdbIds[r] = links.imdbIds[k]!;
    tmdbIds[r] = links.tmdbIds[k]!;
  }
  return { imdbIds, tmdbIds };
}

/** Genre names of a catalogue row. */
export function genresOf(catalogue: MovieCatalogue, row: number): string[] {
  const out: string[] = [];
  for (let k = catalogue.genreIndptr[row]!; k < catalogue.genreIndptr[row + 1]!; k++)
    out.push(catalogue.genreNames[catalogue.genreIndices[k]!]!);
  return out;
}

/** Tags applied to a catalogue row, one per application, in file order ([] without tags). */
export function tagsOf(catalogue: MovieCatalogue, row: number): string[] {
  const t = catalogue.tags;
  if (!t) return [];
  const out: string[] = [];
  for (let k = t.indptr[row]!; k < t.indptr[row + 1]!; k++) out.push(t.vocabulary[t.indices[k]!]!);
  return out;
}

/** Names of row r's people in one IMDb list (e.g. `peopleNamesOf(catalogue, catalogue.actors, r)`); [] without. */
export function peopleNamesOf(
  catalogue: MovieCatalogue,
  lists: CataloguePeopleLists | null | undefined,
  row: number,
): string[] {
  const people = catalogue.people;
  if (!lists || !people) return [];
  const out: string[] = [];
  for (let k = lists.indptr[row]!; k < lists.indptr[row + 1]!; k++)
    out.push(people.names[lists.indices[k]!]!);
  return out;
}

/** Catalogue row of a MovieLens movieId, or -1 (binary search; movieIds are ascending). */
export function rowOfMovie(catalogue: MovieCatalogue, movieId: number): number {
  return searchSorted(catalogue.movieIds, movieId);
}

/** The catalogue's rows back as `Movie` records (release year null when unknown), in movieId order. */
export function moviesOf(catalogue: MovieCatalogue): Movie[] {
  return Array.from({ length: catalogue.size }, (_, r) => ({
    movieId: catalogue.movieIds[r]!,
    title: catalogue.titles[r]!,
    year: catalogue.years[r] || null,
    genres: genresOf(catalogue, r),
  }));
}

/**
 * Catalogue row of every item of `itemIds` (-1 where the catalogue lacks the movie): `rowOfItem` itself when
 * the catalogue was built for these item ids, else matched by movieId (a catalogue of another item space).
 */
export function catalogueRows(catalogue: MovieCatalogue, itemIds: IdMap): Int32Array {
  const n = itemIds.size;
  if (catalogue.rowOfItem.length === n) {
    let aligned = true;
    for (let i = 0; i < n && aligned; i++) {
      const r = catalogue.rowOfItem[i]!;
      aligned = r >= 0 && catalogue.movieIds[r] === itemIds.id(i);
    }
    if (aligned) return catalogue.rowOfItem;
  }
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = searchSorted(catalogue.movieIds, itemIds.id(i));
  return rows;
}

/**
 * The catalogue a model's fit was given, or a ConfigError saying what to pass: models get side information
 * only through `fit(train, { catalogue })`.
 */
export function requireCatalogue(
  model: string,
  catalogue: MovieCatalogue | undefined | null,
  uses: string,
): MovieCatalogue {
  if (catalogue) return catalogue;
  throw new ConfigError(
    `model ${model}`,
    `uses ${uses} from the movie catalogue: pass fit(train, { catalogue }) with the dataset's catalogue ` +
      '(loadDataset(name).movies, or SideInformation.fitInputs() from lib/data/side-information)',
  );
}
