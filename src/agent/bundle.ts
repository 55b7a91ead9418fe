/**
 * Creates a container: its directory (the OCI bundle), its own writable root over the image
 * snapshot, per-container /etc files, config.json and container.json. Nothing runs yet; the
 * supervisor sets up the network and starts runc.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readHostCapabilities } from './capabilities.js';
import { cgroupsPath } from './cgroups.js';
import {
  type ContainerRecord,
  containerFiles,
  generateName,
  listContainerRecords,
  newContainerId,
  saveContainer,
  shortId,
} from './containers.js';
import { withCreateLock } from './create-lock.js';
import { hostsFile, resolvConf } from './etc-files.js';
import type { ImageConfig } from './image.js';
import type { AgentLayout } from './layout.js';
import { hostSubnetsInUse, leaseFor, netnsPath, pickSubnet } from './network.js';
import { readHardNofile } from './rlimits.js';
import { mountRootfs, rootfsPaths, unmountContainerDir } from './rootfs-mount.js';
import { parseEnvFile, type RunOptions } from './run-options.js';
import { buildSpec } from './spec.js';
import { resolveVolumeMounts } from './volumes.js';

/** What a new container is made from. */
export interface CreateRequest {
  /** The image's unpacked snapshot rootfs; only read, never written. */
  rootfs: string;
  imageConfig: ImageConfig;
  /** The reference the user ran (shown by `ps`). */
  imageRef: string;
  options: RunOptions;
  /** Arguments after IMAGE. */
  command: string[];
}

/**
 * Creates the container and returns its record. `hostEnv` supplies bare `-e NAME` values.
 * On failure everything made so far is removed again.
 */
export async function createContainer(
  layout: AgentLayout,
  request: CreateRequest,
  hostEnv: Record<string, string | undefined>,
): Promise<ContainerRecord> {
  const { options } = request;
  await mkdir(layout.containers, { recursive: true });
  return withCreateLock(layout, async () => {
    const existing = await listContainerRecords(layout);
    if (options.name && existing.some((record) => record.name === options.name)) {
      throw new Error(`the name ${options.name} is already in use by another container`);
    }
    const id = newContainerId();
    const files = containerFiles(layout, id);
    await mkdir(files.dir, { mode: 0o700 });
    try {
      return await fillBundle(layout, request, hostEnv, id, existing);
    } catch (error) {
      await unmountContainerDir(files.dir).catch(() => {});
      await rm(files.dir, { recursive: true, force: true }).catch(() => {});
      throw error;
    }
  });
}

async function fillBundle(
  layout: AgentLayout,
  request: CreateRequest,
  hostEnv: Record<string, string | undefined>,
  id: string,
  existing: ContainerRecord[],
): Promise<ContainerRecord> {
  const { options, imageConfig } = request;
  const files = containerFiles(layout, id);
  const short = shortId(id);
  const hostname = options.hostname ?? short;
  let lease: ContainerRecord['lease'];
  if (options.network === 'bridge') {
    const used = await hostSubnetsInUse();
    for (const record of existing) if (record.lease) used.add(record.lease.index);
    lease = leaseFor(pickSubnet(used, short), short);
  }
  const record: ContainerRecord = {
    id,
    name: options.name ?? generateName(id, new Set(existing.map((other) => other.name))),
    image: request.imageRef,
    imageRootfs: request.rootfs,
    args: [],
    createdAt: new Date().toISOString(),
    options,
    rootfsKind: 'overlay',
    ...(lease ? { lease } : {}),
    volumeNames: options.volumes.filter((volume) => volume.kind === 'volume').map((volume) => volume.source),
    stopSignal: imageConfig.config?.StopSignal ?? 'SIGTERM',
  };
  // Recorded before anything is mounted, so `rm -f` can clean up a half-made container.
  await saveContainer(layout, record);
  const [passwd, group, envFileEntries, volumeMounts, hostResolv, hardNofile, hostCapabilities] =
    await Promise.all([
      readOptional(join(request.rootfs, 'etc', 'passwd')),
      readOptional(join(request.rootfs, 'etc', 'group')),
      readEnvFiles(options.envFiles),
      resolveVolumeMounts(layout, options.volumes),
      readOptional('/etc/resolv.conf'),
      readHardNofile(),
      readHostCapabilities(),
    ]);
  await writeFile(files.hosts, hostsFile(hostname, lease?.containerAddress));
  await writeFile(files.resolvConf, resolvConf(hostResolv, options.network === 'host'));
  await writeFile(files.hostname, `${hostname}\n`);
  const spec = buildSpec({
    image: imageConfig,
    options,
    command: request.command,
    users: { passwd, group },
    envFileEntries,
    hostEnv,
    rootfsPath: rootfsPaths(files.dir).rootfs,
    hostname,
    hardNofile,
    hostCapabilities,
    cgroupsPath: cgroupsPath(id),
    ...(lease ? { netnsPath: netnsPath(lease.netns) } : {}),
    volumeMounts,
    etcFiles: { hosts: files.hosts, resolvConf: files.resolvConf, hostname: files.hostname },
  });
  record.args = spec.process.args;
  await writeFile(files.config, `${JSON.stringify(spec, null, 2)}\n`);
  record.rootfsKind = await mountRootfs(request.rootfs, files.dir);
  await saveContainer(layout, record);
  return record;
}

async function readEnvFiles(paths: string[]): Promise<string[]> {
  const entries: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new Error(`--env-file ${path}: ${(error as Error).message}`);
    }
    entries.push(...parseEnvFile(text, path));
  }
  return entries;
}

async function readOptional(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}
