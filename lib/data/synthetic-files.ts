import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Interactions } from './interactions';
import { generateSynthetic, type SyntheticData, type SyntheticOptions } from './synthetic';

export interface WriteMovieLensOptions {
  /** Line ending: GroupLens' CSV releases use CRLF (default). */
  eol?: '\r\n' | '\n';
}

/**
 * Writes ratings as an ml-32m-style `ratings.csv` (header `userId,movieId,rating,timestamp`, ratings with one
 * decimal like "4.0"), formatting bytes straight into a buffer (no per-row strings) so 32M rows take seconds.
 */
export function writeRatingsCsv(
  file: string,
  ratings: Interactions,
  options: WriteMovieLensOptions = {},
): number {
  const eol = options.eol ?? '\r\n';
  const fd = openSync(file, 'w');
  const buf = Buffer.allocUnsafe(1 << 22);
  let p = buf.write(`userId,movieId,rating,timestamp${eol}`, 0, 'latin1');
  const cr = eol === '\r\n';
  let bytes = 0;
  const { users, items, timestamps } = ratings;
  const userIds = ratings.userIds.ids;
  const itemIds = ratings.itemIds.ids;
  try {
    for (let k = 0; k < ratings.size; k++) {
      if (p > buf.length - 64) {
        writeSync(fd, buf, 0, p);
        bytes += p;
        p = 0;
      }
      p = writeUint(buf, p, userIds[users[k]!]!);
      buf[p++] = 44;
      p = writeUint(buf, p, itemIds[items[k]!]!);
      buf[p++] = 44;
      const twice = Math.round(ratings.ratings[k]! * 2);
      p = writeUint(buf, p, twice >> 1);
      buf[p++] = 46;
      buf[p++] = twice & 1 ? 53 : 48;
      buf[p++] = 44;
      p = writeUint(buf, p, timestamps ? timestamps[k]! : 0);
      if (cr) buf[p++] = 13;
      buf[p++] = 10;
    }
    writeSync(fd, buf, 0, p);
    bytes += p;
  } finally {
    closeSync(fd);
  }
  return bytes;
}

function writeUint(buf: Buffer, p: number, v: number): number {
  if (v < 10) {
    buf[p] = 48 + v;
    return p + 1;
  }
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let d = digits - 1; d >= 0; d--) {
    buf[p + d] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return p + digits;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes the synthetic catalogue as an ml-32m-style `movies.csv` (`movieId,title,genres`). */
export function writeMoviesCsv(file: string, data: SyntheticData, options: WriteMovieLensOptions = {}): void {
  const eol = options.eol ?? '\r\n';
  const lines = [`movieId,title,genres`];
  for (let i = 0; i < data.titles.length; i++) {
    const genres = data.genres[i]!.length ? data.genres[i]!.join('|') : '(no genres listed)';
    lines.push(`${data.ratings.itemIds.id(i)},${csvField(data.titles[i]!)},${csvField(genres)}`);
  }
  writeFileSync(file, lines.join(eol) + eol, 'utf8');
}

/**
 * Generates synthetic data and writes it into `dir` in the ml-32m layout (`ratings.csv` + `movies.csv`), so
 * the loader and benchmarks can read it like a real release (e.g. as `<dataDir>/ml-32m/`).
 */
export function writeSyntheticMovieLens(
  dir: string,
  options: SyntheticOptions & WriteMovieLensOptions,
): { ratingsFile: string; moviesFile: string; ratings: number; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const data = generateSynthetic(options);
  const ratingsFile = join(dir, 'ratings.csv');
  const moviesFile = join(dir, 'movies.csv');
  const bytes = writeRatingsCsv(ratingsFile, data.ratings, options);
  writeMoviesCsv(moviesFile, data, options);
  return { ratingsFile, moviesFile, ratings: data.ratings.size, bytes };
}
