/**
 * Builds a container's OCI runtime spec (config.json) from its image config and `run` options.
 * Pure: every fact from the host (users file texts, limits, capabilities, paths) comes in as
 * input, so the rules below are unit-tested without runc. No seccomp profile is applied (Docker
 * applies its default profile; the agent does not yet), nor AppArmor/SELinux.
 */
import { posix } from 'node:path';
import { capabilitySets, resolveCapabilities } from './capabilities.js';
import type { ImageConfig } from './image.js';
import type { OciMount, OciNamespace, OciSpec } from './oci-spec.js';
import { containerRlimits } from './rlimits.js';
import type { RunOptions } from './run-options.js';
import { resolveUser, type UserDatabase } from './users.js';

/** PATH when neither the image nor the flags set one (Docker's default). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A host path mounted into the container (a bind directory or a named volume's _data). */
export interface VolumeMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

/** Everything `buildSpec` needs; the caller gathers the host facts. */
export interface SpecInput {
  image: ImageConfig;
  options: RunOptions;
  /** The arguments after IMAGE on the command line. */
  command: string[];
  /** The image's /etc/passwd and /etc/group texts (empty when missing). */
  users: UserDatabase;
  /** K=V (or bare K) entries read from the --env-file files, in order. */
  envFileEntries: string[];
  /** The agent's environment, for a bare `-e NAME`. */
  hostEnv: Record<string, string | undefined>;
  rootfsPath: string;
  hostname: string;
  /** The agent's hard RLIMIT_NOFILE. */
  hardNofile: number;
  /** The agent's bounding capability set; defaults to all capabilities. */
  hostCapabilities?: readonly string[];
  cgroupsPath: string;
  /** The prepared network namespace for `--network bridge`. */
  netnsPath?: string;
  volumeMounts: VolumeMount[];
  /** Per-container host files bind-mounted over the image's /etc files. */
  etcFiles: { hosts: string; resolvConf: string; hostname: string };
}

/**
 * The container's argv, by Docker's rules: Entrypoint + Cmd from the image; `--entrypoint`
 * replaces the Entrypoint and drops the image's Cmd; command-line arguments replace the Cmd.
 */
export function processArgs(image: ImageConfig, options: RunOptions, command: string[]): string[] {
  const entrypoint = options.entrypoint ?? image.config?.Entrypoint ?? [];
  let cmd: string[];
  if (command.length > 0) cmd = command;
  else if (options.entrypoint !== undefined) cmd = [];
  else cmd = image.config?.Cmd ?? [];
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new Error('no command: the image has no Entrypoint or Cmd and none was given');
  return args;
}

/**
 * The container environment: HOSTNAME, then the image's Env, then --env-file entries, then
 * -e (later wins, as in Docker); a bare NAME takes the agent's value or is left out. PATH and
 * HOME get defaults when still missing.
 */
export function mergeEnv(
  layers: { hostname: string; image: string[]; files: string[]; flags: string[]; home: string },
  hostEnv: Record<string, string | undefined>,
): string[] {
  const env = new Map<string, string>([['HOSTNAME', layers.hostname]]);
  for (const entry of [...layers.image, ...layers.files, ...layers.flags]) {
    const eq = entry.indexOf('=');
    if (eq >= 0) {
      env.set(entry.slice(0, eq), entry.slice(eq + 1));
      continue;
    }
    const value = hostEnv[entry];
    if (value !== undefined) env.set(entry, value);
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  if (!env.has('HOME')) env.set('HOME', layers.home);
  return [...env].map(([key, value]) => `${key}=${value}`);
}

/** Docker's default masked paths: kernel information a container has no business reading. */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Docker's default read-only paths: kernel knobs a container must not turn. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Builds config.json for one container. Throws for a bad user, capability or command. */
export function buildSpec(input: SpecInput): OciSpec {
  const { image, options } = input;
  const user = resolveUser(options.user ?? image.config?.User, input.users);
  const caps = resolveCapabilities({
    add: options.capAdd,
    drop: options.capDrop,
    available: input.hostCapabilities,
  });
  const workingDir = image.config?.WorkingDir;
  const cwd = options.workdir ?? (workingDir ? posix.join('/', workingDir) : '/');
  const env = mergeEnv(
    {
      hostname: input.hostname,
      image: image.config?.Env ?? [],
      files: input.envFileEntries,
      flags: options.env,
      home: user.home,
    },
    input.hostEnv,
  );
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: {
        uid: user.uid,
        gid: user.gid,
        ...(user.additionalGids.length > 0 ? { additionalGids: user.additionalGids } : {}),
      },
      args: processArgs(image, options, input.command),
      env,
      cwd,
      capabilities: capabilitySets(caps, user.uid),
      rlimits: containerRlimits(input.hardNofile),
      noNewPrivileges: false,
    },
    root: { path: input.rootfsPath, readonly: options.readOnly },
    hostname: input.hostname,
    mounts: [...systemMounts(), ...etcMounts(input.etcFiles), ...volumeMounts(input.volumeMounts)],
    linux: {
      namespaces: namespaces(options, input.netnsPath),
      resources: {
        // Deny every device node; runc itself allows the standard ones (null, zero, tty...).
        devices: [{ allow: false, access: 'rwm' }],
        ...(options.memory !== undefined ? { memory: { limit: options.memory, swap: options.memory } } : {}),
        ...(options.pidsLimit !== undefined ? { pids: { limit: options.pidsLimit } } : {}),
      },
      cgroupsPath: input.cgroupsPath,
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

function namespaces(options: RunOptions, netnsPath: string | undefined): OciNamespace[] {
  const list: OciNamespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (options.network === 'none') list.push({ type: 'network' });
  if (options.network === 'bridge') {
    if (!netnsPath) throw new Error('--network bridge needs a prepared network namespace');
    list.push({ type: 'network', path: netnsPath });
  }
  list.push({ type: 'cgroup' });
  return list;
}

/** The kernel filesystems every container gets, with Docker's options. */
function systemMounts(): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['ro', 'nosuid', 'noexec', 'nodev', 'relatime'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
  ];
}

function etcMounts(files: SpecInput['etcFiles']): OciMount[] {
  return [
    bind(files.hosts, '/etc/hosts', false),
    bind(files.resolvConf, '/etc/resolv.conf', false),
    bind(files.hostname, '/etc/hostname', false),
  ];
}

/** Volumes sorted so a parent directory is mounted before anything inside it. */
function volumeMounts(volumes: VolumeMount[]): OciMount[] {
  const depth = (path: string) => posix.normalize(path).split('/').filter(Boolean).length;
  return [...volumes]
    .sort((a, b) => depth(a.destination) - depth(b.destination))
    .map((volume) => bind(volume.source, posix.normalize(volume.destination), volume.readOnly));
}

function bind(source: string, destination: string, readOnly: boolean): OciMount {
  return { destination, type: 'bind', source, options: ['rbind', 'rprivate', readOnly ? 'ro' : 'rw'] };
}
