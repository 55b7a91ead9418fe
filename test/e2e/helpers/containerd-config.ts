/**
 * The configuration file of a private containerd daemon for e2e tests (containerd 1.6, config
 * version 2): every path is under one temp directory and only what pulling needs is loaded.
 */
import * as path from 'node:path';

/**
 * Plugins the daemon must not load. Pulling needs only content, metadata, images, leases, the
 * native snapshotter and the walking differ; the rest costs start time, logs warnings, or
 * touches the host.
 */
export const DISABLED_PLUGINS = [
  // CRI would start a streaming server and look for CNI configuration on the host.
  'io.containerd.grpc.v1.cri',
  // opt creates /opt/containerd on the host even with a private root.
  'io.containerd.internal.v1.opt',
  // These snapshotters either log "not configured" warnings or need kernel support; native
  // copies files and needs no mounts, so a killed daemon cannot leave mounts behind.
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.snapshotter.v1.overlayfs',
  // No containers are run, so no runtimes, shims, cgroup monitor or task services.
  'io.containerd.internal.v1.restart',
  'io.containerd.runtime.v1.linux',
  'io.containerd.runtime.v2.task',
  'io.containerd.monitor.v1.cgroups',
  'io.containerd.service.v1.tasks-service',
  'io.containerd.grpc.v1.tasks',
];

/** The snapshotter left enabled; ctr must be told to use it (its own default is overlayfs). */
export const SNAPSHOTTER = 'native';

/** Where a daemon rooted at `dir` keeps its data, runtime state and sockets. */
export interface ContainerdPaths {
  root: string;
  state: string;
  /** The gRPC socket that ctr talks to. */
  address: string;
  config: string;
}

/** The paths of a daemon living entirely inside `dir`. */
export function containerdPaths(dir: string): ContainerdPaths {
  return {
    root: path.join(dir, 'root'),
    state: path.join(dir, 'state'),
    address: path.join(dir, 'containerd.sock'),
    config: path.join(dir, 'config.toml'),
  };
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

/** The TOML text of the config file for a daemon using `paths`. */
export function containerdConfig(paths: ContainerdPaths): string {
  // The daemon chowns its sockets to uid/gid 0 unless told otherwise, which fails when not
  // run as root; owning them as the current user is what root gets by default anyway.
  const owner = [`  uid = ${process.getuid?.() ?? 0}`, `  gid = ${process.getgid?.() ?? 0}`];
  return [
    'version = 2',
    `root = ${quoted(paths.root)}`,
    `state = ${quoted(paths.state)}`,
    `disabled_plugins = [${DISABLED_PLUGINS.map(quoted).join(', ')}]`,
    '',
    '[grpc]',
    `  address = ${quoted(paths.address)}`,
    ...owner,
    '',
    // The ttrpc socket otherwise defaults to the gRPC address plus ".ttrpc"; naming it keeps
    // that explicit and inside the temp directory.
    '[ttrpc]',
    `  address = ${quoted(`${paths.address}.ttrpc`)}`,
    ...owner,
    '',
  ].join('\n');
}
