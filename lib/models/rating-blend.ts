import { z } from 'zod';
import { cholesky, choleskySolve } from '../compute/linalg';
import type { Interactions } from '../data/interactions';
import { ConfigError, throwIfAborted } from '../util/errors';
import { Rng } from '../util/rng';
import type { ItemGenres, ItemGenresConsumer } from './als-genre';
import { wantsItemGenres } from './als-genre';
import { BaseRecommender, expectNumber } from './base';
import { ratingRange } from './baseline';
import type { FitOptions, ModelState, ModelStateValue, Recommender } from './recommender';

/** One member: a registry model name and its hyperparameters. */
export interface BlendMember {
  model: string;
  params?: Record<string, unknown>;
}

export const DEFAULT_BLEND_MEMBERS: BlendMember[] = [
  { model: 'svd', params: { factors: 200, epochs: 100, regAll: 0.11, lrAll: 0.01, initStd: 0.05 } },
  { model: 'svdpp', params: { factors: 100, epochs: 60, regAll: 0.1, lrAll: 0.005 } },
  { model: 'knn-item', params: { variant: 'baseline', similarity: 'pearson-baseline' } },
  { model: 'knn-user', params: { variant: 'baseline', similarity: 'pearson-baseline' } },
  { model: 'als-genre', params: { factors: 20, reg: 0.15 } },
];

export const ratingBlendSchema = z
  .object({
    members: z
      .preprocess(
        (v) => (Array.isArray(v) ? JSON.stringify(v) : v),
        z.string().default(JSON.stringify(DEFAULT_BLEND_MEMBERS)),
      )
      .describe('rating models to blend: [{"model": name, "params": {...}}, …] (a list or its JSON text)'),
    holdout: z
      .number()
      .gt(0)
      .lt(0.5)
      .default(0.1)
      .describe('fraction of the training ratings held out to fit the blend weights'),
    ridge: z.number().min(0).default(1).describe('ridge penalty on the blend weights'),
    refit: z.boolean().default(true).describe('refit the members on all training ratings after the weights'),
    seed: z.number().int().default(42).describe('seed of the holdout split'),
  })
  .strict();
export type RatingBlendParams = z.infer<typeof ratingBlendSchema>;

/**
 * A linear blend of rating models (the Netflix-prize recipe): members are fitted on the training ratings minus a
 * random holdout, blend weights r̂ = w₀ + Σ_m w_m r̂_m are fitted by ridge least squares on the holdout, then the
 * members are refitted on all training ratings. Predictions are clipped to the rating range.
 */
export class RatingBlendModel extends BaseRecommender<RatingBlendParams> implements ItemGenresConsumer {
  readonly name = 'rating-blend';
  private members: Recommender[] = [];
  private specs: BlendMember[];
  private weights = new Float64Array(0);
  private genres: ItemGenres | null = null;
  private low = -Infinity;
  private high = Infinity;

  constructor(
    params: Partial<z.input<typeof ratingBlendSchema>> = {},
    private readonly create: (name: string, params: Record<string, unknown>) => Recommender,
  ) {
    super(ratingBlendSchema.parse(params));
    this.specs = parseMembers(this.params.members as string);
    this.members = this.specs.map((m) => this.create(m.model, m.params ?? {}));
  }

  setItemGenres(genres: ItemGenres): void {
    this.genres = genres;
    for (const m of this.members) if (wantsItemGenres(m)) m.setItemGenres(genres);
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const p = this.params;
    [this.low, this.high] = ratingRange(train.ratings);
    const rng = new Rng(p.seed);
    const mask = new Uint8Array(train.size);
    const perm = rng.permutation(train.size);
    const nHold = Math.max(1, Math.round(train.size * p.holdout));
    for (let t = 0; t < nHold; t++) mask[perm[t]!] = 1;
    const keep = new Uint8Array(train.size);
    for (let t = 0; t < train.size; t++) keep[t] = mask[t] ? 0 : 1;
    const fitPart = train.filter(keep);
    const hold = train.filter(mask);
    const M = this.members.length;
    const preds: Float32Array[] = [];
    const started = performance.now();
    for (let m = 0; m < M; m++) {
      throwIfAborted(options.signal, `${this.name} training`);
      const member = this.fresh(m);
      await member.fit(fitPart, { threads: options.threads, signal: options.signal });
      preds.push(member.predict(hold.users, hold.items));
      this.members[m] = member;
    }
    this.weights = ridgeWeights(preds, hold.ratings, p.ridge);
    if (p.refit) {
      for (let m = 0; m < M; m++) {
        throwIfAborted(options.signal, `${this.name} training`);
        const member = this.fresh(m);
        await member.fit(train, { threads: options.threads, signal: options.signal });
        this.members[m] = member;
      }
    }
    if (options.onEpoch) {
      this.fitted = true;
      const metrics: Record<string, number> = { intercept: this.weights[0]! };
      this.specs.forEach((s, m) => {
        metrics[`weight_${m}_${s.model}`] = this.weights[m + 1]!;
      });
      options.onEpoch({
        epoch: 1,
        epochs: 1,
        seconds: (performance.now() - started) / 1000,
        trainRmse: rmse(this, train),
        validationRmse: options.validation ? rmse(this, options.validation) : undefined,
        metrics,
      });
    }
  }

  private fresh(m: number): Recommender {
    const model = this.create(this.specs[m]!.model, this.specs[m]!.params ?? {});
    if (wantsItemGenres(model)) {
      if (!this.genres)
        throw new ConfigError(
          'rating-blend',
          `member ${this.specs[m]!.model} needs movie genres: call setItemGenres(...) first`,
        );
      model.setItemGenres(this.genres);
    }
    return model;
  }

  /** Blend weights: [intercept, w_1 … w_M] in member order. */
  get blendWeights(): Float64Array {
    return this.weights;
  }

  override predict(users: Int32Array, items: Int32Array): Float32Array {
    this.assertFitted();
    const out = new Float32Array(users.length).fill(this.weights[0]!);
    this.members.forEach((member, m) => {
      const pm = member.predict(users, items);
      const w = this.weights[m + 1]!;
      for (let t = 0; t < out.length; t++) out[t]! += w * pm[t]!;
    });
    for (let t = 0; t < out.length; t++) out[t] = Math.min(this.high, Math.max(this.low, out[t]!));
    return out;
  }

  protected predictOne(user: number, item: number): number {
    return this.predict(Int32Array.of(user), Int32Array.of(item))[0]!;
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    const n = out.length;
    const items = Int32Array.from({ length: n }, (_, i) => i);
    out.set(this.predict(new Int32Array(n).fill(user), items));
  }

  protected modelState(): ModelState {
    const state: ModelState = { low: this.low, high: this.high, weights: Float64Array.from(this.weights) };
    this.members.forEach((member, m) => {
      for (const [key, value] of Object.entries(member.state())) state[`m${m}.${key}`] = value;
    });
    return state;
  }

  protected restoreModel(state: ModelState): void {
    this.low = expectNumber(state, 'low');
    this.high = expectNumber(state, 'high');
    const w = state.weights;
    if (!(w instanceof Float64Array) || w.length !== this.members.length + 1)
      throw new ConfigError(
        'saved model',
        'rating-blend: "weights" is missing or does not match the members',
      );
    this.weights = w;
    this.members.forEach((member, m) => {
      const prefix = `m${m}.`;
      const sub: Record<string, ModelStateValue> = {};
      for (const [key, value] of Object.entries(state))
        if (key.startsWith(prefix)) sub[key.slice(prefix.length)] = value;
      member.restore(sub);
    });
  }
}

function parseMembers(json: string): BlendMember[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new ConfigError('members', `not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new ConfigError('members', 'expected a non-empty JSON array of {"model": ..., "params": {...}}');
  return parsed.map((m, i) => {
    const o = m as BlendMember;
    if (typeof o?.model !== 'string') throw new ConfigError(`members[${i}].model`, 'expected a model name');
    if (
      o.params !== undefined &&
      (typeof o.params !== 'object' || o.params === null || Array.isArray(o.params))
    )
      throw new ConfigError(`members[${i}].params`, 'expected an object');
    return { model: o.model, params: o.params ?? {} };
  });
}

/** Ridge least squares with an unpenalised intercept: minimises Σ (r − w₀ − Σ w_m p_m)² + λ Σ_m w_m². */
function ridgeWeights(preds: Float32Array[], ratings: Float32Array, ridge: number): Float64Array {
  const M = preds.length;
  const d = M + 1;
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  const x = new Float64Array(d);
  for (let t = 0; t < ratings.length; t++) {
    x[0] = 1;
    for (let m = 0; m < M; m++) x[m + 1] = preds[m]![t]!;
    for (let r = 0; r < d; r++) {
      b[r]! += x[r]! * ratings[t]!;
      for (let c = 0; c <= r; c++) A[r * d + c]! += x[r]! * x[c]!;
    }
  }
  for (let m = 1; m < d; m++) A[m * d + m]! += ridge;
  A[0]! += 1e-9;
  if (!cholesky(A, d)) throw new ConfigError('rating-blend', 'member predictions are degenerate; add ridge');
  choleskySolve(A, d, b);
  return b;
}

function rmse(model: Recommender, data: Interactions): number {
  const p = model.predict(data.users, data.items);
  let s = 0;
  for (let t = 0; t < data.size; t++) s += (data.ratings[t]! - p[t]!) ** 2;
  return Math.sqrt(s / Math.max(1, data.size));
}
