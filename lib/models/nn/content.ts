import { catalogueRows, genresOf, type MovieCatalogue, tagsOf } from '../../data/catalogue';
import type { IdMap } from '../../data/id-map';
import { ConfigError } from '../../util/errors';

export interface ContentSpec {
  genres: boolean;
  /** Hashed uni+bigram buckets of title (and tag) words, TF-IDF weighted and L2-normalised; 0 = none. */
  textDims: number;
  /** Use the catalogue's tags in the text features when it has them. */
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

function textCounts(catalogue: MovieCatalogue, row: number, spec: ContentSpec): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of textTokens(catalogue.titles[row]!, spec.tags ? tagsOf(catalogue, row) : [])) {
    const b = hashToken(t) % spec.textDims;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return counts;
}

/** Writes the feature row (length `contentDims(encoder)`) of catalogue row `row` into `out` at `offset`. */
export function encodeMovie(
  encoder: ContentEncoder,
  catalogue: MovieCatalogue,
  row: number,
  popularity: number,
  out: Float32Array,
  offset = 0,
): void {
  const { spec } = encoder;
  let p = offset;
  if (spec.genres) {
    const genres = genresOf(catalogue, row);
    for (const g of encoder.genreVocabulary) out[p++] = genres.includes(g) ? 1 : 0;
  }
  if (spec.textDims > 0) {
    let norm = 0;
    for (const [b, c] of textCounts(catalogue, row, spec)) {
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
    const year = catalogue.years[row]!;
    const known = year !== 0;
    out[p++] = known ? (year - encoder.yearMean) / encoder.yearStd : 0;
    out[p++] = known ? 0 : 1;
    out[p++] = (Math.log1p(popularity) - encoder.popMean) / encoder.popStd;
  }
}

/**
 * Builds the item × feature matrix for every item of `itemIds` (dense index order) from the catalogue (matched
 * by movieId). `popularity[i]` is the number of training interactions of item i. Every item needs a catalogue
 * row; a missing one is an error.
 */
export function buildContentFeatures(
  catalogue: MovieCatalogue,
  itemIds: IdMap,
  popularity: Int32Array,
  spec: ContentSpec,
): ContentFeatures {
  if (!(Number.isInteger(spec.textDims) && spec.textDims >= 0))
    throw new ConfigError('textDims', `must be a non-negative integer, got ${spec.textDims}`);
  const nItems = itemIds.size;
  const rows = catalogueRows(catalogue, itemIds);
  const missing: number[] = [];
  let count = 0;
  for (let i = 0; i < nItems; i++) {
    if (rows[i]! >= 0) continue;
    count++;
    if (missing.length < 5) missing.push(itemIds.ids[i]!);
  }
  if (count > 0) {
    throw new ConfigError(
      'catalogue',
      `no content for ${count} of ${nItems} rated movies (movieId ${missing.join(', ')}${count > missing.length ? ', …' : ''})`,
    );
  }

  const genreSet = new Set<string>();
  for (let i = 0; i < nItems; i++) for (const g of genresOf(catalogue, rows[i]!)) genreSet.add(g);
  const genreVocabulary = spec.genres ? [...genreSet].sort() : [];

  const textIdf = new Float32Array(spec.textDims);
  if (spec.textDims > 0) {
    const df = new Float64Array(spec.textDims);
    for (let i = 0; i < nItems; i++)
      for (const b of textCounts(catalogue, rows[i]!, spec).keys()) df[b]! += 1;
    for (let b = 0; b < spec.textDims; b++) textIdf[b] = Math.log((1 + nItems) / (1 + df[b]!)) + 1;
  }

  const years: number[] = [];
  for (let i = 0; i < nItems; i++)
    if (catalogue.years[rows[i]!] !== 0) years.push(catalogue.years[rows[i]!]!);
  const [yearMean, yearStd] = meanStd(years);
  const logPop = Array.from(popularity, (c) => Math.log1p(c));
  const [popMean, popStd] = meanStd(logPop);
  const encoder: ContentEncoder = { spec, genreVocabulary, textIdf, yearMean, yearStd, popMean, popStd };
  const dims = contentDims(encoder);
  const matrix = new Float32Array(nItems * dims);
  for (let i = 0; i < nItems; i++)
    encodeMovie(encoder, catalogue, rows[i]!, popularity[i] ?? 0, matrix, i * dims);
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
