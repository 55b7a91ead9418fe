/**
 * Writes OCI image layouts for tests to push with real clients: layers are real gzipped tar
 * archives built here (a minimal ustar writer), configs carry matching diff_ids.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

/** A file to put in a layer. */
export interface LayerFile {
  name: string;
  content: Buffer;
  mode?: number;
}

/** A descriptor as written into the layout. */
export interface LayoutDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

function sha256(content: Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A ustar archive of regular files (directories are implied by the paths). */
export function tarArchive(files: LayerFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const header = Buffer.alloc(512);
    header.write(file.name, 0, 100, 'utf8');
    header.write(octal(file.mode ?? 0o644, 8), 100, 'ascii');
    header.write(octal(0, 8), 108, 'ascii');
    header.write(octal(0, 8), 116, 'ascii');
    header.write(octal(file.content.length, 12), 124, 'ascii');
    header.write(octal(1_700_000_000, 12), 136, 'ascii');
    header.write('        ', 148, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let checksum = 0;
    for (const byte of header) checksum += byte;
    header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, file.content, Buffer.alloc((512 - (file.content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** An OCI image layout being assembled in a directory. */
export interface LayoutWriter {
  dir: string;
  /** Stores a blob and returns its descriptor. */
  blob(content: Buffer, mediaType: string): Promise<LayoutDescriptor>;
  /** Builds a single-platform image from layers of files; returns its manifest descriptor. */
  image(layers: LayerFile[][], platform?: { architecture: string; os: string }): Promise<LayoutDescriptor>;
  /** Writes index.json naming each descriptor under `org.opencontainers.image.ref.name`. */
  finish(refs: Array<{ name: string; descriptor: LayoutDescriptor }>): Promise<void>;
}

/** Starts an OCI layout in `dir`. */
export async function ociLayout(dir: string): Promise<LayoutWriter> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const writer: LayoutWriter = {
    dir,
    async blob(content, mediaType) {
      const digest = sha256(content);
      await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), content);
      return { mediaType, digest, size: content.length };
    },
    async image(layers, platform = { architecture: 'amd64', os: 'linux' }) {
      const diffIds: string[] = [];
      const layerDescriptors: LayoutDescriptor[] = [];
      for (const files of layers) {
        const tar = tarArchive(files);
        diffIds.push(sha256(tar));
        layerDescriptors.push(
          await writer.blob(gzipSync(tar), 'application/vnd.oci.image.layer.v1.tar+gzip'),
        );
      }
      const config = Buffer.from(
        JSON.stringify({
          architecture: platform.architecture,
          os: platform.os,
          config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
          rootfs: { type: 'layers', diff_ids: diffIds },
          history: diffIds.map(() => ({ created_by: 'berth e2e test' })),
        }),
      );
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: await writer.blob(config, 'application/vnd.oci.image.config.v1+json'),
          layers: layerDescriptors,
        }),
      );
      return { ...(await writer.blob(manifest, 'application/vnd.oci.image.manifest.v1+json')), platform };
    },
    async finish(refs) {
      const manifests = refs.map(({ name, descriptor }) => ({
        ...descriptor,
        annotations: { ...descriptor.annotations, 'org.opencontainers.image.ref.name': name },
      }));
      await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
    },
  };
  return writer;
}

/** Random file content of `size` bytes (incompressible, so layer sizes are what they say). */
export function randomFile(name: string, size: number): LayerFile {
  return { name, content: randomBytes(size) };
}
