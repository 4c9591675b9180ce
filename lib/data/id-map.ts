/**
 * Translates external ids (MovieLens userId / movieId) to dense internal indices 0..size-1 and back.
 * Indices follow ascending external id, so the mapping is the same whatever order the file lists rows in.
 */
export class IdMap {
  /** index → external id, ascending. */
  readonly ids: Int32Array;
  private readonly direct: Int32Array | null;
  private readonly sparse: Map<number, number> | null;

  private constructor(ids: Int32Array) {
    this.ids = ids;
    const max = ids.length === 0 ? -1 : ids[ids.length - 1]!;
    const min = ids.length === 0 ? 0 : ids[0]!;
    // A direct table is fastest; only fall back to a Map when ids are huge or negative.
    if (min >= 0 && max < Math.max(1 << 20, ids.length * 8)) {
      const direct = new Int32Array(max + 1).fill(-1);
      for (let i = 0; i < ids.length; i++) direct[ids[i]!] = i;
      this.direct = direct;
      this.sparse = null;
    } else {
      const sparse = new Map<number, number>();
      for (let i = 0; i < ids.length; i++) sparse.set(ids[i]!, i);
      this.direct = null;
      this.sparse = sparse;
    }
  }

  /** Builds a map from ids that are already sorted ascending and distinct. */
  static fromSorted(ids: Int32Array): IdMap {
    for (let i = 1; i < ids.length; i++) {
      if (ids[i]! <= ids[i - 1]!) throw new RangeError('IdMap.fromSorted: ids must be strictly ascending');
    }
    return new IdMap(ids);
  }

  /** Builds a map from any list of ids (duplicates allowed). */
  static fromIds(values: ArrayLike<number>): IdMap {
    const sorted = Int32Array.from(values).sort();
    let n = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i]!;
    }
    return new IdMap(sorted.slice(0, n));
  }

  get size(): number {
    return this.ids.length;
  }

  /** Internal index of an external id, or -1 when the id is unknown. */
  index(id: number): number {
    if (this.direct) return id >= 0 && id < this.direct.length ? this.direct[id]! : -1;
    return this.sparse!.get(id) ?? -1;
  }

  has(id: number): boolean {
    return this.index(id) >= 0;
  }

  /** External id of an internal index. */
  id(index: number): number {
    const v = this.ids[index];
    if (v === undefined) throw new RangeError(`index ${index} is outside 0..${this.ids.length - 1}`);
    return v;
  }

  /** Maps external ids to indices in place semantics-free: returns a new array, -1 for unknown ids. */
  indicesOf(ids: ArrayLike<number>): Int32Array {
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = this.index(ids[i]!);
    return out;
  }
}
