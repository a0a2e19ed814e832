/** Metric series arithmetic shared by CloudWatch and the twin's log files (no imports: the twin loads it without the AWS SDK). */

/**
 * The periods of a series: from the period holding `startMs` (periods are aligned to multiples of
 * their length since the epoch, as CloudWatch aligns them) to the one holding `endMs`.
 */
export function periodStarts(startMs: number, endMs: number, periodSeconds: number): number[] {
  const periodMs = periodSeconds * 1000;
  const first = Math.floor(startMs / periodMs) * periodMs;
  const starts: number[] = [];
  for (let t = first; t < endMs || t === first; t += periodMs) starts.push(t);
  return starts;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
