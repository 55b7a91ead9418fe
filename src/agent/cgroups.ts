/**
 * Where containers' cgroups live, and removing what runc leaves behind. runc deletes a
 * container's own cgroup but not the parent directory it made for `cgroupsPath`, in every
 * hierarchy (cgroup v1 controllers, name=systemd and the unified one alike).
 */
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The parent cgroup every agent container is placed under. */
export const CGROUP_PARENT = 'berth-agent';

/** A container's `linux.cgroupsPath`. */
export function cgroupsPath(id: string): string {
  return `/${CGROUP_PARENT}/${id}`;
}

/**
 * Removes the container's cgroup (if runc left it, say after a crash) in every hierarchy, and
 * the shared parent when no other container uses it. Busy or missing directories are skipped.
 */
export async function removeCgroups(id: string, cgroupRoot = '/sys/fs/cgroup'): Promise<void> {
  const hierarchies = [cgroupRoot];
  try {
    for (const entry of await readdir(cgroupRoot, { withFileTypes: true })) {
      if (entry.isDirectory()) hierarchies.push(join(cgroupRoot, entry.name));
    }
  } catch {
    return;
  }
  for (const hierarchy of hierarchies) {
    // rmdir on a cgroup fails while it has processes or children, which is the check we want.
    await rmdir(join(hierarchy, CGROUP_PARENT, id)).catch(() => {});
    await rmdir(join(hierarchy, CGROUP_PARENT)).catch(() => {});
  }
}

/** Hierarchies that still hold a cgroup for `id` (for tests and `rm` checks). */
export async function leftoverCgroups(id: string, cgroupRoot = '/sys/fs/cgroup'): Promise<string[]> {
  const found: string[] = [];
  const hierarchies = [cgroupRoot, ...(await readdir(cgroupRoot)).map((name) => join(cgroupRoot, name))];
  for (const hierarchy of hierarchies) {
    const dir = join(hierarchy, CGROUP_PARENT, id);
    if (
      await readdir(dir).then(
        () => true,
        () => false,
      )
    )
      found.push(dir);
  }
  return found;
}
