import type { IdMap } from '../../data/id-map';
import { ConfigError } from '../../util/errors';

/** What a content-aware model needs to know about a movie (`Movie` from lib/data/movies fits). */
export interface MovieContent {
  movieId: number;
  title: string;
  year: number | null;
  genres: readonly string[];
  /** Free-text tags applied to the movie (optional; see `attachTags`). */
  tags?: readonly string[];
}

/** Tag applications, columnar (lib/data/tags' `TagTable` fits). */
export interface TagApplications {
  readonly size: number;
  readonly movieIds: Int32Array;
  readonly tagIds: Int32Array;
  readonly vocabulary: readonly string[];
}

/** Copies `movies` with the tags applied to each one (every application, in file order). */
export function attachTags(movies: readonly MovieContent[], tags: TagApplications): MovieContent[] {
  const byMovie = new Map<number, string[]>();
  for (let k = 0; k < tags.size; k++) {
    const id = tags.movieIds[k]!;
    let list = byMovie.get(id);
    if (!list) {
      list = [];
      byMovie.set(id, list);
    }
    list.push(tags.vocabulary[tags.tagIds[k]!]!);
  }
  return movies.map((m) => ({ ...m, tags: [...(m.tags ?? []), ...(byMovie.get(m.movieId) ?? [])] }));
}

export interface ContentSpec {
  genres: boolean;
  /** Hashed uni+bigram buckets of title (and tag) words, TF-IDF weighted and L2-normalised; 0 = none. */
  textDims: number;
  /** Use tags in the text features when movies carry them. */
  tags: boolean;
  /** Standardised release year (+ a missing-year flag) and log popularity in the training data. */
  numeric: boolean;
}

/**
 * Everything needed to turn a movie into its feature row again (stored with the model, so a movie that was
 * not in the training catalogue can be featurised the same way).
 */
export interface ContentEncoder {
  spec: ContentSpec;
  genreVocabulary: string[];
  /** Inverse document frequency of each text bucket over the training catalogue. */
  textIdf: Float32Array;
  yearMean: number;
  yearStd: number;
  popMean: number;
  popStd: number;
}

export interface ContentFeatures {
  encoder: ContentEncoder;
  /** Row-major nItems × dims. */
  matrix: Float32Array;
  dims: number;
  /** Feature names (genre:<g>, text:<bucket>, year, year_missing, log_popularity). */
  names: string[];
}

export function contentDims(encoder: Pick<ContentEncoder, 'spec' | 'genreVocabulary'>): number {
  const { spec } = encoder;
  return (spec.genres ? encoder.genreVocabulary.length : 0) + spec.textDims + (spec.numeric ? 3 : 0);
}

export function contentFeatureNames(encoder: ContentEncoder): string[] {
  const names: string[] = [];
  if (encoder.spec.genres) for (const g of encoder.genreVocabulary) names.push(`genre:${g}`);
  for (let b = 0; b < encoder.spec.textDims; b++) names.push(`text:${b}`);
  if (encoder.spec.numeric) names.push('year', 'year_missing', 'log_popularity');
  return names;
}

/** Lower-cased word tokens of a title without its trailing "(YYYY)", plus adjacent-word bigrams. */
export function textTokens(title: string, tags: readonly string[] = []): string[] {
  const out: string[] = [];
  const addPhrase = (text: string, prefix: string) => {
    const words = text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => w.length > 1 || /\p{N}/u.test(w));
    for (let k = 0; k < words.length; k++) {
      out.push(`${prefix}${words[k]}`);
      if (k > 0) out.push(`${prefix}${words[k - 1]} ${words[k]}`);
    }
  };
  addPhrase(title.replace(/\(\d{4}(?:[–-]\d{0,4})?\)\s*$/, ''), '');
  for (const tag of tags) addPhrase(tag, '#');
  return out;
}

/** FNV-1a over UTF-16 code units: a stable 32-bit hash for the hashing trick. */
export function hashToken(token: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < token.length; k++) {
    h ^= token.charCodeAt(k);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function textCounts(movie: MovieContent, spec: ContentSpec): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of textTokens(movie.title, spec.tags ? (movie.tags ?? []) : [])) {
    const b = hashToken(t) % spec.textDims;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return counts;
}

/** Writes one movie's feature row (length `contentDims(encoder)`) into `out` at `offset`. */
export function encodeMovie(
  encoder: ContentEncoder,
  movie: MovieContent,
  popularity: number,
  out: Float32Array,
  offset = 0,
): void {
  const { spec } = encoder;
  let p = offset;
  if (spec.genres) {
    for (const g of encoder.genreVocabulary) out[p++] = movie.genres.includes(g) ? 1 : 0;
  }
  if (spec.textDims > 0) {
    let norm = 0;
    for (const [b, c] of textCounts(movie, spec)) {
      const w = (1 + Math.log(c)) * encoder.textIdf[b]!;
      out[p + b] = w;
      norm += w * w;
    }
    if (norm > 0) {
      const s = 1 / Math.sqrt(norm);
      for (let b = 0; b < spec.textDims; b++) out[p + b]! *= s;
    }
    p += spec.textDims;
  }
  if (spec.numeric) {
    const known = movie.year !== null && Number.isFinite(movie.year);
    out[p++] = known ? (movie.year! - encoder.yearMean) / encoder.yearStd : 0;
    out[p++] = known ? 0 : 1;
    out[p++] = (Math.log1p(popularity) - encoder.popMean) / encoder.popStd;
  }
}

/**
 * Builds the item × feature matrix for every item of `itemIds` (dense index order). `popularity[i]` is the
 * number of training interactions of item i. Every item needs a movie in `movies`; a missing one is an error.
 */
export function buildContentFeatures(
  movies: readonly MovieContent[],
  itemIds: IdMap,
  popularity: Int32Array,
  spec: ContentSpec,
): ContentFeatures {
  if (!(Number.isInteger(spec.textDims) && spec.textDims >= 0))
    throw new ConfigError('textDims', `must be a non-negative integer, got ${spec.textDims}`);
  const nItems = itemIds.size;
  const byItem: (MovieContent | undefined)[] = new Array(nItems);
  for (const m of movies) {
    const i = itemIds.index(m.movieId);
    if (i >= 0) byItem[i] = m;
  }
  const missing: number[] = [];
  let count = 0;
  for (let i = 0; i < nItems; i++) {
    if (byItem[i]) continue;
    count++;
    if (missing.length < 5) missing.push(itemIds.ids[i]!);
  }
  if (count > 0) {
    throw new ConfigError(
      'movies',
      `no content for ${count} of ${nItems} rated movies (movieId ${missing.join(', ')}${count > missing.length ? ', …' : ''})`,
    );
  }
  const items = byItem as MovieContent[];

  const genreSet = new Set<string>();
  for (const m of items) for (const g of m.genres) genreSet.add(g);
  const genreVocabulary = spec.genres ? [...genreSet].sort() : [];

  const textIdf = new Float32Array(spec.textDims);
  if (spec.textDims > 0) {
    const df = new Float64Array(spec.textDims);
    for (const m of items) for (const b of textCounts(m, spec).keys()) df[b]! += 1;
    for (let b = 0; b < spec.textDims; b++) textIdf[b] = Math.log((1 + nItems) / (1 + df[b]!)) + 1;
  }

  const [yearMean, yearStd] = meanStd(items.map((m) => m.year).filter((y): y is number => y !== null));
  const logPop = Array.from(popularity, (c) => Math.log1p(c));
  const [popMean, popStd] = meanStd(logPop);
  const encoder: ContentEncoder = { spec, genreVocabulary, textIdf, yearMean, yearStd, popMean, popStd };
  const dims = contentDims(encoder);
  const matrix = new Float32Array(nItems * dims);
  for (let i = 0; i < nItems; i++) encodeMovie(encoder, items[i]!, popularity[i] ?? 0, matrix, i * dims);
  return { encoder, matrix, dims, names: contentFeatureNames(encoder) };
}

function meanStd(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let s = 0;
  for (const v of values) s += v;
  const mean = s / values.length;
  let q = 0;
  for (const v of values) q += (v - mean) * (v - mean);
  const std = Math.sqrt(q / values.length);
  return [mean, std > 1e-9 ? std : 1];
}
