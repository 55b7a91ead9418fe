/**
 * Linux capabilities for containers: Docker's default set, adjusted by --cap-add/--cap-drop,
 * and the OCI `process.capabilities` sets built from it.
 */
import { readFile } from 'node:fs/promises';

/** Every capability name, indexed by its number (CAP_CHOWN is 0). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
].map((name) => `CAP_${name}`);

/** Docker's default capability set (moby `oci/caps/defaults.go`). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * The canonical `CAP_X` form of a user-written name (`net_admin`, `CAP_NET_ADMIN`), `ALL` for
 * all, or undefined when the name is not a capability.
 */
export function normalizeCapability(name: string): string | undefined {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  return ALL_CAPABILITIES.includes(full) ? full : undefined;
}

/** What --cap-add/--cap-drop asked for, and what the host can grant. */
export interface CapabilityRequest {
  add: string[];
  drop: string[];
  /** The host's bounding set; a container cannot get more. Defaults to every capability. */
  available?: readonly string[];
}

/**
 * The container's capability list, resolved like Docker: `--cap-add ALL` means every
 * capability the host has, `--cap-drop ALL` none but the added ones, otherwise the default set
 * with the drops removed and the adds added. Throws for an unknown name or one the host lacks.
 */
export function resolveCapabilities(request: CapabilityRequest): string[] {
  const available = request.available ?? ALL_CAPABILITIES;
  const add = request.add.map((name) => checked(name, '--cap-add'));
  const drop = request.drop.map((name) => checked(name, '--cap-drop'));
  for (const cap of add) {
    if (cap !== 'ALL' && !available.includes(cap)) {
      throw new Error(`--cap-add ${cap}: the host does not grant this capability to the agent`);
    }
  }
  const result = new Set<string>();
  // The same three cases as moby's TweakCapabilities, so a flag means what it means to Docker:
  // an add of ALL still honours drops, a drop of ALL keeps only the adds, and otherwise an add
  // wins over a drop of the same capability.
  if (add.includes('ALL')) {
    for (const cap of available) if (!drop.includes(cap)) result.add(cap);
  } else if (drop.includes('ALL')) {
    for (const cap of add) result.add(cap);
  } else {
    for (const cap of DEFAULT_CAPABILITIES) if (!drop.includes(cap)) result.add(cap);
    for (const cap of add) result.add(cap);
  }
  // A default the host lacks is left out quietly: asking for it was not the user's doing.
  return ALL_CAPABILITIES.filter((cap) => result.has(cap) && available.includes(cap));
}

function checked(name: string, flag: string): string {
  const cap = normalizeCapability(name);
  if (!cap) throw new Error(`${flag}: unknown capability "${name}"`);
  return cap;
}

/** The OCI `process.capabilities` object. */
export interface CapabilitySets {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

/**
 * The OCI sets for `caps`. A process that is not uid 0 loses its permitted and effective
 * capabilities at exec, so for those users the caps also go into the ambient set, which
 * survives exec (it needs them in inheritable and permitted too).
 */
export function capabilitySets(caps: readonly string[], uid: number): CapabilitySets {
  return {
    bounding: [...caps],
    effective: [...caps],
    permitted: [...caps],
    inheritable: [...caps],
    ambient: uid === 0 ? [] : [...caps],
  };
}

/** The capability names of a hex mask as /proc/PID/status shows it (`CapEff: 00000000a80425fb`). */
export function decodeCapabilityMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The agent's own bounding set: the most any container it starts can get. */
export async function readHostCapabilities(statusPath = '/proc/self/status'): Promise<string[]> {
  const status = await readFile(statusPath, 'utf8');
  const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
  return line?.[1] ? decodeCapabilityMask(line[1]) : [...ALL_CAPABILITIES];
}
