/** The k best items of one user, best first. */
export interface TopK {
  items: Int32Array;
  scores: Float32Array;
}

/**
 * Top-k of `scores` by partial selection with a size-k min-heap: O(n log k). Ties are broken by the lower
 * item index, so the result never depends on how work was split. Items where `excluded[item] === stamp`
 * (when given) and non-finite scores are skipped.
 */
export function topK(
  scores: Float32Array,
  k: number,
  excluded?: Int32Array,
  stamp = 1,
  into?: { items: Int32Array; scores: Float32Array },
): TopK {
  const n = scores.length;
  const heapItems = into?.items ?? new Int32Array(k);
  const heapScores = into?.scores ?? new Float32Array(k);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (!(s > -Infinity && s < Infinity)) continue;
    if (excluded && excluded[i] === stamp) continue;
    if (size < k) {
      // sift up
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(s, i, heapScores[p]!, heapItems[p]!)) break;
        heapScores[c] = heapScores[p]!;
        heapItems[c] = heapItems[p]!;
        c = p;
      }
      heapScores[c] = s;
      heapItems[c] = i;
    } else if (k > 0 && worse(heapScores[0]!, heapItems[0]!, s, i)) {
      siftDown(heapScores, heapItems, size, s, i);
    }
  }
  // Heap-sort the survivors into best-first order.
  const outItems = new Int32Array(size);
  const outScores = new Float32Array(size);
  for (let end = size; end > 0; end--) {
    const rootS = heapScores[0]!;
    const rootI = heapItems[0]!;
    outScores[end - 1] = rootS;
    outItems[end - 1] = rootI;
    if (end > 1) siftDown(heapScores, heapItems, end - 1, heapScores[end - 1]!, heapItems[end - 1]!);
  }
  return { items: outItems, scores: outScores };
}

/** True when (sa, ia) ranks below (sb, ib): lower score, or equal score and higher index. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

function siftDown(hs: Float32Array, hi: Int32Array, size: number, s: number, item: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    const r = l + 1;
    let m = l;
    if (r < size && worse(hs[r]!, hi[r]!, hs[l]!, hi[l]!)) m = r;
    if (!worse(hs[m]!, hi[m]!, s, item)) break;
    hs[c] = hs[m]!;
    hi[c] = hi[m]!;
    c = m;
  }
  hs[c] = s;
  hi[c] = item;
}
