/** What `berth fsck` finds and reports: broken items, leftovers, and what a repair did. */
import type { Leftover } from '../blobstore/driver.js';

/** A broken item of the registry. */
export interface Finding {
  kind: 'blob' | 'manifest' | 'tag' | 'referrer';
  /** The item as users name it: a digest, `repo@digest`, `repo:tag`, `repo@subject <- referrer`. */
  item: string;
  /** The storage path a repair quarantines. */
  path: string;
  /** What is wrong, in a sentence. */
  problem: string;
  /** What the repair did; absent without `--repair`. */
  action?: string;
}

/** A leftover of an interrupted write, old enough to sweep. */
export interface LeftoverFinding {
  kind: Leftover['kind'];
  path: string;
  size: number;
  modTime: string;
  action?: string;
}

/** How much was checked. */
export interface Checked {
  blobs: number;
  bytes: number;
  repositories: number;
  manifests: number;
  tags: number;
  referrers: number;
}

/** The outcome of one run. */
export interface FsckReport {
  checked: Checked;
  broken: Finding[];
  leftovers: LeftoverFinding[];
  /** Where this run's repair put what it quarantined; absent without `--repair`. */
  quarantine?: string;
}

/** True when a run found nothing wrong, or repaired everything it found. */
export function isClean(report: FsckReport): boolean {
  const open = (entry: { action?: string }) =>
    entry.action === undefined || entry.action.startsWith('failed');
  return !report.broken.some(open) && !report.leftovers.some(open);
}

/** Reports progress on a terminal; a no-op elsewhere. */
export type Progress = (line: string) => void;
