/**
 * "Did you mean …?" for misspelt config keys. Plain Levenshtein distance: the candidate lists are a few
 * dozen keys, so the quadratic cost does not matter and a dependency would not pay for itself.
 */

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known key closest to `key`, if it is close enough to be a plausible typo: at most a third of the key's
 * length (min 2) edits away. Case, `_` versus `-` and word order inside the key are treated as near misses
 * because they are the usual mistakes (`sourceId`, `source_id`, `id-source`).
 */
export function closest(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_\s]/g, '-');
  const sorted = (s: string) => norm(s).split('-').sort().join('-');
  const camel = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2');
  const k = norm(camel(key));
  let best: string | undefined;
  let bestDist = Infinity;
  for (const cand of known) {
    const c = norm(cand);
    const d = c === k || sorted(cand) === sorted(camel(key)) ? 0 : editDistance(k, c);
    if (d < bestDist) {
      best = cand;
      bestDist = d;
    }
  }
  if (bestDist <= Math.max(2, Math.floor(key.length / 3))) return best;
  // A truncated name (`truncate` for `truncate table`, `route` for `route-rules`) is a near miss too.
  return k.length >= 3 ? known.find((c) => norm(c).startsWith(k + '-') || norm(c).startsWith(k + ' ')) : undefined;
}
