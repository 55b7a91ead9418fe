/**
 * Whether pushed images still pull whole: over plain HTTP while pushes go on (the GC race
 * test looks after every GC run, since a lost layer may come back when a client pushes it
 * again), and with skopeo at the end. Every byte read is hashed against its digest.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { OCI_MANIFEST, sha256 } from '../../helpers/oci.js';
import type { PushedImage } from './race-clients.js';
import { run } from './run.js';

/** Why `image` does not pull through `url`, or undefined when it pulls whole. */
export async function pullProblem(url: string, image: PushedImage): Promise<string | undefined> {
  const manifest = await fetch(`${url}/v2/${image.repository}/manifests/${image.digest}`, {
    headers: { Accept: OCI_MANIFEST },
  });
  const body = Buffer.from(await manifest.arrayBuffer());
  if (manifest.status !== 200) return `manifest answered ${manifest.status}`;
  if (sha256(body) !== image.digest) return 'manifest bytes do not match the digest';
  for (const blob of image.blobs) {
    const response = await fetch(`${url}/v2/${image.repository}/blobs/${blob.digest}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) return `blob ${blob.digest} answered ${response.status}`;
    if (sha256(bytes) !== blob.digest) return `blob ${blob.digest} does not hash to its digest`;
  }
  return undefined;
}

/**
 * The images of `images` that do not pull whole through `url` and are still live when that
 * is found (an image deleted meanwhile is no loss). One problem per image, with its key.
 */
export async function unpullable(
  url: string,
  images: PushedImage[],
  isLive: (image: PushedImage) => boolean,
): Promise<Array<{ image: PushedImage; problem: string }>> {
  const found: Array<{ image: PushedImage; problem: string }> = [];
  for (const image of images) {
    const problem = await pullProblem(url, image);
    if (problem && isLive(image)) found.push({ image, problem });
  }
  return found;
}

/**
 * Copies `image` out of `host` with skopeo into the `dir:` layout `out`, then hashes every
 * file against the name skopeo gave it; resolves with what went wrong, or undefined.
 */
export async function skopeoProblem(
  host: string,
  image: PushedImage,
  out: string,
): Promise<string | undefined> {
  const source = `docker://${host}/${image.repository}@${image.digest}`;
  const copied = await run('skopeo', ['copy', '--src-tls-verify=false', source, `dir:${out}`]);
  if (copied.code !== 0) return `skopeo copy exited ${copied.code}: ${copied.stderr.trim()}`;
  if (sha256(await readFile(path.join(out, 'manifest.json'))) !== image.digest)
    return 'the copied manifest does not match the digest';
  const files = new Set(await readdir(out));
  for (const blob of image.blobs) {
    const hex = blob.digest.replace('sha256:', '');
    if (!files.has(hex)) return `skopeo copied no ${blob.digest}`;
    if (sha256(await readFile(path.join(out, hex))) !== blob.digest)
      return `the copied ${blob.digest} does not hash to its digest`;
  }
  return undefined;
}
