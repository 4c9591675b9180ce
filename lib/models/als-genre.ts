import { z } from 'zod';
import { cholesky, choleskySolve } from '../compute/linalg';
import { type MovieCatalogue, requireCatalogue } from '../data/catalogue';
import type { IdMap } from '../data/id-map';
import type { Interactions } from '../data/interactions';
import { ConfigError, ReelabError, throwIfAborted } from '../util/errors';
import { Rng } from '../util/rng';
import { BaseRecommender, expectFloat32, expectInt32, expectNumber } from './base';
import { ratingRange } from './baseline';
import type { FactorScorer, FitOptions, ModelState } from './recommender';
import { expectFloat64 } from './svd';

/**
 * The training items' genres (CSR over item indices, each item's genre indices ascending) and the genre names,
 * numbered in order of first appearance over the catalogue's rated movies. The model keeps it (and saves it),
 * so a restored model scores without the catalogue.
 */
interface GenreIncidence {
  indptr: Int32Array;
  genres: Int32Array;
  names: string[];
}

/**
 * Item × genre incidence of `itemIds` from the catalogue (matched by movieId). Rated items missing from the
 * catalogue get no genres; catalogue movies without ratings are ignored.
 */
export function genreIncidence(catalogue: MovieCatalogue, itemIds: IdMap): GenreIncidence {
  const names: string[] = [];
  const index = new Map<number, number>();
  const perItem: number[][] = Array.from({ length: itemIds.size }, () => []);
  let matched = 0;
  for (let r = 0; r < catalogue.size; r++) {
    const i = itemIds.index(catalogue.movieIds[r]!);
    if (i < 0) continue;
    matched++;
    for (let k = catalogue.genreIndptr[r]!; k < catalogue.genreIndptr[r + 1]!; k++) {
      const c = catalogue.genreIndices[k]!;
      let gi = index.get(c);
      if (gi === undefined) {
        gi = names.length;
        index.set(c, gi);
        names.push(catalogue.genreNames[c]!);
      }
      if (!perItem[i]!.includes(gi)) perItem[i]!.push(gi);
    }
  }
  if (matched === 0 && itemIds.size > 0)
    throw new ConfigError('catalogue', `has none of the ${itemIds.size} training movies (another dataset?)`);
  const indptr = new Int32Array(itemIds.size + 1);
  for (let i = 0; i < itemIds.size; i++) indptr[i + 1] = indptr[i]! + perItem[i]!.length;
  const genres = new Int32Array(indptr[itemIds.size]!);
  for (let i = 0; i < itemIds.size; i++)
    genres.set(
      perItem[i]!.sort((a, b) => a - b),
      indptr[i]!,
    );
  return { indptr, genres, names };
}

export const alsGenreSchema = z
  .object({
    factors: z.number().int().min(1).max(512).default(20).describe('latent factors'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(15)
      .describe('alternating sweeps (users, items, genres)'),
    reg: z
      .number()
      .min(0)
      .default(0.15)
      .describe('factor regularisation λ, scaled by each row’s rating count'),
    regBias: z.number().min(0).default(0.02).describe('bias regularisation, scaled by the rating count'),
    regGenre: z.number().min(0).default(10).describe('regularisation of genre biases and genre factors'),
    genreBias: z.boolean().default(true).describe('learn genre-feature biases c_g'),
    genreFactors: z.boolean().default(true).describe('learn genre factors f_g added to item factors'),
    initStd: z.number().min(0).default(0.1).describe('standard deviation of the factor initialisation'),
    seed: z.number().int().default(42).describe('seed of the initialisation'),
  })
  .strict();
export type AlsGenreParams = z.infer<typeof alsGenreSchema>;

/**
 * Explicit ALS with biases and genre features (the "Bias + Users + Movies + Genre Features" model):
 *
 *   r̂_ui = μ + b_u + b_i + c̄_i + p_u · (q_i + f̄_i),   c̄_i = Σ_{g∈G(i)} c_g / |G(i)|,  f̄_i = Σ_{g∈G(i)} f_g / |G(i)|
 *
 * minimising  L = Σ_(u,i) (r_ui − r̂_ui)² + Σ_u n_u (λ_b b_u² + λ‖p_u‖²) + Σ_i n_i (λ_b b_i² + λ‖q_i‖²)
 *               + λ_g Σ_g (c_g² + ‖f_g‖²)
 * (n_u, n_i = rating counts, the ALS-WR weighting; μ = training mean, fixed). Each epoch solves exactly, in turn,
 * for every (b_u, p_u), jointly for all genre terms (c_g, f_g), then for every (b_i, q_i), so L never increases.
 * Items without ratings keep b_i = 0, q_i = 0 and are scored from their genres (cold start).
 */
export class AlsGenreModel extends BaseRecommender<AlsGenreParams> {
  readonly name = 'als-genre';
  private itemGenres: GenreIncidence | null = null;
  private mean = 0;
  private low = -Infinity;
  private high = Infinity;
  private userFactors = new Float32Array(0);
  private itemFactors = new Float32Array(0);
  private userBias = new Float64Array(0);
  private itemBias = new Float64Array(0);
  private genreBias = new Float64Array(0);
  private genreFactors = new Float32Array(0);
  /** Per item: q_i + f̄_i and b_i + c̄_i (what scoring uses). */
  private effFactors = new Float32Array(0);
  private effBias = new Float64Array(0);

  constructor(params: Partial<z.input<typeof alsGenreSchema>> = {}) {
    super(alsGenreSchema.parse(params));
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const catalogue = requireCatalogue(this.name, options.catalogue, 'movie genres');
    const genres = genreIncidence(catalogue, train.itemIds);
    this.itemGenres = genres;
    const p = this.params;
    const k = p.factors;
    this.mean = train.mean();
    [this.low, this.high] = ratingRange(train.ratings);
    const rng = new Rng(p.seed);
    this.userFactors = new Float32Array(train.nUsers * k);
    this.itemFactors = new Float32Array(train.nItems * k);
    rng.fillNormal(this.userFactors, 0, p.initStd);
    rng.fillNormal(this.itemFactors, 0, p.initStd);
    const itemCounts = train.itemCounts();
    const userCounts = train.userCounts();
    for (let i = 0; i < train.nItems; i++)
      if (itemCounts[i] === 0) this.itemFactors.fill(0, i * k, (i + 1) * k);
    for (let u = 0; u < train.nUsers; u++)
      if (userCounts[u] === 0) this.userFactors.fill(0, u * k, (u + 1) * k);
    this.userBias = new Float64Array(train.nUsers);
    this.itemBias = new Float64Array(train.nItems);
    const nG = genres.names.length;
    this.genreBias = new Float64Array(nG);
    this.genreFactors = new Float32Array(nG * k);
    this.effFactors = new Float32Array(train.nItems * k);
    this.effBias = new Float64Array(train.nItems);
    this.refreshEffective();
    const ws = new Workspace(k, nG);
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      throwIfAborted(options.signal, `${this.name} training`);
      const started = performance.now();
      // genres before items: shared genre effects are learned first, items keep the residual (the same
      // optimum, reached much faster than when item biases absorb everything and genres creep in)
      this.solveUsers(train, ws);
      if (nG > 0 && (p.genreBias || p.genreFactors)) this.solveGenres(train, ws);
      this.solveItems(train, ws);
      this.refreshEffective();
      if (options.onEpoch) {
        options.onEpoch({
          epoch: epoch + 1,
          epochs: p.epochs,
          seconds: (performance.now() - started) / 1000,
          loss: this.objective(train),
          trainRmse: this.rmseOn(train),
          validationRmse: options.validation ? this.rmseOn(options.validation) : undefined,
        });
      }
      if (options.signal) await new Promise((r) => setImmediate(r));
    }
  }

  /** Step 1: (b_u, p_u) for every user, given the effective item side. */
  solveUsers(train: Interactions, ws = this.workspace()): void {
    const k = this.params.factors;
    const d = k + 1;
    const { indptr, indices, values } = train.csr();
    const { A, b, x } = ws;
    for (let u = 0; u < train.nUsers; u++) {
      const n = indptr[u + 1]! - indptr[u]!;
      if (n === 0) continue;
      A.fill(0);
      b.fill(0);
      for (let q = indptr[u]!; q < indptr[u + 1]!; q++) {
        const i = indices[q]!;
        const t = values[q]! - this.mean - this.effBias[i]!;
        x[0] = 1;
        for (let f = 0; f < k; f++) x[f + 1] = this.effFactors[i * k + f]!;
        accumulate(A, b, x, t, d);
      }
      this.solveRow(A, b, d, n);
      this.userBias[u] = b[0]!;
      for (let f = 0; f < k; f++) this.userFactors[u * k + f] = b[f + 1]!;
    }
  }

  /** Step 2: (b_i, q_i) for every item, given users and genre terms. */
  solveItems(train: Interactions, ws = this.workspace()): void {
    this.refreshEffective();
    const k = this.params.factors;
    const d = k + 1;
    const { indptr, indices, values } = train.csc();
    const { A, b, x } = ws;
    const fbar = ws.fbar;
    for (let i = 0; i < train.nItems; i++) {
      const n = indptr[i + 1]! - indptr[i]!;
      if (n === 0) continue;
      const cbar = this.genreMean(i, fbar);
      A.fill(0);
      b.fill(0);
      for (let q = indptr[i]!; q < indptr[i + 1]!; q++) {
        const u = indices[q]!;
        let t = values[q]! - this.mean - this.userBias[u]! - cbar;
        x[0] = 1;
        for (let f = 0; f < k; f++) {
          const puf = this.userFactors[u * k + f]!;
          x[f + 1] = puf;
          t -= puf * fbar[f]!;
        }
        accumulate(A, b, x, t, d);
      }
      this.solveRow(A, b, d, n);
      this.itemBias[i] = b[0]!;
      for (let f = 0; f < k; f++) this.itemFactors[i * k + f] = b[f + 1]!;
    }
  }

  /** Step 3: all genre terms θ_g = (c_g, f_g) jointly: e_ui = Σ_{g∈G(i)} w_i [1, p_u]·θ_g, ridge λ_g. */
  solveGenres(train: Interactions, ws = this.workspace()): void {
    const p = this.params;
    const k = p.factors;
    const d = k + 1;
    const genres = this.itemGenres!;
    const nG = genres.names.length;
    const D = nG * d;
    const { indptr, indices, values } = train.csc();
    const { big, bigRhs, A: S, b: t, x } = ws;
    big.fill(0);
    bigRhs.fill(0);
    for (let i = 0; i < train.nItems; i++) {
      const g0 = genres.indptr[i]!;
      const g1 = genres.indptr[i + 1]!;
      if (g1 === g0 || indptr[i + 1] === indptr[i]) continue;
      const w = 1 / (g1 - g0);
      S.fill(0);
      t.fill(0);
      for (let q = indptr[i]!; q < indptr[i + 1]!; q++) {
        const u = indices[q]!;
        let e = values[q]! - this.mean - this.userBias[u]! - this.itemBias[i]!;
        x[0] = 1;
        for (let f = 0; f < k; f++) {
          const puf = this.userFactors[u * k + f]!;
          x[f + 1] = puf;
          e -= puf * this.itemFactors[i * k + f]!;
        }
        accumulate(S, t, x, e, d);
      }
      mirrorLower(S, d);
      for (let a = g0; a < g1; a++) {
        const ga = genres.genres[a]! * d;
        for (let r = 0; r < d; r++) bigRhs[ga + r]! += w * t[r]!;
        for (let c = g0; c < g1; c++) {
          const gc = genres.genres[c]! * d;
          for (let r = 0; r < d; r++) {
            const row = (ga + r) * D + gc;
            for (let s = 0; s < d; s++) big[row + s]! += w * w * S[r * d + s]!;
          }
        }
      }
    }
    // Switched-off parts are pinned to zero by an overwhelming ridge on their coordinates.
    for (let g = 0; g < nG; g++) {
      for (let r = 0; r < d; r++) {
        const on = r === 0 ? p.genreBias : p.genreFactors;
        const j = g * d + r;
        big[j * D + j]! += on ? p.regGenre : 1e12;
      }
    }
    if (!cholesky(big, D)) throw new ReelabError('als-genre: the genre system is not positive definite');
    choleskySolve(big, D, bigRhs);
    for (let g = 0; g < nG; g++) {
      this.genreBias[g] = p.genreBias ? bigRhs[g * d]! : 0;
      for (let f = 0; f < k; f++) this.genreFactors[g * k + f] = p.genreFactors ? bigRhs[g * d + 1 + f]! : 0;
    }
    this.refreshEffective();
  }

  private workspace(): Workspace {
    return new Workspace(this.params.factors, this.itemGenres?.names.length ?? 0);
  }

  /** Solves the row system with count-scaled ridge (λ_b on the bias, λ on factors); result in b. */
  private solveRow(A: Float64Array, b: Float64Array, d: number, n: number): void {
    A[0]! += n * this.params.regBias;
    for (let f = 1; f < d; f++) A[f * d + f]! += n * this.params.reg;
    if (!cholesky(A, d)) {
      // only when every regularisation is zero and the data is degenerate: add a tiny ridge
      for (let f = 0; f < d; f++) A[f * d + f]! += 1e-9;
      if (!cholesky(A, d))
        throw new ReelabError('als-genre: a least-squares system is not positive definite');
    }
    choleskySolve(A, d, b);
  }

  /** c̄_i, with f̄_i written to `fbar`. */
  private genreMean(i: number, fbar: Float64Array): number {
    const k = this.params.factors;
    const genres = this.itemGenres!;
    fbar.fill(0);
    const g0 = genres.indptr[i]!;
    const g1 = genres.indptr[i + 1]!;
    if (g1 === g0) return 0;
    const w = 1 / (g1 - g0);
    let c = 0;
    for (let a = g0; a < g1; a++) {
      const g = genres.genres[a]!;
      c += this.genreBias[g]!;
      for (let f = 0; f < k; f++) fbar[f]! += this.genreFactors[g * k + f]!;
    }
    for (let f = 0; f < k; f++) fbar[f]! *= w;
    return c * w;
  }

  /** Recomputes the scoring terms q_i + f̄_i and b_i + c̄_i (after the parameters were changed). */
  refreshEffective(): void {
    const k = this.params.factors;
    const fbar = new Float64Array(k);
    const nItems = this.itemBias.length;
    for (let i = 0; i < nItems; i++) {
      const cbar = this.genreMean(i, fbar);
      this.effBias[i] = this.itemBias[i]! + cbar;
      for (let f = 0; f < k; f++) this.effFactors[i * k + f] = this.itemFactors[i * k + f]! + fbar[f]!;
    }
  }

  /** The regularised objective L (see the class comment) on the training data. */
  objective(train: Interactions): number {
    const p = this.params;
    const k = p.factors;
    let loss = 0;
    for (let n = 0; n < train.size; n++) {
      const e = train.ratings[n]! - this.raw(train.users[n]!, train.items[n]!);
      loss += e * e;
    }
    const uc = train.userCounts();
    const ic = train.itemCounts();
    const sq = (a: Float32Array, r: number) => {
      let s = 0;
      for (let f = 0; f < k; f++) s += a[r * k + f]! * a[r * k + f]!;
      return s;
    };
    for (let u = 0; u < uc.length; u++)
      loss += uc[u]! * (p.regBias * this.userBias[u]! ** 2 + p.reg * sq(this.userFactors, u));
    for (let i = 0; i < ic.length; i++)
      loss += ic[i]! * (p.regBias * this.itemBias[i]! ** 2 + p.reg * sq(this.itemFactors, i));
    for (let g = 0; g < this.genreBias.length; g++)
      loss += p.regGenre * (this.genreBias[g]! ** 2 + sq(this.genreFactors, g));
    return loss;
  }

  /** Unclipped r̂ for a known pair. */
  private raw(user: number, item: number): number {
    const k = this.params.factors;
    let r = this.mean + this.userBias[user]! + this.effBias[item]!;
    for (let f = 0; f < k; f++) r += this.userFactors[user * k + f]! * this.effFactors[item * k + f]!;
    return r;
  }

  protected predictOne(user: number, item: number): number {
    const knownU = user >= 0 && user < this.userBias.length;
    const knownI = item >= 0 && item < this.effBias.length;
    let r: number;
    if (knownU && knownI) r = this.raw(user, item);
    else r = this.mean + (knownU ? this.userBias[user]! : 0) + (knownI ? this.effBias[item]! : 0);
    return r < this.low ? this.low : r > this.high ? this.high : r;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    for (let i = 0; i < out.length; i++) out[i] = this.raw(user, i);
  }

  batchScorer(): FactorScorer {
    this.assertFitted();
    return {
      kind: 'factors',
      factors: this.params.factors,
      userFactors: this.userFactors,
      itemFactors: this.effFactors,
      userBias: Float32Array.from(this.userBias),
      itemBias: Float32Array.from(this.effBias),
      globalBias: this.mean,
    };
  }

  /** Fitted parameters (read-only views), e.g. to plot genre factors. */
  get parameters(): {
    mean: number;
    userBias: Float64Array;
    itemBias: Float64Array;
    userFactors: Float32Array;
    itemFactors: Float32Array;
    genreBias: Float64Array;
    genreFactors: Float32Array;
    genreNames: string[];
  } {
    return {
      mean: this.mean,
      userBias: this.userBias,
      itemBias: this.itemBias,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
      genreBias: this.genreBias,
      genreFactors: this.genreFactors,
      genreNames: this.itemGenres?.names ?? [],
    };
  }

  protected modelState(): ModelState {
    const g = this.itemGenres!;
    return {
      mean: this.mean,
      low: this.low,
      high: this.high,
      userFactors: this.userFactors,
      itemFactors: this.itemFactors,
      userBias: this.userBias,
      itemBias: this.itemBias,
      genreBias: this.genreBias,
      genreFactors: this.genreFactors,
      'genres.indptr': g.indptr,
      'genres.genres': g.genres,
      'genres.names': g.names,
    };
  }

  protected restoreModel(state: ModelState): void {
    this.mean = expectNumber(state, 'mean');
    this.low = expectNumber(state, 'low');
    this.high = expectNumber(state, 'high');
    this.userFactors = expectFloat32(state, 'userFactors');
    this.itemFactors = expectFloat32(state, 'itemFactors');
    this.userBias = expectFloat64(state, 'userBias');
    this.itemBias = expectFloat64(state, 'itemBias');
    this.genreBias = expectFloat64(state, 'genreBias');
    this.genreFactors = expectFloat32(state, 'genreFactors');
    const names = state['genres.names'];
    if (!Array.isArray(names)) throw new ReelabError('saved model: "genres.names" is missing');
    const genres: GenreIncidence = {
      indptr: expectInt32(state, 'genres.indptr'),
      genres: expectInt32(state, 'genres.genres'),
      names: names.map(String),
    };
    if (genres.indptr[genres.indptr.length - 1] !== genres.genres.length)
      throw new ReelabError('saved model: "genres.indptr" does not match "genres.genres"');
    for (let t = 0; t < genres.genres.length; t++)
      if (!(genres.genres[t]! >= 0 && genres.genres[t]! < genres.names.length))
        throw new ReelabError(`saved model: genre index ${genres.genres[t]} is outside the genre names`);
    this.itemGenres = genres;
    const nItems = this.itemBias.length;
    this.effFactors = new Float32Array(nItems * this.params.factors);
    this.effBias = new Float64Array(nItems);
    this.refreshEffective();
  }
}

/** Scratch buffers of the solves. */
class Workspace {
  readonly A: Float64Array;
  readonly b: Float64Array;
  readonly x: Float64Array;
  readonly fbar: Float64Array;
  readonly big: Float64Array;
  readonly bigRhs: Float64Array;

  constructor(k: number, nGenres: number) {
    const d = k + 1;
    this.A = new Float64Array(d * d);
    this.b = new Float64Array(d);
    this.x = new Float64Array(d);
    this.fbar = new Float64Array(k);
    this.big = new Float64Array(nGenres * d * nGenres * d);
    this.bigRhs = new Float64Array(nGenres * d);
  }
}

/** A += x xᵀ on the lower triangle (all `cholesky` reads), b += t x. */
function accumulate(A: Float64Array, b: Float64Array, x: Float64Array, t: number, d: number): void {
  for (let r = 0; r < d; r++) {
    const xr = x[r]!;
    b[r]! += t * xr;
    const row = r * d;
    for (let c = 0; c <= r; c++) A[row + c]! += xr * x[c]!;
  }
}

function mirrorLower(A: Float64Array, d: number): void {
  for (let r = 0; r < d; r++) for (let c = 0; c < r; c++) A[c * d + r] = A[r * d + c]!;
}
