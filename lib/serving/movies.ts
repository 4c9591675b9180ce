import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IdMap } from '../data/id-map';
import type { Movie } from '../data/movies';
import { ConfigError, DataError } from '../util/errors';

export const MOVIES_FILE = 'movies.json';
const FORMAT = 'reelab-movies/1';

/** One movie as the API and the CLI show it. */
export interface MovieInfo {
  movieId: number;
  title: string;
  genres: string[];
  year: number | null;
}

/** movies.json: the model's items in item-index order (columnar, compact). */
interface MoviesFile {
  format: string;
  dataset: string;
  movieIds: number[];
  titles: string[];
  /** '|'-joined genre names. */
  genres: string[];
  years: Array<number | null>;
  /** Training interactions per item (orders search results and cold-start fallbacks). */
  popularity: number[];
}

/**
 * Titles, genres and years of a model's items, aligned with its item indices, plus a small title search.
 * Saved next to the model as movies.json so a model directory serves without the dataset.
 */
export class MovieTable {
  private readonly words: string[][];

  private constructor(
    readonly dataset: string,
    readonly movieIds: Int32Array,
    readonly titles: string[],
    readonly genres: string[][],
    readonly years: Array<number | null>,
    readonly popularity: Int32Array,
  ) {
    this.words = titles.map((t) => normalise(t).split(' ').filter(Boolean));
  }

  get size(): number {
    return this.movieIds.length;
  }

  /** The catalogue rows of the model's items (every item must have a movie). */
  static fromMovies(
    dataset: string,
    movies: readonly Movie[],
    items: IdMap,
    popularity: Int32Array,
  ): MovieTable {
    const byId = new Map<number, Movie>();
    for (const m of movies) byId.set(m.movieId, m);
    const n = items.size;
    const titles: string[] = new Array(n);
    const genres: string[][] = new Array(n);
    const years: Array<number | null> = new Array(n);
    for (let i = 0; i < n; i++) {
      const id = items.id(i);
      const m = byId.get(id);
      if (!m)
        throw new DataError(`${dataset} movies`, undefined, `movie ${id} is rated but not in the catalogue`);
      titles[i] = m.title;
      genres[i] = m.genres.filter((g) => g !== '(no genres listed)');
      years[i] = m.year;
    }
    return new MovieTable(dataset, Int32Array.from(items.ids), titles, genres, years, popularity);
  }

  static read(dir: string): MovieTable {
    const path = join(dir, MOVIES_FILE);
    let data: MoviesFile;
    try {
      data = JSON.parse(readFileSync(path, 'utf8')) as MoviesFile;
    } catch (err) {
      throw new DataError(path, undefined, `cannot read the movie table (${(err as Error).message})`);
    }
    if (data.format !== FORMAT) throw new DataError(path, undefined, `unsupported format ${data.format}`);
    const n = data.movieIds.length;
    for (const [name, arr] of [
      ['titles', data.titles],
      ['genres', data.genres],
      ['years', data.years],
      ['popularity', data.popularity],
    ] as const) {
      if (!Array.isArray(arr) || arr.length !== n)
        throw new DataError(path, undefined, `"${name}" has ${arr?.length} entries, expected ${n}`);
    }
    return new MovieTable(
      data.dataset,
      Int32Array.from(data.movieIds),
      data.titles,
      data.genres.map((g) => (g ? g.split('|') : [])),
      data.years,
      Int32Array.from(data.popularity),
    );
  }

  async write(dir: string): Promise<void> {
    const data: MoviesFile = {
      format: FORMAT,
      dataset: this.dataset,
      movieIds: Array.from(this.movieIds),
      titles: this.titles,
      genres: this.genres.map((g) => g.join('|')),
      years: this.years,
      popularity: Array.from(this.popularity),
    };
    await writeFile(join(dir, MOVIES_FILE), `${JSON.stringify(data)}\n`);
  }

  info(item: number): MovieInfo {
    return {
      movieId: this.movieIds[item]!,
      title: this.titles[item]!,
      genres: this.genres[item]!,
      year: this.years[item] ?? null,
    };
  }

  /**
   * Items whose title has every word of `query` as the start of one of its words ("the matrix" finds
   * "Matrix, The (1999)"), best first: more query words matching whole title words, then fewer other title words
   * (the shorter title), then more popular, then lower movieId. Accents and case are ignored.
   */
  search(query: string, limit: number): number[] {
    const q = normalise(query).split(' ').filter(Boolean);
    if (q.length === 0) throw new ConfigError('q', 'the search text has no letters or digits');
    const hits: Array<{ item: number; exact: number; extra: number }> = [];
    for (let i = 0; i < this.words.length; i++) {
      const w = this.words[i]!;
      let ok = true;
      let exact = 0;
      for (let t = 0; t < q.length && ok; t++) {
        if (w.includes(q[t]!)) exact++;
        else if (!w.some((word) => word.startsWith(q[t]!))) ok = false;
      }
      if (ok) hits.push({ item: i, exact, extra: w.length - q.length });
    }
    hits.sort(
      (a, b) =>
        b.exact - a.exact ||
        a.extra - b.extra ||
        this.popularity[b.item]! - this.popularity[a.item]! ||
        this.movieIds[a.item]! - this.movieIds[b.item]!,
    );
    return hits.slice(0, limit).map((h) => h.item);
  }
}

/** Lower case, accents removed, everything but letters and digits turned into single spaces. */
export function normalise(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
