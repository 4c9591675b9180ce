import { ConfigError } from '../util/errors';
import { type Interactions, rowPointers } from './interactions';

/**
 * Row order grouped by user, each user's rows by ascending timestamp, ties by ascending item index (so the
 * order never depends on the order of lines in the file). Returns the row permutation and user offsets.
 * Three stable LSD passes on typed arrays: item, timestamp (two 16-bit digits), user.
 */
export function userTimeOrder(
  data: Interactions,
  what = 'this split',
): { order: Int32Array; indptr: Int32Array } {
  const ts = data.timestamps;
  if (!ts) throw new ConfigError('split', `${what} needs timestamps, and ${data.source} has none`);
  const n = data.size;
  let minTs = 0;
  for (let i = 0; i < n; i++) if (i === 0 || ts[i]! < minTs) minTs = ts[i]!;
  let order = countingPass(data.items, data.nItems, null, n);
  const low = new Int32Array(n);
  const high = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = ts[i]! - minTs; // fits in uint32 since both are int32
    low[i] = t & 0xffff;
    high[i] = t >>> 16;
  }
  order = countingPass(low, 65536, order, n);
  order = countingPass(high, 65536, order, n);
  order = countingPass(data.users, data.nUsers, order, n);
  return { order, indptr: rowPointers(data.users, data.nUsers) };
}

/** Stable counting sort of rows (in the order `within`, or 0..n-1) by `keys[row]` in 0..nKeys-1. */
function countingPass(keys: Int32Array, nKeys: number, within: Int32Array | null, n: number): Int32Array {
  const start = new Int32Array(nKeys + 1);
  for (let i = 0; i < n; i++) start[keys[i]! + 1]!++;
  for (let k = 0; k < nKeys; k++) start[k + 1]! += start[k]!;
  const out = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const row = within ? within[j]! : j;
    out[start[keys[row]!]!++] = row;
  }
  return out;
}
