/**
 * s3rver in a process of its own, for the S3 test fixture (s3-server.ts):
 * `node s3rver-process.js DIRECTORY PORT BUCKET` prints `listening PORT` once it serves.
 *
 * Its own process because s3rver lists with synchronous directory walks that would stall the
 * test's event loop, and so that "the store went away" is a real SIGKILL.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
}

type S3rverConstructor = new (options: S3rverOptions) => S3rverInstance;
type Walk = (dir: string, recurse?: (dir: string) => boolean) => Generator<string>;

const require = createRequire(import.meta.url);

/** The key (or key prefix, for a directory) that an entry of s3rver's store directory holds. */
function keyOf(name: string, isDirectory: boolean): string {
  return isDirectory ? `${name}/` : (name.split('._S3rver_')[0] as string);
}

/**
 * s3rver lists in directory order, which on ext4 is hash order, so its paged listings skip and
 * repeat keys. S3 lists in key order; walking each directory sorted by key gives exactly that.
 */
function* walkInKeyOrder(dir: string, recurse?: (dir: string) => boolean): Generator<string> {
  const entries = readdirSync(dir).map((name) => {
    const isDirectory = statSync(path.join(dir, name)).isDirectory();
    return { name, isDirectory, key: keyOf(name, isDirectory) };
  });
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const entry of entries) {
    const child = path.posix.join(dir, entry.name);
    if (!entry.isDirectory) yield child;
    else if (!recurse || recurse(child)) yield* walkInKeyOrder(child, recurse);
  }
}

// s3rver's store takes `walk` from its utils module when it loads, so replace it first.
(require('s3rver/lib/utils.js') as { walk: Walk }).walk = walkInKeyOrder;
const S3rver = require('s3rver') as S3rverConstructor;

const [directory, port, bucket] = process.argv.slice(2) as [string, string, string];
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
const address = await server.run();
process.stdout.write(`listening ${address.port}\n`);
// The test process holds our stdin open; when it ends, killed or not, so do we, taking the
// data along (a stop() that is followed by start() kills us first, keeping it).
process.stdin.on('close', () => {
  rmSync(directory, { recursive: true, force: true });
  process.exit(0);
});
process.stdin.resume();
