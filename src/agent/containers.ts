/**
 * The agent's record of each container (containers/<id>/container.json), ids and names, and a
 * container's current status from its record, runc's state and its exit-code file.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentLayout } from './layout.js';
import type { NetworkLease } from './network.js';
import type { RootfsKind } from './rootfs-mount.js';
import type { RunOptions } from './run-options.js';
import { isLive, type RuncState, runcState } from './runc.js';

/** What the agent knows about one container, beyond its config.json. */
export interface ContainerRecord {
  id: string;
  name: string;
  /** The image reference as the user gave it. */
  image: string;
  /** The snapshot rootfs the container's root was made from. */
  imageRootfs: string;
  /** The process argv (ps COMMAND). */
  args: string[];
  /** ISO 8601. */
  createdAt: string;
  options: RunOptions;
  rootfsKind: RootfsKind;
  lease?: NetworkLease;
  /** Named volumes mounted, so `volume rm` can refuse one in use. */
  volumeNames: string[];
  /** The signal `stop` sends first (the image's StopSignal, else TERM). */
  stopSignal: string;
}

/** Files inside one container directory. */
export function containerFiles(layout: AgentLayout, id: string) {
  const dir = layout.container(id);
  return {
    dir,
    record: join(dir, 'container.json'),
    config: join(dir, 'config.json'),
    stdout: join(dir, 'stdout.log'),
    stderr: join(dir, 'stderr.log'),
    exitCode: join(dir, 'exit-code'),
    /** runc's own log (JSON lines), read to tell a failed start from a program's exit. */
    runcLog: join(dir, 'runc.log'),
    /** The detached supervisor's own output, for when it fails after `run -d` returned. */
    supervisorLog: join(dir, 'supervisor.log'),
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
    hostname: join(dir, 'hostname'),
  };
}

/** A new container id: 64 hex digits, like Docker's. */
export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

/** The 12-digit form of an id shown by `ps` and used for host-side names. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

const ADJECTIVES = [
  'amber',
  'brave',
  'calm',
  'eager',
  'fond',
  'keen',
  'lucid',
  'merry',
  'noble',
  'quiet',
  'swift',
  'tidy',
];
const NOUNS = [
  'anchor',
  'buoy',
  'cove',
  'dock',
  'ferry',
  'harbor',
  'jetty',
  'keel',
  'mast',
  'pier',
  'quay',
  'skiff',
];

/** A readable name not in `taken` (`berth_calm_quay`), or `c-<short id>` if all are taken. */
export function generateName(id: string, taken: ReadonlySet<string>): string {
  const seed = Number.parseInt(id.slice(0, 8), 16);
  for (let step = 0; step < ADJECTIVES.length * NOUNS.length; step += 1) {
    const n = (seed + step) % (ADJECTIVES.length * NOUNS.length);
    const name = `berth_${ADJECTIVES[n % ADJECTIVES.length]}_${NOUNS[Math.floor(n / ADJECTIVES.length)]}`;
    if (!taken.has(name)) return name;
  }
  return `c-${shortId(id)}`;
}

/** Writes container.json atomically (a reader never sees half a record). */
export async function saveContainer(layout: AgentLayout, record: ContainerRecord): Promise<void> {
  const file = containerFiles(layout, record.id).record;
  await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/** Reads a container's record, or undefined when there is none (being created, or removed). */
export async function loadContainer(layout: AgentLayout, id: string): Promise<ContainerRecord | undefined> {
  try {
    return JSON.parse(await readFile(containerFiles(layout, id).record, 'utf8')) as ContainerRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every container with a record, newest first. */
export async function listContainerRecords(layout: AgentLayout): Promise<ContainerRecord[]> {
  let ids: string[];
  try {
    ids = await readdir(layout.containers);
  } catch {
    return [];
  }
  const records = await Promise.all(
    ids.filter((id) => /^[0-9a-f]{64}$/.test(id)).map((id) => loadContainer(layout, id)),
  );
  return records
    .filter((record): record is ContainerRecord => record !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The container named `ref`: a full id, a name, or a unique id prefix. */
export async function findContainer(layout: AgentLayout, ref: string): Promise<ContainerRecord> {
  const records = await listContainerRecords(layout);
  const exact = records.find((record) => record.id === ref || record.name === ref);
  if (exact) return exact;
  const matches = /^[0-9a-f]+$/.test(ref) ? records.filter((record) => record.id.startsWith(ref)) : [];
  if (matches.length === 1) return matches[0] as ContainerRecord;
  if (matches.length > 1) throw new Error(`container id prefix ${ref} is ambiguous`);
  throw new Error(`no such container: ${ref}`);
}

/** Records the container's exit code; the file's mtime is when it finished. */
export async function writeExitCode(layout: AgentLayout, id: string, code: number): Promise<void> {
  const file = containerFiles(layout, id).exitCode;
  await writeFile(`${file}.tmp`, `${code}\n`);
  await rename(`${file}.tmp`, file);
}

/** Where a container is in its life. */
export interface ContainerStatus {
  state: 'created' | 'running' | 'paused' | 'exited';
  exitCode?: number;
  /** Epoch milliseconds. */
  startedAt?: number;
  finishedAt?: number;
}

/**
 * A container's status. The exit-code file wins (written once the process ended and the
 * network was torn down); else runc's state (pass `state` when already listed) says whether it
 * runs. A container runc does not know and with no exit code never started, or its supervisor
 * died: it shows as created.
 */
export async function containerStatus(
  layout: AgentLayout,
  id: string,
  state?: RuncState | null,
): Promise<ContainerStatus> {
  const exitFile = containerFiles(layout, id).exitCode;
  try {
    const [text, info] = await Promise.all([readFile(exitFile, 'utf8'), stat(exitFile)]);
    return { state: 'exited', exitCode: Number.parseInt(text, 10), finishedAt: info.mtimeMs };
  } catch {
    // No exit code yet: ask runc.
  }
  const current = state === undefined ? await runcState(layout, id) : (state ?? undefined);
  if (!isLive(current) || !current) return { state: 'created' };
  const startedAt = Date.parse(current.created);
  return { state: current.status === 'paused' ? 'paused' : 'running', startedAt };
}
