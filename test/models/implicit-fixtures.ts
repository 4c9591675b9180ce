import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';
import { Rng } from '../../lib/util/rng';

/** A small random implicit dataset with two planted taste groups. */
export function planted(users = 60, items = 40, perUser = 8, seed = 7): Interactions {
  const rng = new Rng(seed);
  const us: number[] = [];
  const is: number[] = [];
  const rs: number[] = [];
  for (let u = 0; u < users; u++) {
    const group = u % 2;
    const chosen = new Set<number>();
    while (chosen.size < perUser) {
      const inGroup = rng.next() < 0.85;
      const half = Math.floor(items / 2);
      const i = (inGroup === (group === 0) ? 0 : half) + rng.int(half);
      chosen.add(i);
    }
    for (const i of [...chosen].sort((a, b) => a - b)) {
      us.push(u);
      is.push(i);
      rs.push(1 + rng.int(5));
    }
  }
  const ids = (n: number) => IdMap.fromSorted(Int32Array.from({ length: n }, (_, i) => i + 1));
  return new Interactions({
    users: Int32Array.from(us),
    items: Int32Array.from(is),
    ratings: Float32Array.from(rs),
    userIds: ids(users),
    itemIds: ids(items),
  });
}
