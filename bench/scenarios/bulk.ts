/** Shared by the bulk scenarios: how many runs to take the median of, and running them. */
import { median } from '../stats.js';
import type { Measurement } from './types.js';

/** Each bulk scenario runs this many times and reports the median. */
export const BULK_RUNS = 3;

/** Runs `once(run)` BULK_RUNS times in sequence; reports the median of the returned MB/s. */
export async function medianOfRuns(
  log: (message: string) => void,
  once: (run: number) => Promise<number>,
): Promise<Measurement> {
  const samples: number[] = [];
  for (let run = 0; run < BULK_RUNS; run++) {
    const rate = await once(run);
    log(`  run ${run + 1}/${BULK_RUNS}: ${rate.toFixed(1)} MB/s`);
    samples.push(rate);
  }
  return { value: median(samples), samples };
}
