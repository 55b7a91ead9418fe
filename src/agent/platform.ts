/**
 * Platforms (`os/architecture[/variant]`) in OCI terms: the host's, one given with
 * `--platform`, and picking the matching manifest out of an image index.
 */
import { endianness } from 'node:os';

/** An OCI platform, as in an index entry or an image config. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An index entry: a manifest descriptor with an optional platform. */
export interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

const NODE_OS: Readonly<Record<string, string>> = { win32: 'windows', sunos: 'solaris' };
const NODE_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', mipsel: 'mipsle' };
// Names other tools (uname, Debian) use for the same architectures.
const ARCH_ALIASES: Readonly<Record<string, Platform['architecture']>> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  i386: '386',
  i686: '386',
};

/** The platform this agent runs on, in OCI names (`x64` -> `amd64`, arm64 -> `arm64/v8`). */
export function hostPlatform(): Platform {
  const os = NODE_OS[process.platform] ?? process.platform;
  const arch = process.arch as string;
  if (arch === 'arm64') return { os, architecture: 'arm64', variant: 'v8' };
  if (arch === 'arm') {
    // Node records the ARM version it was built for; 32-bit ARM images are split by it.
    const variables = process.config.variables as unknown as Record<string, unknown>;
    const version = variables.arm_version;
    return { os, architecture: 'arm', variant: `v${typeof version === 'string' && version ? version : '7'}` };
  }
  if (arch === 'ppc64') return { os, architecture: endianness() === 'LE' ? 'ppc64le' : 'ppc64' };
  return { os, architecture: NODE_ARCH[arch] ?? arch };
}

/** Parses `os/arch[/variant]` (as `--platform` takes it); throws naming the expected form. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  const valid = /^[a-z0-9_.-]+$/;
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !valid.test(part.toLowerCase()))) {
    throw new Error(`invalid platform "${text}": expected os/architecture[/variant], e.g. linux/arm64`);
  }
  const [os, architecture, variant] = parts.map((part) => part.toLowerCase()) as [string, string, string?];
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** `os/arch[/variant]`. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/**
 * Whether an image for `have` runs where `want` is asked for. Both are normalised first, as
 * containerd does: arm64 with or without `v8` is the same, a bare `arm` means `arm/v7`.
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const a = normalisePlatform(want);
  const b = normalisePlatform(have);
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}

/** Canonical names and variants, so that equal platforms compare equal. */
export function normalisePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase();
  const architecture =
    ARCH_ALIASES[platform.architecture.toLowerCase()] ?? platform.architecture.toLowerCase();
  let variant = platform.variant?.toLowerCase() || undefined;
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  if (architecture === 'arm' && variant === undefined) variant = 'v7';
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * The first index entry for `want`. Entries without a platform, or marked as attestations (as
 * BuildKit adds them with `unknown/unknown`), are not images and never match. Throws listing the
 * platforms the index does have.
 */
export function selectManifest(entries: readonly IndexEntry[], want: Platform, what = 'image'): IndexEntry {
  const images = entries.filter(isImageEntry);
  const found = images.find((entry) => platformMatches(want, entry.platform as Platform));
  if (found) return found;
  const available = [...new Set(images.map((entry) => formatPlatform(entry.platform as Platform)))];
  throw new Error(
    `no manifest for platform ${formatPlatform(want)} in ${what}; available: ${available.join(', ') || 'none'}`,
  );
}

function isImageEntry(entry: IndexEntry): boolean {
  const platform = entry.platform;
  if (!platform || typeof platform.os !== 'string' || typeof platform.architecture !== 'string') return false;
  if (platform.os === 'unknown' && platform.architecture === 'unknown') return false;
  return entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest';
}
