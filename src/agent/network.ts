/**
 * `--network bridge`: a named network namespace per container and a veth pair into it, with a
 * private /30 from 10.231.0.0/16 (host side .1, container side .2). There is no Linux bridge,
 * NAT or iptables rule: the host reaches the container directly and publishes ports through
 * the agent's TCP proxy. Only these namespaces and veths are ever created or deleted.
 */
import { runCommand, runCommandOk } from './command.js';

/** One container's slice of 10.231.0.0/16 and the names of what was made for it. */
export interface NetworkLease {
  /** Which /30 (0..16383): 10.231.0.0 + 4 * index. */
  index: number;
  hostAddress: string;
  containerAddress: string;
  /** `ip netns` name, `berth-<short id>`. */
  netns: string;
  /** Host end of the veth pair, `bv<short id>` (15 characters at most, the kernel limit). */
  hostVeth: string;
}

/** How many /30 subnets 10.231.0.0/16 holds. */
export const SUBNET_COUNT = 16384;

/** Where `ip netns add NAME` puts the namespace, for the spec's `linux.namespaces` path. */
export function netnsPath(name: string): string {
  return `/var/run/netns/${name}`;
}

/** The lease of subnet `index` for the container with short id `shortId`. */
export function leaseFor(index: number, shortId: string): NetworkLease {
  if (!Number.isInteger(index) || index < 0 || index >= SUBNET_COUNT) throw new Error(`no subnet ${index}`);
  const base = index * 4;
  const address = (offset: number) => `10.231.${(base + offset) >> 8}.${(base + offset) & 255}`;
  return {
    index,
    hostAddress: address(1),
    containerAddress: address(2),
    netns: `berth-${shortId}`,
    hostVeth: `bv${shortId}`,
  };
}

/**
 * A free subnet index, not in `used`. The search starts at a point derived from the id so two
 * agents allocating at the same moment (different roots, or a race between two `run`s) are
 * unlikely to pick the same one; `used` should also include addresses already on the host.
 */
export function pickSubnet(used: ReadonlySet<number>, shortId: string): number {
  const start = Number.parseInt(shortId.slice(0, 8), 16) % SUBNET_COUNT;
  for (let step = 0; step < SUBNET_COUNT; step += 1) {
    const index = (start + step) % SUBNET_COUNT;
    if (!used.has(index)) return index;
  }
  throw new Error('no free subnet left in 10.231.0.0/16');
}

/** Subnet indexes of 10.231.x.y addresses configured on the host right now. */
export async function hostSubnetsInUse(): Promise<Set<number>> {
  const output = await runCommandOk('ip', ['-4', '-o', 'addr', 'show']);
  const used = new Set<number>();
  for (const match of output.matchAll(/inet 10\.231\.(\d+)\.(\d+)\//g)) {
    used.add(Math.floor((Number(match[1]) * 256 + Number(match[2])) / 4));
  }
  return used;
}

/**
 * Creates the namespace and veth pair for `lease`, with loopback up and a default route via
 * the host side. On failure whatever was made is removed before the error is rethrown.
 */
export async function setupNetwork(lease: NetworkLease): Promise<void> {
  try {
    // Two `ip -batch` processes (host side, then inside the namespace) keep start-up quick.
    const outside = [
      `netns add ${lease.netns}`,
      `link add ${lease.hostVeth} type veth peer name eth0 netns ${lease.netns}`,
      `addr add ${lease.hostAddress}/30 dev ${lease.hostVeth}`,
      `link set ${lease.hostVeth} up`,
    ];
    await runCommandOk('ip', ['-batch', '-'], `${outside.join('\n')}\n`);
    const inside = [
      'link set lo up',
      `addr add ${lease.containerAddress}/30 dev eth0`,
      'link set eth0 up',
      `route add default via ${lease.hostAddress}`,
    ];
    await runCommandOk('ip', ['-n', lease.netns, '-batch', '-'], `${inside.join('\n')}\n`);
  } catch (error) {
    await teardownNetwork(lease);
    throw error;
  }
}

/** Deletes the veth pair and the namespace of `lease`; a missing one is not an error. */
export async function teardownNetwork(lease: NetworkLease): Promise<void> {
  // Deleting one end of a veth pair deletes both; the namespace goes with `netns del`.
  await runCommand('ip', ['link', 'del', lease.hostVeth]);
  await runCommand('ip', ['netns', 'del', lease.netns]);
}

/** `berth-` namespaces and `bv` veths present on the host (for tests and leak checks). */
export async function networkLeftovers(): Promise<{ netns: string[]; veths: string[] }> {
  const netnsList = await runCommand('ip', ['netns', 'list']);
  const links = await runCommandOk('ip', ['-o', 'link', 'show']);
  const netns = netnsList.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith('berth-'));
  const veths = [...links.matchAll(/^\d+: (bv[0-9a-f]+)[@:]/gm)].map((match) => match[1] as string);
  return { netns, veths };
}
