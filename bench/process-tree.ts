/**
 * A server under test and the processes it forked (the workers of `berth serve --workers N`),
 * read from /proc: CPU time and peak RSS summed over all of them, and the peak reset, so one
 * scenario can measure its own peak.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** One process's peak resident set size. */
export interface ProcessPeak {
  pid: number;
  /** VmHWM, in MiB. */
  peakMiB: number;
}

/** The fields of /proc/<pid>/stat after the command name (index 0 is the state). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** `pid` followed by its descendants, parents before children; processes gone meanwhile are left out. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let parent: number;
    try {
      parent = Number(statFields(Number(entry))[1]);
    } catch {
      continue; // it exited while we looked
    }
    const siblings = children.get(parent) ?? [];
    siblings.push(Number(entry));
    children.set(parent, siblings);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}

/** A `/proc/<pid>/status` field in kB (VmHWM, VmRSS) of process `pid`, in MiB. */
function statusMiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} line in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** Peak resident set size (VmHWM) of process `pid` in MiB. */
export function peakRssMiB(pid: number): number {
  return statusMiB(pid, 'VmHWM');
}

/**
 * `read` of every process of the tree of `pid`; a descendant that exits before it is read is
 * left out, while a failure on `pid` itself is thrown.
 */
function eachInTree<T>(pid: number, read: (member: number) => T): T[] {
  const [, ...descendants] = processTree(pid);
  const results = [read(pid)];
  for (const member of descendants) {
    try {
      results.push(read(member));
    } catch {
      // exited between the listing and the read
    }
  }
  return results;
}

/** VmHWM of `pid` and of every descendant. */
export function treePeakRss(pid: number): ProcessPeak[] {
  return eachInTree(pid, (member) => ({ pid: member, peakMiB: peakRssMiB(member) }));
}

/**
 * Sets the VmHWM of `pid` and its descendants back to their current RSS (Linux 4.0+), so a
 * later `treePeakRss` shows the peak since now rather than since the process started.
 */
export function resetTreePeakRss(pid: number): void {
  eachInTree(pid, (member) => writeFileSync(`/proc/${member}/clear_refs`, '5'));
}

/** CPU time (user + system) process `pid` has used so far, in seconds (USER_HZ is 100 on Linux). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU time of `pid` and of its descendants, in seconds. */
export function treeCpuSeconds(pid: number): number {
  return eachInTree(pid, cpuSeconds).reduce((sum, seconds) => sum + seconds, 0);
}

/**
 * Summed current RSS (VmRSS) of `pid` and its descendants, in MiB; 0 when `pid` has exited
 * (a zombie has no memory either).
 */
export function processTreeRssMiB(pid: number): number {
  try {
    return eachInTree(pid, (member) => statusMiB(member, 'VmRSS')).reduce((sum, mib) => sum + mib, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH' || (error as Error).message.startsWith('no VmRSS')) return 0;
    throw error;
  }
}
