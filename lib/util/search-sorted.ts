/** Index of `value` in the ascending part `sorted[from .. to)`, or -1 (binary search). */
export function searchSorted(
  sorted: ArrayLike<number>,
  value: number,
  from = 0,
  to: number = sorted.length,
): number {
  let lo = from;
  let hi = to - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
