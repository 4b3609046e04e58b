// Address ranges of operations (registers, coils, points): sorted, disjoint, merged, bounded.

/** Ranges kept per address space; past this, the nearest neighbours are merged. */
const MAX_RANGES = 64;

/** Adds [lo, hi] to a sorted list of disjoint ranges, merging overlapping and adjacent ones. */
export function addRange(list: [number, number][], lo: number, hi: number): void {
  // Fast path: polling repeats the same range.
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (r[0] <= lo && hi <= r[1]) return;
  }
  list.push([lo, hi]);
  list.sort((a, b) => a[0] - b[0]);
  let w = 0;
  for (let i = 1; i < list.length; i++) {
    const cur = list[w]!;
    const nx = list[i]!;
    if (nx[0] <= cur[1] + 1) cur[1] = Math.max(cur[1], nx[1]);
    else list[++w] = nx;
  }
  list.length = w + 1;
  while (list.length > MAX_RANGES) {
    let best = 0;
    let bestGap = Infinity;
    for (let i = 0; i + 1 < list.length; i++) {
      const gap = list[i + 1]![0] - list[i]![1];
      if (gap < bestGap) {
        bestGap = gap;
        best = i;
      }
    }
    list[best]![1] = list[best + 1]![1];
    list.splice(best + 1, 1);
  }
}
