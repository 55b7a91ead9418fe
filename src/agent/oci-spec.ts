/**
 * The parts of the OCI runtime spec (config.json, runtime-spec v1.0.2) that the agent writes.
 * Field names are the spec's own, so a value of these types serialises straight to config.json.
 */
import type { CapabilitySets } from './capabilities.js';
import type { Rlimit } from './rlimits.js';

/** `process`: what runs in the container, and as whom. */
export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: CapabilitySets;
  rlimits: Rlimit[];
  noNewPrivileges: boolean;
}

/** One entry of `mounts`. */
export interface OciMount {
  destination: string;
  type?: string;
  source: string;
  options?: string[];
}

/** One entry of `linux.namespaces`; `path` joins an existing namespace instead of making one. */
export interface OciNamespace {
  type: 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'cgroup' | 'user';
  path?: string;
}

/** `linux.resources`, only the parts the agent sets. */
export interface OciResources {
  devices: { allow: boolean; access: string; type?: string; major?: number; minor?: number }[];
  memory?: { limit: number; swap: number };
  pids?: { limit: number };
}

/** A whole config.json. */
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: OciNamespace[];
    resources: OciResources;
    cgroupsPath: string;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}
