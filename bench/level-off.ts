/**
 * Whether a server's memory stopped growing during a soak: the judgement on the RSS series,
 * kept apart from the load so it can be checked on made-up series.
 */

/** One reading of the server's RSS. */
export interface RssPoint {
  elapsedSeconds: number;
  rssMiB: number;
}

/** What the series says. */
export interface LevelOffVerdict {
  maxMiB: number;
  lastMiB: number;
  /**
   * Growth over the last half of the run, from a least-squares line through its samples, so
   * the saw-tooth of garbage collection does not count as growth; NaN with fewer than two.
   */
  growthMiB: number;
  /** The growth is under the tolerance. */
  levelledOff: boolean;
  /** The maximum stayed under the limit. */
  withinLimit: boolean;
}

/** Thresholds of the judgement. */
export interface LevelOffLimits {
  /** Largest growth over the last half that still counts as level. */
  toleranceMiB: number;
  /** RSS the server must stay below throughout. */
  limitMiB: number;
}

/** The slope of the least-squares line through `points`, in MiB per second. */
function fittedSlope(points: readonly RssPoint[]): number {
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.elapsedSeconds, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.rssMiB, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.elapsedSeconds - meanX) * (p.rssMiB - meanY);
    variance += (p.elapsedSeconds - meanX) ** 2;
  }
  return variance === 0 ? Number.NaN : covariance / variance;
}

/** Judges `series` (evenly spaced readings in time order, the first at the start) against `limits`. */
export function judgeLevelOff(series: readonly RssPoint[], limits: LevelOffLimits): LevelOffVerdict {
  const last = series.at(-1);
  if (!last) throw new Error('judging an empty RSS series');
  const maxMiB = Math.max(...series.map((p) => p.rssMiB));
  // Split by index, not by time: the readings are evenly spaced, and the middle one would
  // otherwise fall on either side of half the elapsed time by a few milliseconds.
  const lastHalf = series.slice(Math.floor((series.length - 1) / 2));
  const from = lastHalf[0] as RssPoint;
  const growthMiB =
    lastHalf.length < 2 ? Number.NaN : fittedSlope(lastHalf) * (last.elapsedSeconds - from.elapsedSeconds);
  return {
    maxMiB,
    lastMiB: last.rssMiB,
    growthMiB,
    levelledOff: growthMiB < limits.toleranceMiB,
    withinLimit: maxMiB < limits.limitMiB,
  };
}
