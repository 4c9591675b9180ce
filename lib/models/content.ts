import { z } from 'zod';
import type { SparseMatrix } from '../compute/sparse';
import { type TopK, topK } from '../compute/topk';
import { catalogueRows, type MovieCatalogue, requireCatalogue } from '../data/catalogue';
import type { Interactions } from '../data/interactions';
import { ConfigError } from '../util/errors';
import { BaseRecommender, expectFloat32, expectInt32, expectNumber } from './base';
import type { FitOptions, ModelState } from './recommender';

export const contentSchema = z
  .object({
    genreWeight: z.number().min(0).default(1).describe('weight of the (unit-norm) genre block'),
    tagWeight: z.number().min(0).default(1).describe('weight of the (unit-norm) tag TF-IDF block'),
    genomeWeight: z.number().min(0).default(1).describe('weight of the (unit-norm) tag-genome block'),
    decadeWeight: z.number().min(0).default(0.5).describe('weight of the release-decade indicator'),
    centre: z
      .boolean()
      .default(true)
      .describe("weight a user's items by rating minus the user's mean rating"),
  })
  .strict();
export type ContentParams = z.infer<typeof contentSchema>;

/**
 * Content-based ranking: item profiles = unit-norm blocks of genres, tag TF-IDF, tag-genome relevance and
 * release decade, each weighted, the whole vector unit-norm; a user's profile = Σ_i w_ui·item_i with
 * w_ui = r_ui − mean_u (or 1 when the user's ratings are all equal, or with centre=false);
 * score = cosine(user profile, item profile). Items nobody rated in training still get scores. The profiles
 * come from the catalogue given to fit (`fit(train, { catalogue })`): genres and years always, tags and the
 * genome where it carries them.
 */
export class ContentModel extends BaseRecommender<ContentParams> {
  readonly name = 'content';
  private profiles: SparseMatrix = {
    nRows: 0,
    nCols: 0,
    indptr: new Int32Array(1),
    indices: new Int32Array(0),
    values: new Float32Array(0),
  };
  private weights = new Float32Array(0);
  private xIndptr = new Int32Array(0);
  /** Names of the profile columns (genre:…, tag:…, genome:…, decade:…). */
  featureNames: string[] = [];

  constructor(params: Partial<ContentParams> = {}) {
    super(contentSchema.parse(params));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const started = performance.now();
    const catalogue = requireCatalogue(this.name, options.catalogue, 'movie genres, tags and genome');
    const built = buildProfiles(train, catalogue, this.params);
    this.profiles = built.profiles;
    this.featureNames = built.names;
    // User weights aligned with the training CSR (= the seen arrays).
    const { indptr, values } = train.csr();
    const w = new Float32Array(values.length);
    for (let u = 0; u < train.nUsers; u++) {
      const from = indptr[u]!;
      const to = indptr[u + 1]!;
      let mean = 0;
      for (let p = from; p < to; p++) mean += values[p]!;
      mean = to > from ? mean / (to - from) : 0;
      let any = false;
      for (let p = from; p < to; p++) {
        w[p] = this.params.centre ? values[p]! - mean : 1;
        if (w[p] !== 0) any = true;
      }
      if (!any) w.fill(1, from, to);
    }
    this.weights = w;
    this.xIndptr = indptr;
    options.onEpoch?.({ epoch: 1, epochs: 1, seconds: (performance.now() - started) / 1000 });
  }

  /** The user's profile vector (length = number of features). */
  userProfile(user: number): Float64Array {
    this.assertFitted();
    const { indptr, indices, values } = this.profiles;
    const profile = new Float64Array(this.profiles.nCols);
    const seen = this.seenItems(user);
    const offset = this.xIndptr[user]!;
    for (let q = 0; q < seen.length; q++) {
      const w = this.weights[offset + q]!;
      const i = seen[q]!;
      for (let e = indptr[i]!; e < indptr[i + 1]!; e++) profile[indices[e]!]! += w * values[e]!;
    }
    return profile;
  }

  protected predictOne(user: number, item: number): number {
    if (!(user >= 0 && user < this.nUsers && item >= 0 && item < this.nItems)) return 0;
    const scores = new Float32Array(this.nItems);
    this.scoreAll(user, scores);
    return scores[item]!;
  }

  scoreAll(user: number, out: Float32Array): void {
    const profile = this.userProfile(user);
    let norm = 0;
    for (let f = 0; f < profile.length; f++) norm += profile[f]! * profile[f]!;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const { indptr, indices, values } = this.profiles;
    for (let i = 0; i < out.length; i++) {
      let s = 0;
      for (let e = indptr[i]!; e < indptr[i + 1]!; e++) s += values[e]! * profile[indices[e]!]!;
      out[i] = s * inv;
    }
  }

  /** Items with the most similar profiles (cosine), the item itself left out. */
  override similarItems(item: number, count: number): TopK {
    this.assertFitted();
    if (!(Number.isInteger(item) && item >= 0 && item < this.nItems))
      throw new RangeError(`item index ${item} is outside 0..${this.nItems - 1}`);
    const { indptr, indices, values } = this.profiles;
    const q = new Float64Array(this.profiles.nCols);
    for (let e = indptr[item]!; e < indptr[item + 1]!; e++) q[indices[e]!] = values[e]!;
    const scores = new Float32Array(this.nItems);
    for (let i = 0; i < this.nItems; i++) {
      let s = 0;
      for (let e = indptr[i]!; e < indptr[i + 1]!; e++) s += values[e]! * q[indices[e]!]!;
      scores[i] = s;
    }
    scores[item] = Number.NEGATIVE_INFINITY;
    return topK(scores, count);
  }

  /** Item profiles (items × features, unit rows). */
  get itemProfiles(): SparseMatrix {
    return this.profiles;
  }

  protected modelState(): ModelState {
    return {
      features: this.profiles.nCols,
      'profiles.indptr': this.profiles.indptr,
      'profiles.indices': this.profiles.indices,
      'profiles.values': this.profiles.values,
      weights: this.weights,
      xIndptr: this.xIndptr,
      featureNames: this.featureNames,
    };
  }

  protected restoreModel(state: ModelState): void {
    const nCols = expectNumber(state, 'features');
    const indptr = expectInt32(state, 'profiles.indptr');
    if (indptr.length !== this.nItems + 1)
      throw new ConfigError('saved content model', 'item profiles do not match the item count');
    this.profiles = {
      nRows: this.nItems,
      nCols,
      indptr,
      indices: expectInt32(state, 'profiles.indices'),
      values: expectFloat32(state, 'profiles.values'),
    };
    this.weights = expectFloat32(state, 'weights');
    this.xIndptr = expectInt32(state, 'xIndptr');
    const names = state.featureNames;
    this.featureNames = Array.isArray(names) ? names.map(String) : [];
  }
}

interface Block {
  names: string[];
  /** Per item: feature → value (unit-normalised below). */
  rows: Array<Map<number, number>>;
  weight: number;
}

/** Builds unit-norm item profiles in the training data's item index space (matched by MovieLens movieId). */
export function buildProfiles(
  train: Interactions,
  movies: MovieCatalogue,
  p: Pick<ContentParams, 'genreWeight' | 'tagWeight' | 'genomeWeight' | 'decadeWeight'>,
): { profiles: SparseMatrix; names: string[] } {
  const n = train.nItems;
  const rowOf = catalogueRows(movies, train.itemIds);
  const emptyRows = () => Array.from({ length: n }, () => new Map<number, number>());
  const blocks: Block[] = [];

  const genres: Block = {
    names: movies.genreNames.map((g) => `genre:${g}`),
    rows: emptyRows(),
    weight: p.genreWeight,
  };
  for (let i = 0; i < n; i++) {
    const r = rowOf[i]!;
    if (r < 0) continue;
    for (let k = movies.genreIndptr[r]!; k < movies.genreIndptr[r + 1]!; k++) {
      const name = movies.genreNames[movies.genreIndices[k]!]!;
      if (name === '(no genres listed)' || name === 'unknown') continue;
      genres.rows[i]!.set(movies.genreIndices[k]!, 1);
    }
  }
  blocks.push(genres);

  const decades = new Map<number, number>();
  const decade: Block = { names: [], rows: emptyRows(), weight: p.decadeWeight };
  for (let i = 0; i < n; i++) {
    const r = rowOf[i]!;
    if (r < 0 || !movies.years[r]) continue;
    const d = Math.floor(movies.years[r]! / 10) * 10;
    let f = decades.get(d);
    if (f === undefined) {
      f = decade.names.length;
      decades.set(d, f);
      decade.names.push(`decade:${d}s`);
    }
    decade.rows[i]!.set(f, 1);
  }
  blocks.push(decade);

  if (movies.tags && movies.tags.indices.length > 0) {
    const tags = movies.tags;
    const tagBlock: Block = {
      names: tags.vocabulary.map((t) => `tag:${t}`),
      rows: emptyRows(),
      weight: p.tagWeight,
    };
    // Case-folded tag ids so "Pixar" and "pixar" count together.
    const folded = new Map<string, number>();
    const canon = tags.vocabulary.map((t) => {
      const key = t.trim().toLowerCase();
      let id = folded.get(key);
      if (id === undefined) {
        id = folded.size;
        folded.set(key, id);
      }
      return id;
    });
    tagBlock.names = [...folded.keys()].map((t) => `tag:${t}`);
    for (let i = 0; i < n; i++) {
      const r = rowOf[i]!;
      if (r < 0) continue;
      const row = tagBlock.rows[i]!;
      for (let k = tags.indptr[r]!; k < tags.indptr[r + 1]!; k++) {
        const t = canon[tags.indices[k]!]!;
        row.set(t, (row.get(t) ?? 0) + 1);
      }
    }
    // tf = 1 + log(count), idf = log(N / df) over items with any tag.
    const df = new Float64Array(folded.size);
    let tagged = 0;
    for (const row of tagBlock.rows) {
      if (row.size > 0) tagged++;
      for (const t of row.keys()) df[t]!++;
    }
    for (const row of tagBlock.rows) {
      for (const [t, c] of row) row.set(t, (1 + Math.log(c)) * Math.log(tagged / df[t]!));
    }
    blocks.push(tagBlock);
  }

  if (movies.genome) {
    const g = movies.genome;
    const nt = g.tagIds.length;
    const gBlock: Block = {
      names: g.tags.map((t) => `genome:${t}`),
      rows: emptyRows(),
      weight: p.genomeWeight,
    };
    for (let i = 0; i < n; i++) {
      const r = rowOf[i]! >= 0 ? g.rowOf[rowOf[i]!]! : -1;
      if (r < 0) continue;
      for (let t = 0; t < nt; t++) {
        const v = g.relevance[r * nt + t]!;
        if (v !== 0) gBlock.rows[i]!.set(t, v);
      }
    }
    blocks.push(gBlock);
  }

  // Concatenate weighted unit-norm blocks, then make each item's whole vector unit-norm.
  const names: string[] = [];
  const offsets: number[] = [];
  for (const b of blocks) {
    offsets.push(names.length);
    names.push(...b.names);
  }
  const indptr = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = idx.length;
    blocks.forEach((b, bi) => {
      const row = b.rows[i]!;
      if (row.size === 0 || b.weight === 0) return;
      let norm = 0;
      for (const v of row.values()) norm += v * v;
      if (norm === 0) return;
      const scale = b.weight / Math.sqrt(norm);
      for (const f of [...row.keys()].sort((a, c) => a - c)) {
        idx.push(offsets[bi]! + f);
        val.push(row.get(f)! * scale);
      }
    });
    let total = 0;
    for (let e = start; e < val.length; e++) total += val[e]! * val[e]!;
    if (total > 0) for (let e = start; e < val.length; e++) val[e] = val[e]! / Math.sqrt(total);
    indptr[i + 1] = idx.length;
  }
  return {
    profiles: {
      nRows: n,
      nCols: names.length,
      indptr,
      indices: Int32Array.from(idx),
      values: Float32Array.from(val),
    },
    names,
  };
}
