/**
 * Named volumes (volumes/<name>/_data) and turning `-v` specs into host paths to bind-mount.
 * Volumes outlive containers; one in use by any container (running or not) cannot be removed.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { listContainerRecords } from './containers.js';
import type { AgentLayout } from './layout.js';
import type { VolumeSpec } from './run-options.js';
import type { VolumeMount } from './spec.js';

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Creates volume `name` if it does not exist yet (like `docker volume create`, idempotent). */
export async function createVolume(layout: AgentLayout, name: string): Promise<string> {
  if (!VOLUME_NAME.test(name))
    throw new Error(`invalid volume name "${name}": letters, digits, _ . - (not first)`);
  await mkdir(layout.volume(name), { recursive: true });
  return name;
}

/** Volume names, sorted. */
export async function listVolumes(layout: AgentLayout): Promise<string[]> {
  try {
    const entries = await readdir(layout.volumes, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory() && VOLUME_NAME.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/** Removes volume `name` and its data; refuses while any container record mounts it. */
export async function removeVolume(layout: AgentLayout, name: string): Promise<void> {
  if (!VOLUME_NAME.test(name)) throw new Error(`invalid volume name "${name}"`);
  if (!(await exists(layout.volume(name)))) throw new Error(`no such volume: ${name}`);
  const users = (await listContainerRecords(layout)).filter((record) => record.volumeNames.includes(name));
  if (users.length > 0) {
    const names = users.map((record) => record.name).join(', ');
    throw new Error(`volume ${name} is in use by container ${names}: remove the container first`);
  }
  await rm(dirname(layout.volume(name)), { recursive: true, force: true });
}

/**
 * Host paths for a container's `-v` specs. A named volume is created on first use and a
 * missing host directory is created, as Docker does.
 */
export async function resolveVolumeMounts(layout: AgentLayout, specs: VolumeSpec[]): Promise<VolumeMount[]> {
  const mounts: VolumeMount[] = [];
  for (const spec of specs) {
    let source: string;
    if (spec.kind === 'volume') {
      await createVolume(layout, spec.source);
      source = layout.volume(spec.source);
    } else {
      source = spec.source;
      if (!(await exists(source))) await mkdir(source, { recursive: true });
    }
    mounts.push({ source, destination: spec.destination, readOnly: spec.readOnly });
  }
  return mounts;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
