/** Small statistics helpers: medians, and a latency recorder that reports p50 and p99. */

/** The median of `values` (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** p50 and p99 of a set of latencies, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

/** Collects latencies (ms) into a growing typed array, so recording allocates almost nothing. */
export interface LatencyRecorder {
  record(ms: number): void;
  summary(): LatencySummary;
}

/** Creates a LatencyRecorder with room for `capacity` samples before it first grows. */
export function createLatencyRecorder(capacity = 1 << 16): LatencyRecorder {
  let samples = new Float64Array(capacity);
  let count = 0;
  return {
    record(ms) {
      if (count === samples.length) {
        const grown = new Float64Array(samples.length * 2);
        grown.set(samples);
        samples = grown;
      }
      samples[count++] = ms;
    },
    summary() {
      if (count === 0) throw new Error('no latency samples were recorded');
      const sorted = samples.slice(0, count).sort();
      return { count, p50Ms: nearestRank(sorted, 0.5), p99Ms: nearestRank(sorted, 0.99) };
    },
  };
}

/** The nearest-rank percentile `p` (0..1) of ascending `sorted`. */
function nearestRank(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] as number;
}

/** Throughput in MB/s (1 MB = 1e6 bytes) of `bytes` moved in `ms` milliseconds. */
export function megabytesPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}
