/**
 * "Did you mean ...?" for names people type: the candidate closest to a mistyped word by edit
 * distance, if any is close enough to be the likely intent.
 */

/** The candidate nearest to `word` (case-insensitive) within `maxDistance` edits, if any. */
export function nearest(word: string, candidates: Iterable<string>, maxDistance = 3): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean NAME?)` for the nearest of `candidates` within `maxDistance` edits, else ''. */
export function didYouMean(word: string, candidates: Iterable<string>, maxDistance = 3): string {
  const guess = nearest(word, candidates, maxDistance);
  return guess ? ` (did you mean ${guess}?)` : '';
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
