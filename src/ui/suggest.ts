/** "Did you mean" for misspelled options and commands: the closest known name by edit distance. */

/** Levenshtein distance (insert, delete, substitute; each costs 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The known name closest to `wanted`, when it is close enough to be a typo (or `wanted` is a prefix of it). */
export function closest(wanted: string, known: Iterable<string>): string | undefined {
  const w = wanted.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase());
    const limit = Math.max(1, Math.min(3, Math.floor(k.length / 3)));
    const score = k.startsWith(w) && w.length >= 3 ? 0.5 : d <= limit ? d : Infinity;
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best;
}
