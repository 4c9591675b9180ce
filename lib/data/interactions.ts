import { searchSorted } from '../util/search-sorted';
import type { IdMap } from './id-map';

/** Compressed sparse rows: row r's entries are indices/values[indptr[r] .. indptr[r+1]), columns ascending. */
export interface CompressedRows {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  /** position in this layout → row of the original (COO) arrays; null when they coincide. */
  readonly order: Int32Array | null;
}

export interface InteractionsInit {
  /** User index of each row. May be omitted when `userIndptr` is given. */
  users?: Int32Array;
  /**
   * Rows grouped by user, users ascending: user u's rows are userIndptr[u] .. userIndptr[u+1] (nUsers + 1
   * entries). The users column is then derived from it on first use instead of being stored: 4 bytes per rating
   * less for data loaded in GroupLens' order, and the by-user (CSR) layout needs no copy.
   */
  userIndptr?: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  timestamps?: Int32Array | null;
  userIds: IdMap;
  itemIds: IdMap;
  /** Where the ratings came from (file path or generator), used in error messages and run tags. */
  source?: string;
}

/**
 * A set of (user, item, rating, timestamp) events on dense indices. Coordinate arrays keep the source order;
 * the by-user (CSR) and by-item (CSC) layouts are built on first use and cached. Train/test parts of a split
 * share the same id maps, so index u means the same user in both. Data grouped by user (as GroupLens ships its
 * CSV files) may be given by its row pointers (`userIndptr`); `users` is then materialised on first access.
 */
export class Interactions {
  /**
   * User index of each row (derived from the row pointers on first use when built from them). An own,
   * enumerable accessor, so that `{ ...interactions }` still carries the column.
   */
  declare readonly users: Int32Array;
  readonly items: Int32Array;
  readonly ratings: Float32Array;
  readonly timestamps: Int32Array | null;
  readonly userIds: IdMap;
  readonly itemIds: IdMap;
  readonly source: string;
  private usersColumn: Int32Array | null;
  private readonly userIndptr: Int32Array | null;
  private byUser: CompressedRows | null = null;
  private byItem: CompressedRows | null = null;

  constructor(init: InteractionsInit) {
    const n = init.items.length;
    if (
      (init.users && init.users.length !== n) ||
      init.ratings.length !== n ||
      (init.timestamps && init.timestamps.length !== n)
    ) {
      throw new RangeError('Interactions: users, items, ratings and timestamps must have the same length');
    }
    if (!init.users && !init.userIndptr)
      throw new RangeError('Interactions: give the users column or the by-user row pointers (userIndptr)');
    if (init.userIndptr) checkIndptr(init.userIndptr, init.userIds.size, n);
    this.usersColumn = init.users ?? null;
    this.userIndptr = init.userIndptr ?? null;
    Object.defineProperty(this, 'users', Interactions.usersProperty);
    this.items = init.items;
    this.ratings = init.ratings;
    this.timestamps = init.timestamps ?? null;
    this.userIds = init.userIds;
    this.itemIds = init.itemIds;
    this.source = init.source ?? 'memory';
  }

  /**
   * One descriptor with one getter for every instance: V8 then gives all instances the same hidden class and can
   * inline the getter (a closure per instance made every `data.users` load megamorphic: ~60 ns in a hot loop).
   */
  private static readonly usersProperty: PropertyDescriptor = {
    enumerable: true,
    get(this: Interactions): Int32Array {
      return this.usersColumnOrDerived();
    },
  };

  private usersColumnOrDerived(): Int32Array {
    if (!this.usersColumn) {
      const indptr = this.userIndptr!;
      const users = new Int32Array(this.items.length);
      for (let u = 0; u + 1 < indptr.length; u++) users.fill(u, indptr[u]!, indptr[u + 1]!);
      this.usersColumn = users;
    }
    return this.usersColumn;
  }

  get nUsers(): number {
    return this.userIds.size;
  }

  get nItems(): number {
    return this.itemIds.size;
  }

  /** Number of stored interactions. */
  get size(): number {
    return this.items.length;
  }

  /** Fraction of the user × item matrix that is filled. */
  get density(): number {
    return this.nUsers === 0 || this.nItems === 0 ? 0 : this.size / (this.nUsers * this.nItems);
  }

  /** Rows grouped by user, items ascending within a user. */
  csr(): CompressedRows {
    this.byUser ??=
      (this.userIndptr && groupedCsr(this.userIndptr, this.items, this.ratings)) ??
      compress(this.users, this.items, this.ratings, this.nUsers, this.nItems);
    return this.byUser;
  }

  /** Rows grouped by item, users ascending within an item. */
  csc(): CompressedRows {
    this.byItem ??= compress(this.items, this.users, this.ratings, this.nItems, this.nUsers);
    return this.byItem;
  }

  mean(): number {
    let s = 0;
    for (let i = 0; i < this.ratings.length; i++) s += this.ratings[i]!;
    return this.ratings.length === 0 ? 0 : s / this.ratings.length;
  }

  /** Number of interactions of each user. */
  userCounts(): Int32Array {
    const indptr = this.userIndptr ?? this.byUser?.indptr;
    if (!indptr) return countOf(this.users, this.nUsers);
    const counts = new Int32Array(this.nUsers);
    for (let u = 0; u < counts.length; u++) counts[u] = indptr[u + 1]! - indptr[u]!;
    return counts;
  }

  /** Number of interactions of each item. */
  itemCounts(): Int32Array {
    return countOf(this.items, this.nItems);
  }

  /** The rows at the given positions (in that order), over the same id maps. */
  select(rows: Int32Array, source = this.source): Interactions {
    const n = rows.length;
    const users = new Int32Array(n);
    const items = new Int32Array(n);
    const ratings = new Float32Array(n);
    const timestamps = this.timestamps ? new Int32Array(n) : null;
    for (let k = 0; k < n; k++) {
      const r = rows[k]!;
      users[k] = this.users[r]!;
      items[k] = this.items[r]!;
      ratings[k] = this.ratings[r]!;
      if (timestamps) timestamps[k] = this.timestamps![r]!;
    }
    return new Interactions({
      users,
      items,
      ratings,
      timestamps,
      userIds: this.userIds,
      itemIds: this.itemIds,
      source,
    });
  }

  /** Rows where mask[row] is non-zero. */
  filter(mask: Uint8Array, source = this.source): Interactions {
    let n = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
    const rows = new Int32Array(n);
    n = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i]) rows[n++] = i;
    return this.select(rows, source);
  }

  /** Rating of (user, item) or NaN when absent; binary search in the CSR row. */
  rating(user: number, item: number): number {
    const { indptr, indices, values } = this.csr();
    const at = searchSorted(indices, item, indptr[user]!, indptr[user + 1]!);
    return at < 0 ? Number.NaN : values[at]!;
  }
}

function checkIndptr(indptr: Int32Array, nUsers: number, n: number): void {
  if (indptr.length !== nUsers + 1 || indptr[0] !== 0 || indptr[nUsers] !== n)
    throw new RangeError(`Interactions: userIndptr must have ${nUsers + 1} entries from 0 to ${n}`);
  for (let u = 0; u < nUsers; u++)
    if (indptr[u + 1]! < indptr[u]!) throw new RangeError(`Interactions: userIndptr decreases at user ${u}`);
}

/** The CSR of rows already grouped by user, sharing the arrays, when items ascend within every user; else null. */
function groupedCsr(indptr: Int32Array, items: Int32Array, values: Float32Array): CompressedRows | null {
  for (let u = 0; u + 1 < indptr.length; u++)
    for (let k = indptr[u]! + 1; k < indptr[u + 1]!; k++) if (items[k]! <= items[k - 1]!) return null;
  return { indptr, indices: items, values, order: null };
}

/** Row pointers of the rows keyed by `rows` (indices in 0..nRows-1): row r spans indptr[r] .. indptr[r+1]. */
export function rowPointers(rows: Int32Array, nRows: number): Int32Array {
  const indptr = new Int32Array(nRows + 1);
  for (let i = 0; i < rows.length; i++) indptr[rows[i]! + 1]!++;
  for (let r = 0; r < nRows; r++) indptr[r + 1]! += indptr[r]!;
  return indptr;
}

function countOf(keys: Int32Array, n: number): Int32Array {
  const counts = new Int32Array(n);
  for (let i = 0; i < keys.length; i++) counts[keys[i]!]!++;
  return counts;
}

/** Groups by `rows`, then orders by `cols` within a row; shares the input arrays when already in that order. */
function compress(
  rows: Int32Array,
  cols: Int32Array,
  values: Float32Array,
  nRows: number,
  nCols: number,
): CompressedRows {
  const n = rows.length;
  const indptr = rowPointers(rows, nRows);
  let sorted = true;
  for (let i = 1; i < n && sorted; i++)
    if (rows[i]! < rows[i - 1]! || (rows[i] === rows[i - 1] && cols[i]! <= cols[i - 1]!)) sorted = false;
  if (sorted) return { indptr, indices: cols, values, order: null };

  // Two stable counting sorts (by column, then by row) give row-major order with ascending columns.
  const byCol = stableCountingOrder(cols, nCols, null);
  const order = stableCountingOrder(rows, nRows, byCol);
  const indices = new Int32Array(n);
  const outValues = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const src = order[k]!;
    indices[k] = cols[src]!;
    outValues[k] = values[src]!;
  }
  return { indptr, indices, values: outValues, order };
}

function stableCountingOrder(keys: Int32Array, nKeys: number, within: Int32Array | null): Int32Array {
  const n = keys.length;
  const start = new Int32Array(nKeys + 1);
  for (let i = 0; i < n; i++) start[keys[i]! + 1]!++;
  for (let k = 0; k < nKeys; k++) start[k + 1]! += start[k]!;
  const out = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = within ? within[j]! : j;
    out[start[keys[i]!]!++] = i;
  }
  return out;
}
