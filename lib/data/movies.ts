import { join } from 'node:path';
import { DataError } from '../util/errors';
import type { MovieLensSpec } from './movielens';
import { parseCsv, parseDelimited, readText } from './text';

/** The ml-100k genre columns of u.item, in order (u.genre). */
export const ML100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

export interface Movie {
  movieId: number;
  title: string;
  /** Release year parsed from the title's trailing "(YYYY)", or null. */
  year: number | null;
  genres: string[];
}

/** Parses the year at the end of a MovieLens title, e.g. "Heat (1995)" → 1995, "Babylon 5" → null. */
export function yearFromTitle(title: string): number | null {
  const m = /\((\d{4})(?:[–-]\d{0,4})?\)\s*$/.exec(title.trim());
  return m ? Number(m[1]) : null;
}

function parseId(value: string, file: string, line: number, what: string): number {
  if (!/^\d+$/.test(value)) throw new DataError(file, line, `${what} "${value}" is not a positive integer`);
  return Number(value);
}

/** Reads the movie catalogue of a MovieLens release (all movies, rated or not), in file order. */
export function readMovies(dir: string, spec: MovieLensSpec): Movie[] {
  const file = join(dir, spec.moviesFile);
  const text = readText(file, spec.moviesEncoding);
  const movies: Movie[] = [];
  const seen = new Set<number>();
  const add = (movie: Movie, line: number) => {
    if (seen.has(movie.movieId)) throw new DataError(file, line, `duplicate movie id ${movie.movieId}`);
    seen.add(movie.movieId);
    movies.push(movie);
  };
  if (spec.moviesLayout === 'movies.csv') {
    const rows = parseCsv(text, file);
    const header = rows.shift();
    if (header?.fields.join(',') !== 'movieId,title,genres') {
      throw new DataError(
        file,
        1,
        `expected header "movieId,title,genres", found "${header?.fields.join(',') ?? ''}"`,
      );
    }
    for (const { line, fields } of rows) {
      if (fields.length !== 3)
        throw new DataError(file, line, `expected 3 fields (movieId,title,genres), found ${fields.length}`);
      const [id, title, genres] = fields as [string, string, string];
      add(
        {
          movieId: parseId(id, file, line, 'movieId'),
          title,
          year: yearFromTitle(title),
          genres: splitGenres(genres),
        },
        line,
      );
    }
  } else if (spec.moviesLayout === 'movies.dat') {
    for (const { line, fields } of parseDelimited(text, '::', file)) {
      if (fields.length !== 3)
        throw new DataError(file, line, `expected 3 fields separated by "::", found ${fields.length}`);
      const [id, title, genres] = fields as [string, string, string];
      add(
        {
          movieId: parseId(id, file, line, 'movie id'),
          title,
          year: yearFromTitle(title),
          genres: splitGenres(genres),
        },
        line,
      );
    }
  } else {
    for (const { line, fields } of parseDelimited(text, '|', file)) {
      if (fields.length !== 5 + ML100K_GENRES.length) {
        throw new DataError(
          file,
          line,
          `expected ${5 + ML100K_GENRES.length} fields separated by "|", found ${fields.length}`,
        );
      }
      const flags = fields.slice(5);
      const genres: string[] = [];
      flags.forEach((f, g) => {
        if (f !== '0' && f !== '1')
          throw new DataError(file, line, `genre flag ${g + 1} is "${f}", expected 0 or 1`);
        if (f === '1') genres.push(ML100K_GENRES[g]!);
      });
      const title = fields[1]!;
      const dateYear = /(\d{4})$/.exec(fields[2] ?? '');
      add(
        {
          movieId: parseId(fields[0]!, file, line, 'movie id'),
          title,
          year: yearFromTitle(title) ?? (dateYear ? Number(dateYear[1]) : null),
          genres,
        },
        line,
      );
    }
  }
  if (movies.length === 0) throw new DataError(file, undefined, 'no movies in the file');
  return movies;
}

function splitGenres(field: string): string[] {
  if (field === '' || field === '(no genres listed)') return [];
  return field.split('|');
}
