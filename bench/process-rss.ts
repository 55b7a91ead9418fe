/**
 * Resident memory of a process and everything it started, read from /proc: a server running
 * with several workers is the sum of its processes, not the primary alone.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The text of /proc/<pid>/<file>, or undefined when the process has exited meanwhile. */
function procFile(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
}

/** VmRSS of `pid` in KiB; 0 for a process that has exited (or a zombie, which has no memory). */
function rssKiB(pid: number): number {
  const status = procFile(pid, 'status');
  const match = status === undefined ? null : /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) : 0;
}

/** The parent pid of `pid` (field 4 of /proc/<pid>/stat, after the parenthesised name). */
function parentPid(pid: number): number | undefined {
  const stat = procFile(pid, 'stat');
  if (stat === undefined) return undefined;
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = Number(entry);
    const parent = parentPid(child);
    if (parent === undefined) continue;
    const siblings = children.get(parent);
    if (siblings) siblings.push(child);
    else children.set(parent, [child]);
  }
  const tree: number[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    tree.push(next);
    pending.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** Summed VmRSS of `pid` and its descendants, in MiB. */
export function processTreeRssMiB(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) total += rssKiB(member);
  return total / 1024;
}
