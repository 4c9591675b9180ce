import { ReelabError } from '../util/errors';

/** Sorted item lists per user: user u's items are indices[indptr[u] .. indptr[u+1]), ascending. */
export interface ItemSets {
  indptr: Int32Array;
  indices: Int32Array;
}

/**
 * Running top-k of many users at once (one slot per user of a block), fed with score tiles in ascending item
 * order. Same order as `topK` in ./topk: higher score first, ties → lower item index; items in the slot's
 * exclusion list and non-finite scores are skipped; a NaN score is an error (a broken model, not a ranking).
 * Because the order is strict and total, the result is the same however the items were tiled.
 */
export class TopKSelector {
  private readonly heapScores: Float32Array;
  private readonly heapItems: Int32Array;
  private readonly sizes: Int32Array;
  private readonly exPos: Int32Array;
  private readonly exEnd: Int32Array;
  private readonly users: Int32Array;

  constructor(
    readonly k: number,
    readonly slots: number,
    private readonly exclude: ItemSets | null,
  ) {
    this.heapScores = new Float32Array(k * slots);
    this.heapItems = new Int32Array(k * slots);
    this.sizes = new Int32Array(slots);
    this.exPos = new Int32Array(slots);
    this.exEnd = new Int32Array(slots);
    this.users = new Int32Array(slots);
  }

  /** Starts slot `slot` for user `user`. */
  reset(slot: number, user: number): void {
    this.sizes[slot] = 0;
    this.users[slot] = user;
    if (this.exclude) {
      this.exPos[slot] = this.exclude.indptr[user]!;
      this.exEnd[slot] = this.exclude.indptr[user + 1]!;
    }
  }

  /** Scores at or below this cannot enter the slot's list (−∞ while it holds fewer than k items). */
  threshold(slot: number): number {
    const k = this.k;
    return this.sizes[slot]! < k || k === 0 ? Number.NEGATIVE_INFINITY : this.heapScores[slot * k]!;
  }

  /** Feeds scores[off + j] as the score of item itemStart + j, j < n. Items must ascend across calls. */
  scan(slot: number, scores: Float32Array, off: number, n: number, itemStart: number): void {
    if (this.k === 0) return;
    let threshold = this.threshold(slot);
    for (let j = 0; j < n; j++) {
      const s = scores[off + j]!;
      // Items come in ascending order, so an equal score never beats the heap root (it has a higher index).
      if (!(s > threshold)) {
        if (Number.isNaN(s)) this.nanScore(slot, itemStart + j);
        continue;
      }
      threshold = this.offer(slot, s, itemStart + j);
    }
  }

  /**
   * Offers one item with a score above the slot's threshold (items ascending across calls); returns the new
   * threshold.
   */
  offer(slot: number, s: number, item: number): number {
    const k = this.k;
    if (Number.isNaN(s)) this.nanScore(slot, item);
    if (s === Number.POSITIVE_INFINITY || s === Number.NEGATIVE_INFINITY) return this.threshold(slot);
    if (this.exclude) {
      const exIdx = this.exclude.indices;
      let ex = this.exPos[slot]!;
      const exEnd = this.exEnd[slot]!;
      while (ex < exEnd && exIdx[ex]! < item) ex++;
      this.exPos[slot] = ex;
      if (ex < exEnd && exIdx[ex] === item) return this.threshold(slot);
    }
    const base = slot * k;
    const hs = this.heapScores;
    const hi = this.heapItems;
    let size = this.sizes[slot]!;
    if (size < k) {
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        const ps = hs[base + p]!;
        if (!(s < ps || (s === ps && item > hi[base + p]!))) break;
        hs[base + c] = ps;
        hi[base + c] = hi[base + p]!;
        c = p;
      }
      hs[base + c] = s;
      hi[base + c] = item;
      this.sizes[slot] = size;
    } else if (s > hs[base]!) {
      siftDown(hs, hi, base, size, s, item);
    }
    return this.threshold(slot);
  }

  /** Writes the slot's list best first into items/scores at `off` (the rest: item -1, score 0); returns its length. */
  finish(slot: number, items: Int32Array, scores: Float32Array, off: number): number {
    const k = this.k;
    const base = slot * k;
    const hs = this.heapScores;
    const hi = this.heapItems;
    const size = this.sizes[slot]!;
    for (let end = size; end > 0; end--) {
      items[off + end - 1] = hi[base]!;
      scores[off + end - 1] = hs[base]!;
      if (end > 1) siftDown(hs, hi, base, end - 1, hs[base + end - 1]!, hi[base + end - 1]!);
    }
    for (let j = size; j < k; j++) {
      items[off + j] = -1;
      scores[off + j] = 0;
    }
    return size;
  }

  private nanScore(slot: number, item: number): never {
    throw new ReelabError(`the model scored NaN for user index ${this.users[slot]}, item index ${item}`);
  }
}

/** Min-heap on (score, then higher index = worse) rooted at `base`; places (s, item) starting from the root. */
function siftDown(
  hs: Float32Array,
  hi: Int32Array,
  base: number,
  size: number,
  s: number,
  item: number,
): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    const r = l + 1;
    let m = l;
    if (r < size) {
      const rs = hs[base + r]!;
      const ls = hs[base + l]!;
      if (rs < ls || (rs === ls && hi[base + r]! > hi[base + l]!)) m = r;
    }
    const ms = hs[base + m]!;
    if (!(ms < s || (ms === s && hi[base + m]! > item))) break;
    hs[base + c] = ms;
    hi[base + c] = hi[base + m]!;
    c = m;
  }
  hs[base + c] = s;
  hi[base + c] = item;
}

/**
 * Rank statistics that need every score of a user, not just the top k (computed while the scores stream by):
 * - the 1-based rank of the user's best relevant item among all candidates (same order as top-k: score
 *   descending, ties → lower index; 0 when no relevant item has a finite score), for the untruncated MRR;
 * - the Mann–Whitney pair counts of AUC: over (relevant, non-relevant candidate) pairs, wins + ½ ties.
 * Candidates are the items not excluded with a finite score; relevant items must not be excluded.
 * `relevantScores` gives each relevant item's score (as the scorer computes it) before scanning starts.
 */
export class RankStats {
  private readonly best: Float64Array;
  private readonly bestItem: Int32Array;
  private readonly ahead: Float64Array;
  private readonly wins: Float64Array;
  private readonly negatives: Float64Array;
  private readonly exPos: Int32Array;
  private readonly exEnd: Int32Array;
  private readonly relPos: Int32Array;
  private readonly relEnd: Int32Array;
  private readonly sortedOff: Int32Array;
  private readonly sortedLen: Int32Array;
  private readonly relCount: Int32Array;
  private sorted: Float64Array;

  constructor(
    readonly slots: number,
    private readonly exclude: ItemSets | null,
    private readonly relevant: ItemSets,
  ) {
    this.best = new Float64Array(slots);
    this.bestItem = new Int32Array(slots);
    this.ahead = new Float64Array(slots);
    this.wins = new Float64Array(slots);
    this.negatives = new Float64Array(slots);
    this.exPos = new Int32Array(slots);
    this.exEnd = new Int32Array(slots);
    this.relPos = new Int32Array(slots);
    this.relEnd = new Int32Array(slots);
    this.sortedOff = new Int32Array(slots);
    this.sortedLen = new Int32Array(slots);
    this.relCount = new Int32Array(slots);
    this.sorted = new Float64Array(64);
  }

  /**
   * Starts slot `slot` for `user`; `scoreOf(item)` gives the score of each of the user's relevant items.
   * Slots of a block are reset in order 0, 1, 2, … (they share one buffer of sorted relevant scores).
   */
  reset(slot: number, user: number, scoreOf: (item: number) => number): void {
    if (slot === 0) this.sortedOff[0] = 0;
    const start = this.relevant.indptr[user]!;
    const end = this.relevant.indptr[user + 1]!;
    const off = slot === 0 ? 0 : this.sortedOff[slot - 1]! + this.sortedLen[slot - 1]!;
    if (this.sorted.length < off + (end - start)) {
      const grown = new Float64Array(Math.max(2 * this.sorted.length, off + (end - start)));
      grown.set(this.sorted);
      this.sorted = grown;
    }
    let best = Number.NEGATIVE_INFINITY;
    let bestItem = -1;
    let len = 0;
    for (let p = start; p < end; p++) {
      const item = this.relevant.indices[p]!;
      const s = scoreOf(item);
      if (Number.isNaN(s))
        throw new ReelabError(`the model scored NaN for user index ${user}, item index ${item}`);
      if (!(s > Number.NEGATIVE_INFINITY && s < Number.POSITIVE_INFINITY)) continue;
      this.sorted[off + len++] = s;
      if (s > best) {
        best = s;
        bestItem = item;
      }
    }
    this.sorted.subarray(off, off + len).sort();
    this.sortedOff[slot] = off;
    this.sortedLen[slot] = len;
    this.best[slot] = best;
    this.bestItem[slot] = bestItem;
    this.ahead[slot] = 0;
    this.wins[slot] = 0;
    this.negatives[slot] = 0;
    this.relPos[slot] = start;
    this.relEnd[slot] = end;
    this.relCount[slot] = end - start;
    if (this.exclude) {
      this.exPos[slot] = this.exclude.indptr[user]!;
      this.exEnd[slot] = this.exclude.indptr[user + 1]!;
    }
  }

  scan(slot: number, scores: Float32Array, off: number, n: number, itemStart: number): void {
    const best = this.best[slot]!;
    const bestItem = this.bestItem[slot]!;
    const sOff = this.sortedOff[slot]!;
    const sLen = this.sortedLen[slot]!;
    const sorted = this.sorted;
    const lo = sLen > 0 ? sorted[sOff]! : Number.POSITIVE_INFINITY;
    const hi = sLen > 0 ? sorted[sOff + sLen - 1]! : Number.NEGATIVE_INFINITY;
    const exIdx = this.exclude ? this.exclude.indices : null;
    let ex = this.exPos[slot]!;
    const exEnd = this.exEnd[slot]!;
    const relIdx = this.relevant.indices;
    let rel = this.relPos[slot]!;
    const relEnd = this.relEnd[slot]!;
    let ahead = this.ahead[slot]!;
    let wins = this.wins[slot]!;
    let negatives = this.negatives[slot]!;
    for (let j = 0; j < n; j++) {
      const s = scores[off + j]!;
      if (!(s > Number.NEGATIVE_INFINITY && s < Number.POSITIVE_INFINITY)) continue;
      const item = itemStart + j;
      if (exIdx !== null) {
        while (ex < exEnd && exIdx[ex]! < item) ex++;
        if (ex < exEnd && exIdx[ex] === item) continue;
      }
      if (s > best || (s === best && item < bestItem)) ahead++;
      while (rel < relEnd && relIdx[rel]! < item) rel++;
      if (rel < relEnd && relIdx[rel] === item) continue;
      negatives++;
      if (s < lo) wins += sLen;
      else if (s <= hi) {
        // relevant scores above s count 1, equal ones ½
        let a = 0;
        let b = sLen;
        while (a < b) {
          const m = (a + b) >>> 1;
          if (sorted[sOff + m]! < s) a = m + 1;
          else b = m;
        }
        let c = a;
        let d = sLen;
        while (c < d) {
          const m = (c + d) >>> 1;
          if (sorted[sOff + m]! <= s) c = m + 1;
          else d = m;
        }
        wins += sLen - c + 0.5 * (c - a);
      }
    }
    this.exPos[slot] = ex;
    this.relPos[slot] = rel;
    this.ahead[slot] = ahead;
    this.wins[slot] = wins;
    this.negatives[slot] = negatives;
  }

  /**
   * Rank of the best relevant item (0 when none has a finite score), AUC wins and the number of
   * (relevant, negative) pairs; relevant items with a non-finite score lose every pair.
   */
  finish(slot: number): { bestRank: number; wins: number; pairs: number } {
    return {
      bestRank: this.bestItem[slot]! < 0 ? 0 : this.ahead[slot]! + 1,
      wins: this.wins[slot]!,
      pairs: this.negatives[slot]! * this.relCount[slot]!,
    };
  }
}
