/**
 * Resource limits (setrlimit) for container processes. runc cannot raise a hard limit above
 * its own without CAP_SYS_RESOURCE, which this machine kind does not grant, so every limit is
 * clamped to the agent's own hard limit.
 */
import { readFile } from 'node:fs/promises';

/** One OCI `process.rlimits` entry. */
export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

/** The open-files limit containerd (and so Docker) gives containers. */
export const DEFAULT_NOFILE = 1048576;

/**
 * The rlimits for a container: RLIMIT_NOFILE at Docker's 1048576, lowered to `hardNofile`
 * (the most the agent may hand out) when that is smaller.
 */
export function containerRlimits(hardNofile: number): Rlimit[] {
  const nofile = Math.min(DEFAULT_NOFILE, hardNofile);
  return [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }];
}

/**
 * The agent's hard RLIMIT_NOFILE from /proc/self/limits (what `ulimit -Hn` prints);
 * Infinity for "unlimited".
 */
export async function readHardNofile(limitsPath = '/proc/self/limits'): Promise<number> {
  return parseHardNofile(await readFile(limitsPath, 'utf8'));
}

/** The hard open-files limit in a /proc/PID/limits text. */
export function parseHardNofile(limits: string): number {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!match) throw new Error('no "Max open files" line in the process limits');
  const hard = match[2] as string;
  return hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number.parseInt(hard, 10);
}
