/**
 * A runnable image snapshot for the runtime tests, made directly as a directory (no registry or
 * layers): the static busybox with applet symlinks, /etc/passwd and /etc/group with root and
 * `app` (1000:1000, also in group `staff`), and /tmp. Plus helpers to collect output and check
 * that nothing the runtime makes is left on the host.
 */
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { leftoverCgroups } from '../../../src/agent/cgroups.js';
import { listContainerRecords } from '../../../src/agent/containers.js';
import type { ImageConfig } from '../../../src/agent/image.js';
import { type AgentLayout, agentLayout } from '../../../src/agent/layout.js';
import { removeContainer } from '../../../src/agent/lifecycle.js';
import { networkLeftovers } from '../../../src/agent/network.js';
import { mountsUnder, unmountContainerDir } from '../../../src/agent/rootfs-mount.js';

/** Applets the runtime and CLI tests use. */
const APPLETS = [
  'sh',
  'id',
  'cat',
  'echo',
  'sleep',
  'grep',
  'nc',
  'httpd',
  'mkdir',
  'touch',
  'dd',
  'true',
  'false',
  'ls',
  'head',
  'tail',
  'wc',
  'env',
  'pwd',
  'wget',
];

/** Writes the busybox rootfs into `dir` (created) and returns `dir`. */
export async function makeBusyboxRootfs(dir: string): Promise<string> {
  for (const sub of ['bin', 'etc', 'tmp', 'root', 'home/app', 'www'])
    await mkdir(join(dir, sub), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
  await chmod(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of APPLETS) await symlink('busybox', join(dir, 'bin', applet));
  await writeFile(
    join(dir, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n',
  );
  await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n');
  await writeFile(join(dir, 'www', 'index.html'), 'hello from the container\n');
  return dir;
}

/** An image config for the busybox rootfs; `config` fields override the defaults. */
export function busyboxConfig(config: NonNullable<ImageConfig['config']> = {}): ImageConfig {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin', 'IMAGE_VAR=from-image'], Cmd: ['sh'], WorkingDir: '/', ...config },
    rootfs: { type: 'layers', diff_ids: [] },
  };
}

/** Collects what a container writes to one stream. */
export function collector(): { write(chunk: Uint8Array | string): boolean; text(): string } {
  const chunks: Buffer[] = [];
  return {
    write(chunk) {
      chunks.push(Buffer.from(chunk));
      return true;
    },
    text: () => Buffer.concat(chunks).toString(),
  };
}

/** Removes every container under the layout (rm -f), whatever state it is in. */
export async function removeAllContainers(layout: AgentLayout): Promise<void> {
  const ids = await readdir(layout.containers).catch(() => [] as string[]);
  for (const id of ids) {
    await removeContainer(layout, id, { force: true }).catch(async () => {
      // No usable record (a half-made container): take its directory down by hand.
      await unmountContainerDir(layout.container(id));
      await rm(layout.container(id), { recursive: true, force: true });
    });
  }
}

/** Fails when anything the runtime creates for containers `ids` is still on the host. */
export async function assertNothingLeft(layout: AgentLayout, ids: string[]): Promise<void> {
  const network = await networkLeftovers();
  assert.deepEqual(network, { netns: [], veths: [] }, 'no berth- netns or bv veth remains');
  assert.deepEqual(await mountsUnder(layout.root), [], 'nothing is mounted under the agent root');
  for (const id of ids) assert.deepEqual(await leftoverCgroups(id), [], `no cgroup remains for ${id}`);
  assert.deepEqual(await readdir(layout.containers).catch(() => []), [], 'no container directory remains');
}

/**
 * Removes every container under the agent root `root`, then fails when anything of them, or
 * of the earlier containers `ids`, is left on the host.
 */
export async function cleanUpAgentRoot(root: string, ids: string[] = []): Promise<void> {
  const layout = agentLayout(root);
  const records = await listContainerRecords(layout).catch(() => []);
  await removeAllContainers(layout);
  await assertNothingLeft(layout, [...ids, ...records.map((record) => record.id)]);
}
