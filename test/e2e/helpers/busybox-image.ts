/**
 * A small runnable test image: the static busybox from Debian's busybox-static with symlinks
 * for its applets, /etc/passwd and /etc/group with a user `app` (1000:1000), and /tmp, in one
 * gzip layer made with GNU tar, written as an OCI layout that skopeo can push.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ociLayout } from './oci-layout.js';

const exec = promisify(execFile);

/** Applets the tests use. */
const APPLETS = [
  'sh',
  'id',
  'cat',
  'echo',
  'sleep',
  'ls',
  'touch',
  'mkdir',
  'grep',
  'httpd',
  'nc',
  'dd',
  'true',
  'false',
  'env',
  'pwd',
  'head',
  'wc',
  'tail',
];

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
  const staging = path.join(dir, 'staging');
  await mkdir(path.join(staging, 'bin'), { recursive: true });
  await mkdir(path.join(staging, 'etc'), { recursive: true });
  await mkdir(path.join(staging, 'tmp'), { recursive: true });
  await mkdir(path.join(staging, 'home', 'app'), { recursive: true });
  await chmod(path.join(staging, 'tmp'), 0o1777);
  await copyFile('/bin/busybox', path.join(staging, 'bin', 'busybox'));
  await chmod(path.join(staging, 'bin', 'busybox'), 0o755);
  for (const applet of APPLETS) await symlink('busybox', path.join(staging, 'bin', applet));
  await writeFile(
    path.join(staging, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n',
  );
  await writeFile(path.join(staging, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n');
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
