import { topK } from '../compute/topk';
import { IdMap } from '../data/id-map';
import type { Interactions } from '../data/interactions';
import { ReelabError } from '../util/errors';
import type { FitOptions, ModelState, Recommender, RecommendOptions, TopK } from './recommender';

export type Params = Record<string, number | string | boolean>;

/**
 * Shared plumbing for models: parameters, the id maps and seen items of the training data (for
 * `recommend` after a reload), top-k with exclusion, and state save/restore of those parts.
 */
export abstract class BaseRecommender<P extends Params> implements Recommender {
  abstract readonly name: string;
  fitted = false;
  protected userIds: IdMap | null = null;
  protected itemIds: IdMap | null = null;
  private seenIndptr: Int32Array | null = null;
  private seenIndices: Int32Array | null = null;
  private excludeMark: Int32Array | null = null;
  private excludeStamp = 0;

  constructor(readonly params: Readonly<P>) {}

  get nUsers(): number {
    return this.userIds?.size ?? 0;
  }

  get nItems(): number {
    return this.itemIds?.size ?? 0;
  }

  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    if (train.size === 0) throw new ReelabError(`${this.name}: cannot fit on an empty training set`);
    this.userIds = train.userIds;
    this.itemIds = train.itemIds;
    const csr = train.csr();
    this.seenIndptr = csr.indptr;
    this.seenIndices = csr.indices;
    this.excludeMark = null;
    await this.train(train, options);
    this.fitted = true;
  }

  protected abstract train(train: Interactions, options: FitOptions): Promise<void>;

  abstract scoreAll(user: number, out: Float32Array): void;

  predict(users: Int32Array, items: Int32Array): Float32Array {
    this.assertFitted();
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) out[k] = this.predictOne(users[k]!, items[k]!);
    return out;
  }

  /** Score of one pair; indices outside the training maps (cold users/items) must be handled. */
  protected abstract predictOne(user: number, item: number): number;

  recommend(user: number, k: number, options: RecommendOptions = {}): TopK {
    this.assertFitted();
    if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`k must be a positive integer, got ${k}`);
    if (!(user >= 0 && user < this.nUsers))
      throw new RangeError(`user index ${user} is outside 0..${this.nUsers - 1}`);
    const scores = new Float32Array(this.nItems);
    this.scoreAll(user, scores);
    const exclude = options.exclude ?? 'seen';
    if (exclude === 'none') return topK(scores, k);
    this.excludeMark ??= new Int32Array(this.nItems);
    const stamp = ++this.excludeStamp;
    if (exclude === 'seen') {
      for (let p = this.seenIndptr![user]!; p < this.seenIndptr![user + 1]!; p++)
        this.excludeMark[this.seenIndices![p]!] = stamp;
    } else {
      for (let p = 0; p < exclude.length; p++) this.excludeMark[exclude[p]!] = stamp;
    }
    return topK(scores, k, this.excludeMark, stamp);
  }

  /** Items the user interacted with in training (ascending indices). */
  seenItems(user: number): Int32Array {
    this.assertFitted();
    return this.seenIndices!.subarray(this.seenIndptr![user]!, this.seenIndptr![user + 1]!);
  }

  get ids(): { users: IdMap; items: IdMap } {
    this.assertFitted();
    return { users: this.userIds!, items: this.itemIds! };
  }

  protected assertFitted(): void {
    if (!this.fitted) throw new ReelabError(`${this.name}: call fit() (or load a saved model) first`);
  }

  state(): ModelState {
    this.assertFitted();
    return {
      'ids.users': this.userIds!.ids,
      'ids.items': this.itemIds!.ids,
      'seen.indptr': this.seenIndptr!,
      'seen.indices': this.seenIndices!,
      ...this.modelState(),
    };
  }

  restore(state: ModelState): void {
    this.userIds = IdMap.fromSorted(expectInt32(state, 'ids.users'));
    this.itemIds = IdMap.fromSorted(expectInt32(state, 'ids.items'));
    this.seenIndptr = expectInt32(state, 'seen.indptr');
    this.seenIndices = expectInt32(state, 'seen.indices');
    this.restoreModel(state);
    this.fitted = true;
  }

  protected abstract modelState(): ModelState;
  protected abstract restoreModel(state: ModelState): void;
}

export function expectInt32(state: ModelState, key: string): Int32Array {
  const v = state[key];
  if (!(v instanceof Int32Array))
    throw new ReelabError(`saved model: "${key}" is missing or not an Int32Array`);
  return v;
}

export function expectFloat32(state: ModelState, key: string): Float32Array {
  const v = state[key];
  if (!(v instanceof Float32Array))
    throw new ReelabError(`saved model: "${key}" is missing or not a Float32Array`);
  return v;
}

export function expectNumber(state: ModelState, key: string): number {
  const v = state[key];
  if (typeof v !== 'number') throw new ReelabError(`saved model: "${key}" is missing or not a number`);
  return v;
}
