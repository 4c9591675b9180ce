import { join } from 'node:path';
import { DataError } from '../util/errors';
import type { MovieLensSpec } from './movielens';
import { readNumericTable } from './parse-numeric';

/** links.csv: MovieLens movieId → IMDb and TMDB ids (-1 where the file leaves it empty). */
export interface LinkTable {
  readonly size: number;
  readonly movieIds: Int32Array;
  readonly imdbIds: Int32Array;
  readonly tmdbIds: Int32Array;
  readonly file: string;
}

export function readLinks(dir: string, spec: MovieLensSpec): LinkTable {
  if (!spec.linksFile) throw new DataError(join(dir, 'links'), undefined, `${spec.name} has no links file`);
  const file = join(dir, spec.linksFile);
  const t = readNumericTable(file, {
    delimiter: ',',
    header: 'movieId,imdbId,tmdbId',
    columns: [
      { name: 'movieId', kind: 'int' },
      { name: 'imdbId', kind: 'int?' },
      { name: 'tmdbId', kind: 'int?' },
    ],
  });
  const [movieIds, imdbIds, tmdbIds] = t.columns as [Int32Array, Int32Array, Int32Array];
  return { size: t.rows, movieIds, imdbIds, tmdbIds, file };
}
