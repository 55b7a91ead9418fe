/**
 * Ending containers: `stop` (the stop signal, then KILL after a timeout), `rm` (runc state,
 * network, mounts, cgroups and the directory, in an order that never deletes through a mount)
 * and `prune` of every stopped container.
 */
import { rm } from 'node:fs/promises';
import { removeCgroups } from './cgroups.js';
import { delay } from './command.js';
import {
  type ContainerRecord,
  containerFiles,
  containerStatus,
  findContainer,
  listContainerRecords,
} from './containers.js';
import type { AgentLayout } from './layout.js';
import { teardownNetwork } from './network.js';
import { unmountContainerDir } from './rootfs-mount.js';
import { isLive, runcDelete, runcKill, runcState } from './runc.js';

/**
 * Stops a running container: its stop signal (image StopSignal, else TERM), then KILL when it
 * is still running after `timeoutSeconds`. Resolves once it has exited; a container that is not
 * running is left as it is. Returns its record.
 */
export async function stopContainer(
  layout: AgentLayout,
  ref: string,
  timeoutSeconds = 10,
): Promise<ContainerRecord> {
  const record = await findContainer(layout, ref);
  if (!isLive(await runcState(layout, record.id))) return record;
  await runcKill(layout, record.id, record.stopSignal);
  if (await waitForExit(layout, record.id, timeoutSeconds * 1000)) return record;
  await runcKill(layout, record.id, 'KILL');
  if (!(await waitForExit(layout, record.id, 10_000)))
    throw new Error(`container ${record.name} did not exit after KILL`);
  return record;
}

/** How `removeContainer` may proceed. */
export interface RemoveOptions {
  /** Kill a running container first instead of refusing. */
  force?: boolean;
}

/**
 * Removes a container and everything made for it: runc's state, its network namespace and
 * veth, its mounts, its cgroups and its directory. Refuses a running container unless `force`.
 * Returns the removed id.
 */
export async function removeContainer(
  layout: AgentLayout,
  ref: string,
  options: RemoveOptions = {},
): Promise<string> {
  const record = await findContainer(layout, ref);
  const { id } = record;
  if (isLive(await runcState(layout, id))) {
    if (!options.force) {
      throw new Error(`container ${record.name} is running: stop it first, or use rm -f`);
    }
    await runcKill(layout, id, 'KILL');
    // The supervisor tears down the network and writes the exit code; give it the moment.
    await waitForExit(layout, id, 5_000);
  }
  await runcDelete(layout, id);
  if (record.lease) await teardownNetwork(record.lease);
  const dir = containerFiles(layout, id).dir;
  // Throws if anything stays mounted, so the rm below can never reach into the snapshot or
  // a volume through a mount.
  await unmountContainerDir(dir);
  await removeCgroups(id);
  await rm(dir, { recursive: true, force: true });
  return id;
}

/** Removes every container that is not running; returns the removed ids. */
export async function pruneContainers(layout: AgentLayout): Promise<string[]> {
  const removed: string[] = [];
  for (const record of await listContainerRecords(layout)) {
    const status = await containerStatus(layout, record.id);
    if (status.state === 'running' || status.state === 'paused') continue;
    removed.push(await removeContainer(layout, record.id));
  }
  return removed;
}

/**
 * Waits up to `ms` for the container to end: its exit code written, or runc no longer knowing
 * it for a second (its supervisor died, so no exit code will come). True when it ended.
 */
export async function waitForExit(layout: AgentLayout, id: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let goneSince: number | undefined;
  for (;;) {
    const status = await containerStatus(layout, id);
    if (status.state === 'exited') return true;
    if (status.state === 'created') {
      goneSince ??= Date.now();
      if (Date.now() - goneSince > 1_000) return true;
    } else goneSince = undefined;
    if (Date.now() > deadline) return false;
    await delay(50);
  }
}
