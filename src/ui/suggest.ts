/** "Did you mean" for misspelled options and commands: the closest known name by edit distance. */

/** Edit distance: insert, delete, substitute, and swapping two neighbours (`jbos` -> `jobs`), each costs 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
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
