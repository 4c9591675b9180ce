import { catalogueRows, type MovieCatalogue } from '../../data/catalogue';
import type { Interactions } from '../../data/interactions';
import { ConfigError, ReelabError } from '../../util/errors';
import { BaselineModel } from '../baseline';
import type { FactorScorer, ModelState } from '../recommender';
import { SvdModel } from '../svd';

/** Genres of each item as CSR over item indices, plus year (NaN when unknown). */
export interface ItemContent {
  genreNames: string[];
  indptr: Int32Array;
  genres: Int32Array;
  year: Float32Array;
}

/** The training items' genres and years from the catalogue (matched by movieId; every item needs a row). */
export function itemContent(catalogue: MovieCatalogue, train: Interactions): ItemContent {
  const rows = catalogueRows(catalogue, train.itemIds);
  const names = new Set<string>();
  let missing = 0;
  for (let i = 0; i < train.nItems; i++) {
    const r = rows[i]!;
    if (r < 0) missing++;
    else
      for (let k = catalogue.genreIndptr[r]!; k < catalogue.genreIndptr[r + 1]!; k++)
        names.add(catalogue.genreNames[catalogue.genreIndices[k]!]!);
  }
  if (missing > 0)
    throw new ConfigError('catalogue', `no content for ${missing} of ${train.nItems} rated movies`);
  const genreNames = [...names].sort();
  const index = new Map(genreNames.map((g, k) => [g, k]));
  const indptr = new Int32Array(train.nItems + 1);
  const list: number[] = [];
  const year = new Float32Array(train.nItems);
  for (let i = 0; i < train.nItems; i++) {
    const r = rows[i]!;
    const own: number[] = [];
    for (let k = catalogue.genreIndptr[r]!; k < catalogue.genreIndptr[r + 1]!; k++)
      own.push(index.get(catalogue.genreNames[catalogue.genreIndices[k]!]!)!);
    for (const g of [...new Set(own)].sort((a, b) => a - b)) list.push(g);
    indptr[i + 1] = list.length;
    year[i] = catalogue.years[r] || Number.NaN;
  }
  return { genreNames, indptr, genres: Int32Array.from(list), year };
}

export interface CfSettings {
  svdFactors: number;
  svdEpochs: number;
  seed: number;
}

/**
 * What the re-ranker knows about users and items, computed from one set of training ratings: rating
 * statistics, per-user genre deviations, and collaborative scores (baseline biases, SVD factors).
 */
export class FeatureContext {
  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    readonly content: ItemContent,
    readonly userMean: Float32Array,
    readonly userCount: Float32Array,
    readonly userStd: Float32Array,
    readonly itemMean: Float32Array,
    readonly itemCount: Float32Array,
    readonly itemStd: Float32Array,
    /** nUsers × genres: Σ (r − user mean) and counts of the user's ratings per genre. */
    readonly genreDev: Float32Array,
    readonly genreCount: Float32Array,
    readonly baseline: { mean: number; user: Float32Array; item: Float32Array },
    readonly svd: FactorScorer | null,
    readonly low: number,
    readonly high: number,
  ) {}

  static async build(data: Interactions, content: ItemContent, cf: CfSettings): Promise<FeatureContext> {
    const nU = data.nUsers;
    const nI = data.nItems;
    const G = content.genreNames.length;
    const us = stats(data.users, data.ratings, nU);
    const is = stats(data.items, data.ratings, nI);
    const mu = data.mean();
    const genreDev = new Float32Array(nU * G);
    const genreCount = new Float32Array(nU * G);
    let low = Infinity;
    let high = -Infinity;
    for (let k = 0; k < data.size; k++) {
      const u = data.users[k]!;
      const i = data.items[k]!;
      const r = data.ratings[k]!;
      if (r < low) low = r;
      if (r > high) high = r;
      const dev = r - us.mean[u]!;
      for (let p = content.indptr[i]!; p < content.indptr[i + 1]!; p++) {
        genreDev[u * G + content.genres[p]!]! += dev;
        genreCount[u * G + content.genres[p]!]! += 1;
      }
    }
    // Unseen users/items get the global mean, so the trees see a sensible value rather than 0.
    for (let u = 0; u < nU; u++) if (us.count[u] === 0) us.mean[u] = mu;
    for (let i = 0; i < nI; i++) if (is.count[i] === 0) is.mean[i] = mu;
    const baselineModel = new BaselineModel({});
    await baselineModel.fit(data);
    const b = baselineModel.biases;
    let svd: FactorScorer | null = null;
    if (cf.svdFactors > 0) {
      const model = new SvdModel({ factors: cf.svdFactors, epochs: cf.svdEpochs, seed: cf.seed });
      await model.fit(data);
      svd = model.batchScorer();
    }
    return new FeatureContext(
      nU,
      nI,
      content,
      us.mean,
      us.count,
      us.std,
      is.mean,
      is.count,
      is.std,
      genreDev,
      genreCount,
      { mean: b.mean, user: b.user, item: b.item },
      svd,
      low,
      high,
    );
  }

  /** Feature names, in column order. */
  names(): string[] {
    const out = [
      'cf:baseline',
      ...(this.svd ? ['cf:svd', 'cf:svd_dot'] : []),
      'user:mean',
      'user:log_count',
      'user:std',
      'user:genre_affinity',
      'user:genre_share',
      'item:mean',
      'item:log_count',
      'item:std',
      'item:year',
    ];
    for (const g of this.content.genreNames) out.push(`item:genre:${g}`);
    return out;
  }

  get width(): number {
    return 10 + (this.svd ? 2 : 0) + this.content.genreNames.length;
  }

  /** Writes the feature row of (u, i) at out[offset…]. */
  fill(u: number, i: number, out: Float32Array, offset: number): void {
    const c = this.content;
    const G = c.genreNames.length;
    const clip = (x: number) => (x < this.low ? this.low : x > this.high ? this.high : x);
    let p = offset;
    out[p++] = clip(this.baseline.mean + this.baseline.user[u]! + this.baseline.item[i]!);
    if (this.svd) {
      const s = this.svd;
      let dot = 0;
      for (let k = 0; k < s.factors; k++)
        dot += s.userFactors[u * s.factors + k]! * s.itemFactors[i * s.factors + k]!;
      const raw = (s.globalBias ?? 0) + (s.userBias?.[u] ?? 0) + (s.itemBias?.[i] ?? 0) + dot;
      out[p++] = clip(raw);
      out[p++] = dot;
    }
    const n = this.userCount[u]!;
    out[p++] = this.userMean[u]!;
    out[p++] = Math.log1p(n);
    out[p++] = this.userStd[u]!;
    let dev = 0;
    let cnt = 0;
    for (let q = c.indptr[i]!; q < c.indptr[i + 1]!; q++) {
      dev += this.genreDev[u * G + c.genres[q]!]!;
      cnt += this.genreCount[u * G + c.genres[q]!]!;
    }
    // Shrunk mean deviation of the user's ratings in this movie's genres, and their share of the user's ratings.
    out[p++] = dev / (cnt + 5);
    out[p++] = n > 0 ? cnt / n : 0;
    out[p++] = this.itemMean[i]!;
    out[p++] = Math.log1p(this.itemCount[i]!);
    out[p++] = this.itemStd[i]!;
    out[p++] = c.year[i]!;
    const first = p;
    for (let g = 0; g < G; g++) out[first + g] = 0;
    for (let q = c.indptr[i]!; q < c.indptr[i + 1]!; q++) out[first + c.genres[q]!] = 1;
  }

  toState(prefix: string): ModelState {
    const s: ModelState = {
      [`${prefix}genreNames`]: this.content.genreNames,
      [`${prefix}genreIndptr`]: this.content.indptr,
      [`${prefix}genres`]: this.content.genres,
      [`${prefix}year`]: this.content.year,
      [`${prefix}userMean`]: this.userMean,
      [`${prefix}userCount`]: this.userCount,
      [`${prefix}userStd`]: this.userStd,
      [`${prefix}itemMean`]: this.itemMean,
      [`${prefix}itemCount`]: this.itemCount,
      [`${prefix}itemStd`]: this.itemStd,
      [`${prefix}genreDev`]: this.genreDev,
      [`${prefix}genreCount`]: this.genreCount,
      [`${prefix}baselineMean`]: this.baseline.mean,
      [`${prefix}baselineUser`]: this.baseline.user,
      [`${prefix}baselineItem`]: this.baseline.item,
      [`${prefix}low`]: this.low,
      [`${prefix}high`]: this.high,
      [`${prefix}svdFactors`]: this.svd?.factors ?? 0,
    };
    if (this.svd) {
      s[`${prefix}svdUser`] = this.svd.userFactors;
      s[`${prefix}svdItem`] = this.svd.itemFactors;
      s[`${prefix}svdUserBias`] = this.svd.userBias ?? new Float32Array(this.nUsers);
      s[`${prefix}svdItemBias`] = this.svd.itemBias ?? new Float32Array(this.nItems);
      s[`${prefix}svdGlobal`] = this.svd.globalBias ?? 0;
    }
    return s;
  }

  static fromState(state: ModelState, prefix: string, nUsers: number, nItems: number): FeatureContext {
    const f32 = (key: string, length: number) => {
      const v = state[prefix + key];
      if (!(v instanceof Float32Array) || v.length !== length)
        throw new ReelabError(`saved model: "${prefix}${key}" is missing or does not have ${length} values`);
      return v;
    };
    const i32 = (key: string) => {
      const v = state[prefix + key];
      if (!(v instanceof Int32Array)) throw new ReelabError(`saved model: "${prefix}${key}" is missing`);
      return v;
    };
    const num = (key: string) => {
      const v = state[prefix + key];
      if (typeof v !== 'number') throw new ReelabError(`saved model: "${prefix}${key}" is missing`);
      return v;
    };
    const names = state[`${prefix}genreNames`];
    if (!Array.isArray(names)) throw new ReelabError(`saved model: "${prefix}genreNames" is missing`);
    const G = names.length;
    const content: ItemContent = {
      genreNames: names.map(String),
      indptr: i32('genreIndptr'),
      genres: i32('genres'),
      year: f32('year', nItems),
    };
    const k = num('svdFactors');
    const svd: FactorScorer | null =
      k > 0
        ? {
            kind: 'factors',
            factors: k,
            userFactors: f32('svdUser', nUsers * k),
            itemFactors: f32('svdItem', nItems * k),
            userBias: f32('svdUserBias', nUsers),
            itemBias: f32('svdItemBias', nItems),
            globalBias: num('svdGlobal'),
          }
        : null;
    return new FeatureContext(
      nUsers,
      nItems,
      content,
      f32('userMean', nUsers),
      f32('userCount', nUsers),
      f32('userStd', nUsers),
      f32('itemMean', nItems),
      f32('itemCount', nItems),
      f32('itemStd', nItems),
      f32('genreDev', nUsers * G),
      f32('genreCount', nUsers * G),
      { mean: num('baselineMean'), user: f32('baselineUser', nUsers), item: f32('baselineItem', nItems) },
      svd,
      num('low'),
      num('high'),
    );
  }
}

function stats(keys: Int32Array, ratings: Float32Array, n: number) {
  const sum = new Float64Array(n);
  const sq = new Float64Array(n);
  const count = new Float32Array(n);
  for (let k = 0; k < keys.length; k++) {
    const j = keys[k]!;
    const r = ratings[k]!;
    sum[j]! += r;
    sq[j]! += r * r;
    count[j]! += 1;
  }
  const mean = new Float32Array(n);
  const std = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const c = count[j]!;
    if (c === 0) continue;
    const m = sum[j]! / c;
    mean[j] = m;
    std[j] = Math.sqrt(Math.max(0, sq[j]! / c - m * m));
  }
  return { mean, count, std };
}
