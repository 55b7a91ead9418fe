/**
 * The agent's state directory (`--root`, default /var/lib/berth-agent): the one place that maps
 * names to paths, laid out like containerd's and podman's.
 *
 *   <root>/
 *   ├── blobs/sha256/<hex>              content store: manifests, configs and layers as pulled
 *   ├── images/<sha256(reference)>.json one pulled image (ImageRecord)
 *   ├── snapshots/<config hex>/         an image unpacked once, read-only for containers
 *   │   ├── rootfs/
 *   │   └── complete                    written after every layer unpacked and verified
 *   ├── containers/.create.lock         held while a container is created (names, subnets)
 *   ├── containers/<id>/                one container; the directory is its OCI bundle
 *   │   ├── config.json                 the OCI runtime spec
 *   │   ├── container.json              what the agent knows: name, image, command, options
 *   │   ├── rootfs/                     overlay of the snapshot and upper/ (or a copy)
 *   │   ├── upper/, work/               the container's own writable layer
 *   │   ├── stdout.log, stderr.log
 *   │   └── exit-code                   written when the container's process ends
 *   ├── volumes/<name>/_data            named volumes; they outlive containers
 *   ├── runc/                           runc's own state (`runc --root`)
 *   ├── pulls/<pid>.<random>            a pull in progress (prune leaves blobs alone meanwhile)
 *   └── credentials.json                `berth agent login` (mode 0600)
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Default state directory. */
export const DEFAULT_AGENT_ROOT = '/var/lib/berth-agent';

/** Paths under one agent root. */
export function agentLayout(root: string) {
  return {
    root,
    blobs: join(root, 'blobs', 'sha256'),
    blob: (digest: string) => join(root, 'blobs', 'sha256', hexOf(digest)),
    images: join(root, 'images'),
    image: (reference: string) =>
      join(root, 'images', `${createHash('sha256').update(reference).digest('hex')}.json`),
    snapshots: join(root, 'snapshots'),
    snapshot: (configDigest: string) => join(root, 'snapshots', hexOf(configDigest)),
    containers: join(root, 'containers'),
    container: (id: string) => join(root, 'containers', id),
    volumes: join(root, 'volumes'),
    volume: (name: string) => join(root, 'volumes', name, '_data'),
    runc: join(root, 'runc'),
    pulls: join(root, 'pulls'),
    credentials: join(root, 'credentials.json'),
  };
}

/** The layout type. */
export type AgentLayout = ReturnType<typeof agentLayout>;

function hexOf(digest: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!match) throw new Error(`not a sha256 digest: ${digest}`);
  return match[1] as string;
}
