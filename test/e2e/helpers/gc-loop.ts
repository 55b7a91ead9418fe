/**
 * `berth gc --json` run back to back against a store while servers serve it, as a CronJob
 * with no pause would, each run's report summed. Between runs an optional callback looks at
 * the store (the GC race test checks that nothing pushed was lost).
 */
import type { GcReport } from '../../../src/gc/report.js';
import { BERTH_BIN, CLI_ENV } from './berth-process.js';
import { run } from './run.js';

/** The sum of the runs' reports. */
export interface GcTally {
  runs: number;
  /** Runs that found another holder of the GC lease. */
  skipped: number;
  deletedBlobs: number;
  deletedLinks: number;
  bytesFreed: number;
  revived: number;
  /** Runs that exited non-zero or printed no report, with their output. */
  failures: string[];
}

/** A loop of GC runs. */
export interface GcLoop {
  tally: GcTally;
  /** Lets the current run (and its callback) finish, starts no other; resolves with the tally. */
  stop(): Promise<GcTally>;
}

/**
 * Starts running `berth gc --json` with `env` (the store's BERTH_* variables) until stopped;
 * `afterRun` is awaited after each run that collected.
 */
export function startGcLoop(
  env: Record<string, string>,
  afterRun?: (report: GcReport) => Promise<void>,
): GcLoop {
  const tally: GcTally = {
    runs: 0,
    skipped: 0,
    deletedBlobs: 0,
    deletedLinks: 0,
    bytesFreed: 0,
    revived: 0,
    failures: [],
  };
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const result = await run(BERTH_BIN, ['gc', '--json'], { env: { ...CLI_ENV, ...env } });
      const line = result.stdout.trim().split('\n').at(-1) ?? '';
      const parsed = parseReport(line);
      if (result.code !== 0 || !parsed) {
        // A run that fails will fail again: stop, and let the test report it.
        tally.failures.push(`exit ${result.code}: ${result.stdout}${result.stderr}`);
        break;
      }
      if ('skipped' in parsed) {
        tally.skipped += 1;
        continue;
      }
      add(tally, parsed);
      await afterRun?.(parsed);
    }
  })();
  // Reported by stop(); kept from being an unhandled rejection meanwhile.
  loop.catch(() => undefined);
  return {
    tally,
    async stop() {
      stopping = true;
      await loop;
      return tally;
    },
  };
}

function add(tally: GcTally, report: GcReport): void {
  tally.runs += 1;
  tally.deletedBlobs += report.deleted.blobs;
  tally.deletedLinks += report.deleted.links;
  tally.bytesFreed += report.bytesFreed;
  tally.revived += report.revived;
}

function parseReport(line: string): GcReport | { skipped: unknown } | undefined {
  try {
    const value = JSON.parse(line) as Partial<GcReport> & { skipped?: unknown };
    if (value.skipped !== undefined) return { skipped: value.skipped };
    return value.deleted && typeof value.revived === 'number' ? (value as GcReport) : undefined;
  } catch {
    return undefined;
  }
}
