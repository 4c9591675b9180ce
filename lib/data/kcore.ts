import { IdMap } from './id-map';
import { Interactions } from './interactions';

export interface KCoreOptions {
  /** Every kept user has at least this many interactions (≥ 1). */
  users: number;
  /** Every kept item has at least this many interactions (≥ 1). */
  items: number;
  /**
   * Renumber users and items to the kept ones (new id maps). Default false: the id maps stay those of the
   * input, so indices still line up with anything built on them (the movie catalogue); dropped users and items
   * simply have no interactions left.
   */
  compact?: boolean;
}

export interface KCoreResult {
  data: Interactions;
  /** Removal rounds until nothing changed. */
  rounds: number;
  /** Users, items and interactions left, and removed. */
  kept: { users: number; items: number; interactions: number };
  removed: { users: number; items: number; interactions: number };
}

/**
 * The (users, items)-core of the interaction graph: repeatedly drops the interactions of users with fewer than
 * `users` interactions and of items with fewer than `items`, until every remaining user and item meets its
 * threshold (the usual "k-core filtering" of top-N papers, e.g. 5-core). The result is unique (the largest such
 * subgraph) and does not depend on the order of removal. Interactions are counted as rows (a repeated
 * (user, item) pair counts twice).
 */
export function filterKCore(data: Interactions, options: KCoreOptions): KCoreResult {
  const minUser = options.users;
  const minItem = options.items;
  for (const [what, v] of [
    ['users', minUser],
    ['items', minItem],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1))
      throw new RangeError(`k-core: ${what} must be a positive integer, got ${v}`);
  const n = data.size;
  const users = data.users;
  const items = data.items;
  const alive = new Uint8Array(n).fill(1);
  const uc = new Int32Array(data.nUsers);
  const ic = new Int32Array(data.nItems);
  for (let r = 0; r < n; r++) {
    uc[users[r]!]!++;
    ic[items[r]!]!++;
  }
  let rounds = 0;
  for (;;) {
    // One round: every row whose user or item is below its threshold goes, counts are then updated.
    let changed = false;
    const ucNext = uc.slice();
    const icNext = ic.slice();
    for (let r = 0; r < n; r++) {
      if (!alive[r]) continue;
      const u = users[r]!;
      const i = items[r]!;
      if (uc[u]! < minUser || ic[i]! < minItem) {
        alive[r] = 0;
        ucNext[u]!--;
        icNext[i]!--;
        changed = true;
      }
    }
    if (!changed) break;
    rounds++;
    uc.set(ucNext);
    ic.set(icNext);
  }
  let keptRows = 0;
  let keptUsers = 0;
  let keptItems = 0;
  for (let r = 0; r < n; r++) keptRows += alive[r]!;
  for (let u = 0; u < uc.length; u++) if (uc[u]! > 0) keptUsers++;
  for (let i = 0; i < ic.length; i++) if (ic[i]! > 0) keptItems++;
  let usersBefore = 0;
  let itemsBefore = 0;
  const ucAll = new Int32Array(data.nUsers);
  const icAll = new Int32Array(data.nItems);
  for (let r = 0; r < n; r++) {
    ucAll[users[r]!] = 1;
    icAll[items[r]!] = 1;
  }
  for (let u = 0; u < ucAll.length; u++) usersBefore += ucAll[u]!;
  for (let i = 0; i < icAll.length; i++) itemsBefore += icAll[i]!;
  const source = `${data.source} [kcore ${minUser}/${minItem}]`;
  let out = data.filter(alive, source);
  if (options.compact) out = compactIds(out, uc, ic);
  return {
    data: out,
    rounds,
    kept: { users: keptUsers, items: keptItems, interactions: keptRows },
    removed: {
      users: usersBefore - keptUsers,
      items: itemsBefore - keptItems,
      interactions: n - keptRows,
    },
  };
}

/** The same rows over id maps of the users and items that still have interactions. */
function compactIds(data: Interactions, uc: Int32Array, ic: Int32Array): Interactions {
  const renumber = (counts: Int32Array, ids: IdMap) => {
    const to = new Int32Array(counts.length).fill(-1);
    const kept: number[] = [];
    for (let k = 0; k < counts.length; k++)
      if (counts[k]! > 0) {
        to[k] = kept.length;
        kept.push(ids.ids[k]!);
      }
    return { to, map: IdMap.fromSorted(Int32Array.from(kept)) };
  };
  const u = renumber(uc, data.userIds);
  const i = renumber(ic, data.itemIds);
  return new Interactions({
    users: Int32Array.from(data.users, (x) => u.to[x]!),
    items: Int32Array.from(data.items, (x) => i.to[x]!),
    ratings: data.ratings,
    timestamps: data.timestamps,
    userIds: u.map,
    itemIds: i.map,
    source: data.source,
  });
}
