/**
 * A small runnable test image: the runtime tests' busybox rootfs (makeBusyboxRootfs) in one
 * gzip layer made with GNU tar, written as an OCI layout that skopeo can push.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { makeBusyboxRootfs } from './agent-rootfs.js';
import { ociLayout } from './oci-layout.js';

const exec = promisify(execFile);

/** What the image's config says. */
export interface BusyboxImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
}

/** Builds the image as an OCI layout in `dir` tagged `tag`; returns the layout reference. */
export async function busyboxLayout(
  dir: string,
  tag: string,
  config: BusyboxImageConfig = {},
): Promise<string> {
  const staging = await makeBusyboxRootfs(path.join(dir, 'staging'));
  const layerFile = path.join(dir, 'layer.tar.gz');
  await exec('tar', ['--numeric-owner', '--format=pax', '-czf', layerFile, '-C', staging, '.']);
  const layer = await readFile(layerFile);
  const diffId = `sha256:${createHash('sha256').update(gunzipSync(layer)).digest('hex')}`;

  const layout = await ociLayout(path.join(dir, 'layout'));
  const layerDescriptor = await layout.blob(layer, 'application/vnd.oci.image.layer.v1.tar+gzip');
  const configBlob = await layout.blob(
    Buffer.from(
      JSON.stringify({
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
        os: 'linux',
        config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], ...config },
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await layout.blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: configBlob,
        layers: [layerDescriptor],
      }),
    ),
    'application/vnd.oci.image.manifest.v1+json',
  );
  await layout.finish([{ name: tag, descriptor: manifest }]);
  return `oci:${layout.dir}:${tag}`;
}
