/**
 * What a GC run reports: what it looked at, what it deleted and freed, and how long each phase
 * took; printed as a table by `berth gc`, as JSON with `--json`, and logged by scheduled runs.
 */

/** The phases of a run, in order. */
export type Phase = 'mark' | 'tombstone' | 'wait' | 'remark' | 'delete' | 'cleanup';

/** The outcome of one run. */
export interface GcReport {
  dryRun: boolean;
  repositories: number;
  manifests: number;
  blobs: number;
  /** What was deleted (with dryRun: what would be). */
  deleted: { repositories: number; manifests: number; links: number; blobs: number; referrers: number };
  bytesFreed: number;
  /** Candidates that a push referenced again before they were deleted. */
  revived: number;
  /** Milliseconds per phase that ran. */
  phases: Partial<Record<Phase, number>>;
}

/** Measures phases one after another. */
export function phaseTimer(clock: () => number = () => performance.now()) {
  let last = clock();
  const phases: Partial<Record<Phase, number>> = {};
  return {
    end(phase: Phase): void {
      const now = clock();
      phases[phase] = Math.round(now - last);
      last = now;
    },
    phases: () => ({ ...phases }),
  };
}

/** Total milliseconds of a report's phases. */
export function durationOf(report: GcReport): number {
  return Object.values(report.phases).reduce((sum, ms) => sum + (ms ?? 0), 0);
}

/** The report as lines for a terminal. */
export function formatReport(report: GcReport): string {
  const verb = report.dryRun ? 'to delete' : 'deleted';
  const phases = Object.entries(report.phases)
    .map(([phase, ms]) => `${phase} ${formatMs(ms ?? 0)}`)
    .join(', ');
  return [
    `scanned   ${report.repositories} repositories, ${report.manifests} manifests, ${report.blobs} blobs`,
    `${verb.padEnd(9)} ${report.deleted.manifests} untagged manifests, ${report.deleted.blobs} blobs (${formatBytes(report.bytesFreed)}), ${report.deleted.links} layer links, ${report.deleted.referrers} referrers entries, ${report.deleted.repositories} empty repositories`,
    ...(report.dryRun ? [] : [`revived   ${report.revived} (referenced again by a push during the run)`]),
    `took      ${formatMs(durationOf(report))} (${phases})`,
  ].join('\n');
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
