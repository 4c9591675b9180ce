import { join } from 'node:path';
import { DataError } from '../util/errors';
import type { MovieLensSpec } from './movielens';
import { readText, scanCsv } from './text';

/** Tag applications, columnar; tag strings are dictionary-encoded (`vocabulary[tagIds[k]]`), as written. */
export interface TagTable {
  readonly size: number;
  /** External MovieLens ids. */
  readonly userIds: Int32Array;
  readonly movieIds: Int32Array;
  readonly tagIds: Int32Array;
  readonly timestamps: Int32Array;
  readonly vocabulary: string[];
  readonly file: string;
}

class TagBuilder {
  users: number[] = [];
  movies: number[] = [];
  tags: number[] = [];
  times: number[] = [];
  vocabulary: string[] = [];
  private index = new Map<string, number>();

  constructor(readonly file: string) {}

  add(line: number, user: string, movie: string, tag: string, time: string): void {
    this.users.push(id(user, this.file, line, 'userId'));
    this.movies.push(id(movie, this.file, line, 'movieId'));
    if (!/^-?\d+$/.test(time)) throw new DataError(this.file, line, `timestamp "${time}" is not an integer`);
    this.times.push(Number(time));
    let t = this.index.get(tag);
    if (t === undefined) {
      t = this.vocabulary.length;
      this.vocabulary.push(tag);
      this.index.set(tag, t);
    }
    this.tags.push(t);
  }

  finish(): TagTable {
    return {
      size: this.users.length,
      userIds: Int32Array.from(this.users),
      movieIds: Int32Array.from(this.movies),
      tagIds: Int32Array.from(this.tags),
      timestamps: Int32Array.from(this.times),
      vocabulary: this.vocabulary,
      file: this.file,
    };
  }
}

function id(value: string, file: string, line: number, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 2147483647)
    throw new DataError(file, line, `${what} "${value.slice(0, 40)}" is not a positive integer`);
  return Number(value);
}

/** Reads tags.csv (quoted CSV with header) or tags.dat (`::`-separated) of a release. */
export function readTags(dir: string, spec: MovieLensSpec): TagTable {
  if (!spec.tagsFile) throw new DataError(join(dir, 'tags'), undefined, `${spec.name} has no tags file`);
  const file = join(dir, spec.tagsFile);
  const text = readText(file, 'utf8');
  const builder = new TagBuilder(file);
  if (spec.tagsFile.endsWith('.csv')) {
    let first = true;
    scanCsv(text, file, (fields, line) => {
      if (first) {
        first = false;
        if (fields.join(',') !== 'userId,movieId,tag,timestamp')
          throw new DataError(
            file,
            line,
            `expected header "userId,movieId,tag,timestamp", found "${fields.join(',').slice(0, 80)}"`,
          );
        return;
      }
      if (fields.length !== 4)
        throw new DataError(
          file,
          line,
          `expected 4 fields (userId,movieId,tag,timestamp), found ${fields.length}`,
        );
      builder.add(line, fields[0]!, fields[1]!, fields[2]!, fields[3]!);
    });
  } else {
    const lines = text.split('\n');
    for (let k = 0; k < lines.length; k++) {
      const raw = lines[k]!.endsWith('\r') ? lines[k]!.slice(0, -1) : lines[k]!;
      if (raw === '') {
        if (lines.slice(k + 1).some((l) => l.trim() !== ''))
          throw new DataError(file, k + 1, 'empty line in the middle of the file');
        break;
      }
      const f = raw.split('::');
      if (f.length < 4)
        throw new DataError(file, k + 1, `expected 4 fields separated by "::", found ${f.length}`);
      // A tag may itself contain "::": ids first, timestamp last, the rest is the tag.
      builder.add(k + 1, f[0]!, f[1]!, f.slice(2, -1).join('::'), f[f.length - 1]!);
    }
  }
  return builder.finish();
}
