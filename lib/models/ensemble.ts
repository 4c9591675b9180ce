import { join } from 'node:path';
import { z } from 'zod';
import { defaultThreads, type TaskRef, workerPool } from '../compute/pool';
import type { MovieCatalogue } from '../data/catalogue';
import type { Interactions } from '../data/interactions';
import { rmse } from '../eval/metrics';
import { ConfigError, ReelabError, throwIfAborted } from '../util/errors';
import { BaseRecommender } from './base';
import { ratingRange } from './baseline';
import {
  fitAndQuery,
  type MemberOutcome,
  type MemberQuery,
  shareCatalogue,
  toPortable,
} from './ensemble/fit-member';
import type { MemberTaskPayload, MemberTaskResult } from './ensemble/member-task';
import { type MemberFactory, type MemberSpec, parseMembers, type ResolvedMember } from './ensemble/members';
import { linearStack, logisticStack, type StackWeights } from './ensemble/stacking';
import { rankingRows, validationNdcg, validationSlice, zScoreInPlace } from './ensemble/validation';
import { NeuralRecommender } from './nn/neural-model';
import type { EpochReport, FitOptions, ModelState, ModelStateValue, Recommender } from './recommender';

export type { MemberFactory, MemberSpec } from './ensemble/members';
export { linearStack, logisticStack, type StackWeights, solveQuadratic } from './ensemble/stacking';
export { validationSlice } from './ensemble/validation';

export const DEFAULT_ENSEMBLE_MEMBERS: MemberSpec[] = [
  { model: 'baseline' },
  { model: 'svd', params: { factors: 50, epochs: 30, learningRate: 0.007, reg: 0.05 } },
  { model: 'svdpp', params: { factors: 20, epochs: 20 } },
  { model: 'knn-item', params: { variant: 'baseline', similarity: 'pearson-baseline' } },
];

export const DEFAULT_RANKING_ENSEMBLE_MEMBERS: MemberSpec[] = [
  { model: 'ials', params: { factors: 64, iterations: 15 } },
  { model: 'item-knn', params: {} },
  { model: 'popularity', params: {} },
];

function membersField(defaults: MemberSpec[]) {
  return z
    .preprocess(
      (v) => (Array.isArray(v) ? JSON.stringify(v) : v),
      z.string().default(JSON.stringify(defaults)),
    )
    .describe(
      'members: [{"model": registry name, "params": {...}, "label"?: text}, …] (a list, or its JSON text for --set)',
    );
}

const commonShape = {
  validationFraction: z
    .number()
    .gt(0)
    .lt(0.5)
    .default(0.1)
    .describe(
      "share of each user's training ratings held out (seeded, per user) to learn the blend weights on",
    ),
  ridge: z
    .number()
    .min(0)
    .default(0.001)
    .describe('ridge penalty on the member weights, per validation row (the intercept is not penalised)'),
  nonNegative: z.boolean().default(true).describe('constrain member weights to ≥ 0'),
  refit: z
    .boolean()
    .default(true)
    .describe('refit the members on all training ratings once the weights are learned'),
  parallel: z
    .boolean()
    .default(true)
    .describe(
      'fit members concurrently in worker threads (TensorFlow.js members on this thread); false: one by one here',
    ),
  seed: z.number().int().default(42).describe('seed of the validation slice (and of ranking negatives)'),
};

export const ensembleSchema = z
  .object({ members: membersField(DEFAULT_ENSEMBLE_MEMBERS), ...commonShape })
  .strict();

export const ensembleRankingSchema = z
  .object({
    members: membersField(DEFAULT_RANKING_ENSEMBLE_MEMBERS),
    ...commonShape,
    negatives: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .describe('sampled unseen items per validation item in the logistic stacking rows'),
  })
  .strict();

/** Parameters of both ensembles (declared, not inferred, so they hold without strictNullChecks too). */
export type EnsembleParams = {
  members: string;
  validationFraction: number;
  ridge: number;
  nonNegative: boolean;
  refit: boolean;
  parallel: boolean;
  seed: number;
  /** Ranking mode only. */
  negatives?: number;
};

export type EnsembleMode = 'rating' | 'ranking';
/** Where a member is fitted: a worker thread, or this thread (TensorFlow.js members, or parallel: false). */
export type MemberPlacement = 'worker' | 'main';

export interface EnsembleMemberReport {
  label: string;
  model: string;
  placement: MemberPlacement;
  /** Blend weight (of predictions in rating mode, of per-user z-scores in ranking mode). */
  weight: number;
  /** Validation RMSE (rating) or NDCG@10 (ranking) of the member fitted without the validation slice. */
  validation: number;
  fitSeconds: number;
  refitSeconds: number | null;
}

export interface EnsembleReport {
  mode: EnsembleMode;
  /** 'rmse' (lower is better) or 'ndcg@10' (higher is better). */
  metric: string;
  /** Validation ratings (rating) or stacking rows (ranking), and the users they belong to. */
  validationRows: number;
  validationUsers: number;
  intercept: number;
  members: EnsembleMemberReport[];
  /** The blend on the same slice. In-sample for the weights (they were fitted there), out-of-sample for members. */
  blend: number;
  bestMember: string;
  /** How much the blend beats the best member on validation (> 0: better; in the metric's own units). */
  gain: number;
  parallel: boolean;
  threads: number;
  seconds: number;
}

/** TensorFlow.js members stay on this thread: the native runtime already spreads its ops over all cores. */
export function memberPlacement(model: Recommender): MemberPlacement {
  return model instanceof NeuralRecommender ? 'main' : 'worker';
}

/** One round of member fits: the ratings they are fitted on and what they answer afterwards. */
interface MemberRound {
  fit: Interactions;
  validation: Interactions | null;
  query: MemberQuery;
}

interface RoundResult {
  models: Recommender[];
  outcomes: MemberOutcome[];
}

const MEMBER_TASK: TaskRef = { module: join(__dirname, 'ensemble', 'member-task.ts'), fn: 'fitMemberTask' };
const NDCG_K = 10;

/**
 * Seed 000's ensemble controller: members (any registered models) are fitted concurrently and blended by linear
 * stacking.
 *
 * fit: (1) carve a per-user random validation slice (`validationFraction`, seeded) out of the training ratings;
 * (2) fit every member on the rest — in worker threads, one member per task, each fitted single-threaded
 * (`member-task.ts` rebuilds it from its registry name and params, fits it, predicts the slice and ships its
 * state back) while TensorFlow.js members run on this thread at the same time; `parallel: false` fits them one
 * by one here with `threads` each (same numbers); (3) learn the weights on the slice — rating mode
 * (`ensemble`): ridge least squares with an intercept on the members' predicted ratings; ranking mode
 * (`ensemble-ranking`): pointwise logistic regression on per-user z-scores of the members' scores over all
 * items, positives = the slice's items, `negatives` sampled unseen items each; optionally non-negative;
 * (4) with `refit`, fit the members again on all training ratings. Scores: rating mode w₀ + Σ w_m r̂_m,
 * clipped to the training rating range; ranking mode w₀ + Σ w_m z_m(u, i).
 *
 * Same seed → same numbers, with workers or without and whatever the thread count (members are deterministic
 * for their own seeds; native TensorFlow.js may differ in the last bits). An aborted fit starts no further
 * member; members already fitting in a worker finish first (worker tasks cannot be interrupted).
 *
 * Side information: the catalogue given to `fit(train, { catalogue })` is passed on to every member's fit (to
 * worker threads with its typed arrays shared); members that need it and do not get it fail as they would alone.
 */
export class EnsembleModel extends BaseRecommender<EnsembleParams> {
  readonly name: 'ensemble' | 'ensemble-ranking';
  private readonly specs: ResolvedMember[];
  private members: Recommender[];
  private weights: StackWeights = { intercept: 0, weights: new Float64Array(0) };
  private low = -Infinity;
  private high = Infinity;
  private lastReport: EnsembleReport | null = null;
  private buffer = new Float32Array(0);

  constructor(
    readonly mode: EnsembleMode,
    params: Record<string, unknown>,
    private readonly factory: MemberFactory,
  ) {
    super(parseParams(mode, params));
    this.name = mode === 'rating' ? 'ensemble' : 'ensemble-ranking';
    this.specs = parseMembers(this.params.members, mode, factory);
    this.members = this.specs.map((s) => factory.create(s.model, s.params));
  }

  /** The members in order: labels, registry names and params. */
  get memberSpecs(): readonly ResolvedMember[] {
    return this.specs;
  }

  /** The fitted members (after `refit`, the ones fitted on all training ratings). */
  get memberModels(): readonly Recommender[] {
    this.assertFitted();
    return this.members;
  }

  get blendWeights(): StackWeights {
    this.assertFitted();
    return { intercept: this.weights.intercept, weights: this.weights.weights.slice() };
  }

  /** Each member's validation metric against the blend's, the weights, and where and how long members ran. */
  report(): EnsembleReport {
    this.assertFitted();
    if (!this.lastReport) throw new ReelabError(`${this.name}: no report in this model`);
    return this.lastReport;
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const p = this.params;
    const started = performance.now();
    const threads = options.threads ?? defaultThreads();
    if (!(Number.isInteger(threads) && threads >= 1))
      throw new ConfigError('threads', `must be a positive integer, got ${threads}`);
    if (this.mode === 'rating') [this.low, this.high] = ratingRange(train.ratings);
    const split = validationSlice(train, p.validationFraction, p.seed);
    if (split.validation.size === 0)
      throw new ConfigError(
        'validationFraction',
        `${p.validationFraction} of each user's ratings leaves no validation ratings (users need ≥ 2 ratings)`,
      );
    const rows = this.mode === 'ranking' ? rankingRows(split, p.negatives ?? 20, p.seed) : null;
    const query: MemberQuery =
      this.mode === 'rating'
        ? { kind: 'pairs', users: split.validation.users, items: split.validation.items }
        : { kind: 'ranking', rows: rows!, k: NDCG_K };
    // The refit does not depend on the weights, so both rounds share one queue: no barrier between them.
    const rounds: MemberRound[] = [{ fit: split.fit, validation: split.validation, query }];
    if (p.refit) rounds.push({ fit: train, validation: null, query: { kind: 'none' } });
    const run = await this.runMembers(rounds, threads, options.signal, options.catalogue ?? null);
    const first = run.rounds[0]!;
    const features = first.outcomes.map((o) => o.features!);

    let memberValues: number[];
    let blendValue: number;
    if (this.mode === 'rating') {
      const target = split.validation.ratings;
      this.weights = linearStack(features, target, { ridge: p.ridge, nonNegative: p.nonNegative });
      memberValues = features.map((f) => rmse(target, f));
      blendValue = rmse(target, this.blendRows(features));
    } else {
      this.weights = logisticStack(features, rows!.labels, { ridge: p.ridge, nonNegative: p.nonNegative });
      memberValues = first.outcomes.map((o) => o.ndcg!);
      blendValue = validationNdcg((u, out) => this.blendScores(first.models, u, out), split, rows!, NDCG_K);
    }

    const last = run.rounds[run.rounds.length - 1]!;
    this.members = last.models;
    const refitSeconds = this.specs.map((_, m) => (p.refit ? last.outcomes[m]!.seconds : null));
    this.buffer = new Float32Array(train.nItems);

    const lowerIsBetter = this.mode === 'rating';
    let best = 0;
    for (let m = 1; m < memberValues.length; m++)
      if (lowerIsBetter ? memberValues[m]! < memberValues[best]! : memberValues[m]! > memberValues[best]!)
        best = m;
    const bestValue = memberValues[best]!;
    this.lastReport = {
      mode: this.mode,
      metric: this.mode === 'rating' ? 'rmse' : `ndcg@${NDCG_K}`,
      validationRows: this.mode === 'rating' ? split.validation.size : rows!.items.length,
      validationUsers: this.mode === 'rating' ? countUsers(split.validation) : rows!.users.length,
      intercept: this.weights.intercept,
      members: this.specs.map((s, m) => ({
        label: s.label,
        model: s.model,
        placement: run.placements[m]!,
        weight: this.weights.weights[m]!,
        validation: memberValues[m]!,
        fitSeconds: first.outcomes[m]!.seconds,
        refitSeconds: refitSeconds[m]!,
      })),
      blend: blendValue,
      bestMember: this.specs[best]!.label,
      gain: lowerIsBetter ? bestValue - blendValue : blendValue - bestValue,
      parallel: p.parallel,
      threads,
      seconds: (performance.now() - started) / 1000,
    };

    if (options.onEpoch) {
      this.fitted = true;
      options.onEpoch(this.epochReport(first.outcomes, options.validation));
    }
  }

  private epochReport(outcomes: MemberOutcome[], validation: Interactions | undefined): EpochReport {
    const r = this.lastReport!;
    // Keys MLflow accepts: "ndcg@10" → "ndcg_at_10"; labels reduced to letters, digits and _ . - / space.
    const metric = r.metric.replace(/@/g, '_at_');
    const metrics: Record<string, number> = {
      intercept: r.intercept,
      [`validation_${metric}_blend`]: r.blend,
    };
    for (const m of r.members) {
      const key = m.label.replace(/[^A-Za-z0-9_.\-/ ]/g, '_');
      metrics[`weight_${key}`] = m.weight;
      metrics[`validation_${metric}_${key}`] = m.validation;
    }
    let epochsRun = 0;
    for (const o of outcomes) epochsRun += o.epochs.length;
    metrics.member_epochs = epochsRun;
    return {
      epoch: 1,
      epochs: 1,
      seconds: r.seconds,
      validationRmse:
        this.mode === 'rating' && validation
          ? rmse(validation.ratings, this.predict(validation.users, validation.items))
          : undefined,
      metrics,
    };
  }

  /**
   * Fits fresh members for every round (a training part and its query) through one queue: worker members over
   * `threads` lanes of the worker pool, round by round, taken by whichever lane is free (deterministic: each
   * member's numbers depend only on its own spec and data, never on the lane or the order it ran in);
   * main-thread members one by one on this thread meanwhile.
   */
  private async runMembers(
    rounds: MemberRound[],
    threads: number,
    signal: AbortSignal | undefined,
    catalogue: MovieCatalogue | null,
  ): Promise<{ rounds: RoundResult[]; placements: MemberPlacement[] }> {
    const results: RoundResult[] = rounds.map(() => {
      const models = this.specs.map((s) => this.fresh(s));
      return { models, outcomes: new Array<MemberOutcome>(models.length) };
    });
    const placements = results[0]!.models.map((m) => (this.params.parallel ? memberPlacement(m) : 'main'));
    const tasks: Array<{ round: number; member: number }> = [];
    for (let r = 0; r < rounds.length; r++)
      for (let m = 0; m < this.specs.length; m++) tasks.push({ round: r, member: m });
    const onMain = tasks.filter((t) => placements[t.member] === 'main');
    const onWorkers = tasks.filter((t) => placements[t.member] === 'worker');

    const mainChain = async () => {
      for (const { round, member } of onMain) {
        throwIfAborted(signal, `${this.name} training`);
        const { fit, validation, query } = rounds[round]!;
        results[round]!.outcomes[member] = await fitAndQuery(
          results[round]!.models[member]!,
          fit,
          validation,
          query,
          { threads, signal, catalogue },
        );
      }
    };
    const jobs: Promise<void>[] = [mainChain()];
    if (onWorkers.length > 0) {
      const pool = workerPool(threads);
      const shared = catalogue ? shareCatalogue(catalogue) : null;
      const portable = rounds.map((r) => ({
        fit: toPortable(r.fit),
        validation: r.validation ? toPortable(r.validation) : null,
        query: r.query,
        catalogue: shared,
      }));
      let next = 0;
      const lane = async (w: number) => {
        while (next < onWorkers.length) {
          throwIfAborted(signal, `${this.name} training`);
          const { round, member } = onWorkers[next++]!;
          const spec = this.specs[member]!;
          const payload: MemberTaskPayload = { ...portable[round]!, model: spec.model, params: spec.params };
          const result = await pool.run<MemberTaskResult>(w, MEMBER_TASK, payload);
          results[round]!.models[member]!.restore(result.state);
          results[round]!.outcomes[member] = {
            features: result.features,
            ndcg: result.ndcg,
            epochs: result.epochs,
            seconds: result.seconds,
          };
        }
      };
      for (let w = 0; w < Math.min(threads, onWorkers.length); w++) jobs.push(lane(w));
    }
    // Wait for every job, even after a failure, so no member is still running when fit() returns.
    const settled = await Promise.allSettled(jobs);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    return { rounds: results, placements };
  }

  private fresh(spec: ResolvedMember): Recommender {
    return this.factory.create(spec.model, spec.params);
  }

  /** Blend of stacking features row by row (rating mode: clipped like predictions). */
  private blendRows(features: Float32Array[]): Float32Array {
    const n = features[0]!.length;
    const out = new Float32Array(n);
    const acc = new Float64Array(n).fill(this.weights.intercept);
    features.forEach((f, m) => {
      const w = this.weights.weights[m]!;
      if (w !== 0) for (let t = 0; t < n; t++) acc[t]! += w * f[t]!;
    });
    for (let t = 0; t < n; t++) out[t] = this.clip(acc[t]!);
    return out;
  }

  private clip(x: number): number {
    return x < this.low ? this.low : x > this.high ? this.high : x;
  }

  /** Blended scores of every item for one user from the given members. */
  private blendScores(members: readonly Recommender[], user: number, out: Float32Array): void {
    const n = out.length;
    if (this.buffer.length !== n) this.buffer = new Float32Array(n);
    const acc = new Float64Array(n).fill(this.weights.intercept);
    const buf = this.buffer;
    members.forEach((member, m) => {
      const w = this.weights.weights[m]!;
      if (w === 0) return;
      member.scoreAll(user, buf);
      if (this.mode === 'ranking') zScoreInPlace(buf);
      for (let i = 0; i < n; i++) acc[i]! += w * buf[i]!;
    });
    for (let i = 0; i < n; i++) out[i] = this.clip(acc[i]!);
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    this.blendScores(this.members, user, out);
  }

  override predict(users: Int32Array, items: Int32Array): Float32Array {
    this.assertFitted();
    if (users.length !== items.length)
      throw new RangeError(`predict: ${users.length} users but ${items.length} items`);
    const n = users.length;
    if (this.mode === 'rating') {
      const acc = new Float64Array(n).fill(this.weights.intercept);
      this.members.forEach((member, m) => {
        const w = this.weights.weights[m]!;
        if (w === 0) return;
        const pm = member.predict(users, items);
        for (let t = 0; t < n; t++) acc[t]! += w * pm[t]!;
      });
      const out = new Float32Array(n);
      for (let t = 0; t < n; t++) out[t] = this.clip(acc[t]!);
      return out;
    }
    // Ranking mode: z-scores need each user's scores over all items, so pairs are scored user by user.
    const out = new Float32Array(n);
    const order = Int32Array.from({ length: n }, (_, t) => t).sort((a, b) => users[a]! - users[b]! || a - b);
    const row = new Float32Array(this.nItems);
    let start = 0;
    while (start < n) {
      const u = users[order[start]!]!;
      let end = start;
      while (end < n && users[order[end]!] === u) end++;
      const known = u >= 0 && u < this.nUsers;
      if (known) this.blendScores(this.members, u, row);
      for (let q = start; q < end; q++) {
        const t = order[q]!;
        const i = items[t]!;
        out[t] = known && i >= 0 && i < this.nItems ? row[i]! : this.weights.intercept;
      }
      start = end;
    }
    return out;
  }

  protected predictOne(user: number, item: number): number {
    return this.predict(Int32Array.of(user), Int32Array.of(item))[0]!;
  }

  protected modelState(): ModelState {
    const w = new Float64Array(this.specs.length + 1);
    w[0] = this.weights.intercept;
    w.set(this.weights.weights, 1);
    const state: ModelState = {
      weights: w,
      low: Number.isFinite(this.low) ? this.low : null,
      high: Number.isFinite(this.high) ? this.high : null,
      report: this.lastReport ? JSON.stringify(this.lastReport) : null,
    };
    this.members.forEach((member, m) => {
      for (const [key, value] of Object.entries(member.state())) state[`m${m}.${key}`] = value;
    });
    return state;
  }

  protected restoreModel(state: ModelState): void {
    const w = state.weights;
    if (!(w instanceof Float64Array) || w.length !== this.specs.length + 1)
      throw new ReelabError(
        `saved model: ${this.name} "weights" is missing or does not match its ${this.specs.length} members`,
      );
    this.weights = { intercept: w[0]!, weights: w.slice(1) };
    this.low = typeof state.low === 'number' ? state.low : -Infinity;
    this.high = typeof state.high === 'number' ? state.high : Infinity;
    this.lastReport = typeof state.report === 'string' ? (JSON.parse(state.report) as EnsembleReport) : null;
    this.members = this.specs.map((spec, m) => {
      const prefix = `m${m}.`;
      const sub: Record<string, ModelStateValue> = {};
      for (const [key, value] of Object.entries(state))
        if (key.startsWith(prefix)) sub[key.slice(prefix.length)] = value;
      if (Object.keys(sub).length === 0)
        throw new ReelabError(`saved model: ${this.name} has no state for member ${m} (${spec.label})`);
      const member = this.factory.create(spec.model, spec.params);
      member.restore(sub);
      return member;
    });
    this.buffer = new Float32Array(this.nItems);
  }
}

function parseParams(mode: EnsembleMode, params: Record<string, unknown>): EnsembleParams {
  const schema = mode === 'rating' ? ensembleSchema : ensembleRankingSchema;
  return schema.parse(params) as EnsembleParams;
}

function countUsers(data: Interactions): number {
  const counts = data.userCounts();
  let n = 0;
  for (let u = 0; u < counts.length; u++) if (counts[u]! > 0) n++;
  return n;
}
