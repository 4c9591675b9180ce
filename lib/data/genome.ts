import { join } from 'node:path';
import { DataError } from '../util/errors';
import type { MovieLensSpec } from './movielens';
import { readNumericTable } from './parse-numeric';
import { parseCsv, readText } from './text';

/**
 * The tag genome: relevance of each genome tag to each movie, dense (movies × tags, row-major Float32Array),
 * movies in ascending movieId order and tags in ascending tagId order.
 */
export interface Genome {
  readonly movieIds: Int32Array;
  readonly tagIds: Int32Array;
  readonly tags: string[];
  readonly relevance: Float32Array;
}

export function readGenome(dir: string, spec: MovieLensSpec): Genome {
  if (!spec.genomeScoresFile || !spec.genomeTagsFile)
    throw new DataError(join(dir, 'genome-scores.csv'), undefined, `${spec.name} has no tag genome`);
  const tagsFile = join(dir, spec.genomeTagsFile);
  const rows = parseCsv(readText(tagsFile, 'utf8'), tagsFile);
  const header = rows.shift();
  if (header?.fields.join(',') !== 'tagId,tag')
    throw new DataError(
      tagsFile,
      1,
      `expected header "tagId,tag", found "${header?.fields.join(',') ?? ''}"`,
    );
  const tagPairs = rows.map(({ line, fields }) => {
    if (fields.length !== 2 || !/^\d+$/.test(fields[0]!))
      throw new DataError(tagsFile, line, 'expected "tagId,tag" with an integer tagId');
    return { id: Number(fields[0]), tag: fields[1]! };
  });
  tagPairs.sort((a, b) => a.id - b.id);
  const tagIds = Int32Array.from(tagPairs, (t) => t.id);
  const tagCol = new Map<number, number>();
  for (let i = 0; i < tagIds.length; i++) tagCol.set(tagIds[i]!, i);

  const scoresFile = join(dir, spec.genomeScoresFile);
  const t = readNumericTable(scoresFile, {
    delimiter: ',',
    header: 'movieId,tagId,relevance',
    columns: [
      { name: 'movieId', kind: 'int' },
      { name: 'tagId', kind: 'int' },
      { name: 'relevance', kind: 'float' },
    ],
  });
  const [movies, tags, rel] = t.columns as [Int32Array, Int32Array, Float32Array];
  const movieIds = Int32Array.from(new Set(movies)).sort();
  const movieRow = new Map<number, number>();
  for (let i = 0; i < movieIds.length; i++) movieRow.set(movieIds[i]!, i);
  const nTags = tagIds.length;
  const relevance = new Float32Array(movieIds.length * nTags).fill(Number.NaN);
  for (let k = 0; k < t.rows; k++) {
    const c = tagCol.get(tags[k]!);
    if (c === undefined)
      throw new DataError(scoresFile, t.firstLine + k, `tagId ${tags[k]} is not in ${spec.genomeTagsFile}`);
    const r = rel[k]!;
    if (!(r >= 0 && r <= 1))
      throw new DataError(scoresFile, t.firstLine + k, `relevance ${r} is outside 0..1`);
    const at = movieRow.get(movies[k]!)! * nTags + c;
    if (!Number.isNaN(relevance[at]!))
      throw new DataError(
        scoresFile,
        t.firstLine + k,
        `duplicate score for movie ${movies[k]} and tag ${tags[k]}`,
      );
    relevance[at] = r;
  }
  for (let i = 0; i < relevance.length; i++) {
    if (Number.isNaN(relevance[i]!)) {
      const m = movieIds[Math.floor(i / nTags)];
      throw new DataError(
        scoresFile,
        undefined,
        `movie ${m} has no score for tag ${tagIds[i % nTags]}: the genome must be complete`,
      );
    }
  }
  return { movieIds, tagIds, tags: tagPairs.map((p) => p.tag), relevance };
}
