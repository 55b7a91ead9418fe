/**
 * Image layers for the unpack tests: tar archives made by GNU tar from staging directories (an
 * independent writer, so the reader is not only checked against its own test writer), OCI
 * layouts that umoci and skopeo can read, and the layer list of such a layout.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ociLayout } from './oci-layout.js';

/** A layer as unpackSnapshot takes it. */
export interface ImageLayer {
  path: string;
  mediaType: string;
  diffId: string;
}

const LAYER = 'application/vnd.oci.image.layer.v1.tar';

/**
 * A PAX archive of `dir` (its root included as `./`), names sorted, numeric owners, every xattr,
 * no atime/ctime records (they would only add noise).
 */
export function gnuTar(dir: string): Promise<Buffer> {
  const args = [
    '--create',
    '--file=-',
    '--format=pax',
    '--pax-option=delete=atime,delete=ctime',
    '--sort=name',
    '--numeric-owner',
    '--xattrs',
    '--xattrs-include=*',
    `--directory=${dir}`,
    '.',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => out.push(data));
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`tar exited ${code}: ${stderr}`));
    });
  });
}

/** The `sha256:<hex>` of some bytes. */
export function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * Writes an OCI layout at `dir` holding one image tagged `tag` whose layers are `tars`
 * (compressed as asked); returns the layers as unpackSnapshot takes them.
 */
export async function writeImage(
  dir: string,
  tag: string,
  tars: Buffer[],
  compression: 'gzip' | 'none' = 'gzip',
): Promise<ImageLayer[]> {
  const layout = await ociLayout(dir);
  const mediaType = compression === 'gzip' ? `${LAYER}+gzip` : LAYER;
  const descriptors = [];
  for (const tar of tars) {
    descriptors.push(await layout.blob(compression === 'gzip' ? gzipSync(tar) : tar, mediaType));
  }
  const config = await layout.blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: tars.map(digestOf) },
        history: tars.map(() => ({ created_by: 'berth unpack test' })),
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await layout.blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers: descriptors,
      }),
    ),
    'application/vnd.oci.image.manifest.v1+json',
  );
  await layout.finish([{ name: tag, descriptor: manifest }]);
  return readImage(dir, tag);
}

/** The layers of the image tagged `tag` in the OCI layout at `dir`, with the config's diff_ids. */
export async function readImage(dir: string, tag: string): Promise<ImageLayer[]> {
  const blob = (digest: string): string => path.join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no image tagged ${tag} in ${dir}`);
  const manifest = JSON.parse(await readFile(blob(entry.digest), 'utf8')) as {
    config: { digest: string };
    layers: Array<{ digest: string; mediaType: string }>;
  };
  const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8')) as {
    rootfs: { diff_ids: string[] };
  };
  return manifest.layers.map((layer, i) => ({
    path: blob(layer.digest),
    mediaType: layer.mediaType,
    diffId: config.rootfs.diff_ids[i] as string,
  }));
}
