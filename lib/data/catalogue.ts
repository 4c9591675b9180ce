import { DataError } from '../util/errors';
import type { IdMap } from './id-map';
import type { Movie } from './movies';

/**
 * The movie catalogue in columnar form, in ascending movieId order, aligned with the ratings' item index space:
 * `itemIndex[row]` is the movie's item index, or -1 for a movie nobody rated; `rowOfItem[item]` goes back.
 */
export interface MovieCatalogue {
  readonly size: number;
  readonly movieIds: Int32Array;
  readonly titles: string[];
  /** Release year, or 0 when unknown. */
  readonly years: Int16Array;
  /** Genre names in first-seen order (ml-100k: the u.genre order). */
  readonly genreNames: string[];
  /** Genres of row r are genreIndices[genreIndptr[r] .. genreIndptr[r+1]). */
  readonly genreIndptr: Int32Array;
  readonly genreIndices: Int32Array;
  readonly itemIndex: Int32Array;
  readonly rowOfItem: Int32Array;
}

/**
 * Builds the catalogue from parsed movies and the ratings' item ids. A rated movie that is missing from the
 * movies file is an error (naming `moviesFile`), never a silently title-less item.
 */
export function movieCatalogue(
  movies: readonly Movie[],
  itemIds: IdMap,
  moviesFile: string,
  genreOrder: readonly string[] = [],
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
  const rowOfItem = new Int32Array(itemIds.size).fill(-1);
  for (let r = 0; r < n; r++) {
    const m = movies[order[r]!]!;
    movieIds[r] = m.movieId;
    titles[r] = m.title;
    years[r] = m.year ?? 0;
    for (const g of m.genres) {
      let gi = genreIndex.get(g);
      if (gi === undefined) {
        gi = genreNames.length;
        genreNames.push(g);
        genreIndex.set(g, gi);
      }
      genreList.push(gi);
    }
    genreIndptr[r + 1] = genreList.length;
    const item = itemIds.index(m.movieId);
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
        `movie ${itemIds.id(i)} has ratings but is not in this file`,
      );
  }
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
  };
}

/** Genre names of a catalogue row. */
export function genresOf(catalogue: MovieCatalogue, row: number): string[] {
  const out: string[] = [];
  for (let k = catalogue.genreIndptr[row]!; k < catalogue.genreIndptr[row + 1]!; k++)
    out.push(catalogue.genreNames[catalogue.genreIndices[k]!]!);
  return out;
}

/** Catalogue row of a MovieLens movieId, or -1 (binary search; movieIds are ascending). */
export function rowOfMovie(catalogue: MovieCatalogue, movieId: number): number {
  let lo = 0;
  let hi = catalogue.size - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = catalogue.movieIds[mid]!;
    if (v === movieId) return mid;
    if (v < movieId) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
