import { DataError } from '../util/errors';
import { IdMap } from './id-map';
import { Interactions, rowPointers } from './interactions';
import type { RawRatings } from './parse-ratings';

export interface BuildOptions {
  /** Use these maps instead of deriving them (e.g. a test file over its full dataset's ids). */
  userIds?: IdMap;
  itemIds?: IdMap;
  /** What a row with an unknown id is called in the error (when maps are given). */
  unknownContext?: string;
}

/**
 * Turns raw parsed columns into Interactions: external ids → dense indices (in place, the raw arrays are
 * consumed) and a check that no (user, item) pair occurs twice, naming both lines when one does.
 */
export function interactionsFromRaw(raw: RawRatings, options: BuildOptions = {}): Interactions {
  const userIds = options.userIds ?? idMapOf(raw.users, raw.maxUser);
  const itemIds = options.itemIds ?? idMapOf(raw.items, raw.maxItem);
  remapInPlace(raw.users, userIds, raw, 'user', options.unknownContext);
  remapInPlace(raw.items, itemIds, raw, 'movie', options.unknownContext);
  // Rows grouped by user (GroupLens' CSV order) keep only the row pointers: the users column is derived on use.
  const userIndptr = groupedIndptr(raw.users, userIds.size);
  const interactions = new Interactions({
    ...(userIndptr ? { userIndptr } : { users: raw.users }),
    items: raw.items,
    ratings: raw.ratings,
    timestamps: raw.timestamps,
    userIds,
    itemIds,
    source: raw.file,
  });
  assertNoDuplicatePairs(interactions, raw.firstLine);
  return interactions;
}

/** Row pointers of a column of non-decreasing indices in 0..n-1, or null when it is not sorted. */
function groupedIndptr(users: Int32Array, n: number): Int32Array | null {
  for (let k = 1; k < users.length; k++) if (users[k]! < users[k - 1]!) return null;
  return rowPointers(users, n);
}

/** Distinct ids ascending: a presence table when the largest id is known and moderate, else a sort. */
export function idMapOf(ids: Int32Array, maxId?: number): IdMap {
  if (maxId === undefined || maxId >= 1 << 26) return IdMap.fromIds(ids);
  const present = new Uint8Array(maxId + 1);
  for (let k = 0; k < ids.length; k++) {
    const v = ids[k]!;
    if (v < 0 || v > maxId) return IdMap.fromIds(ids);
    present[v] = 1;
  }
  let count = 0;
  for (let v = 0; v <= maxId; v++) count += present[v]!;
  const out = new Int32Array(count);
  count = 0;
  for (let v = 0; v <= maxId; v++) if (present[v]) out[count++] = v;
  return IdMap.fromSorted(out);
}

function remapInPlace(
  column: Int32Array,
  map: IdMap,
  raw: RawRatings,
  what: string,
  context: string | undefined,
): void {
  for (let i = 0; i < column.length; i++) {
    const index = map.index(column[i]!);
    if (index < 0) {
      const where = context ? ` (not in ${context})` : '';
      throw new DataError(raw.file, raw.firstLine + i, `unknown ${what} id ${column[i]}${where}`);
    }
    column[i] = index;
  }
}

/** Throws a DataError naming the first duplicated (user, item) pair and the lines where it appears. */
export function assertNoDuplicatePairs(interactions: Interactions, firstLine: number): void {
  const { indptr, indices, order } = interactions.csr();
  for (let u = 0; u < interactions.nUsers; u++) {
    for (let k = indptr[u]! + 1; k < indptr[u + 1]!; k++) {
      if (indices[k] === indices[k - 1]) {
        const a = order ? order[k - 1]! : k - 1;
        const b = order ? order[k]! : k;
        const [first, second] = a < b ? [a, b] : [b, a];
        throw new DataError(
          interactions.source,
          firstLine + second,
          `duplicate rating of movie ${interactions.itemIds.id(indices[k]!)} by user ${interactions.userIds.id(u)} ` +
            `(first rated on line ${firstLine + first})`,
        );
      }
    }
  }
}
