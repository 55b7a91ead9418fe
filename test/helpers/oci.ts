/** Test content: random blobs, manifests and indexes, and pushing them over HTTP. */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const EMPTY_JSON = 'application/vnd.oci.empty.v1+json';

/** A descriptor as tests build them. */
export interface TestDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

/** sha256 digest of bytes. */
export function sha256(content: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** sha512 digest of bytes. */
export function sha512(content: Uint8Array | string): string {
  return `sha512:${createHash('sha512').update(content).digest('hex')}`;
}

/** Random bytes with their descriptor. */
export function randomBlob(
  size: number,
  mediaType = OCI_LAYER,
): { content: Buffer; descriptor: TestDescriptor } {
  const content = randomBytes(size);
  return { content, descriptor: { mediaType, digest: sha256(content), size } };
}

/** A JSON blob (an image config) with its descriptor. */
export function jsonBlob(
  value: unknown,
  mediaType = OCI_CONFIG,
): { content: Buffer; descriptor: TestDescriptor } {
  const content = Buffer.from(JSON.stringify(value));
  return { content, descriptor: { mediaType, digest: sha256(content), size: content.length } };
}

/** Fields of an image manifest. */
export interface ManifestFields {
  config: TestDescriptor;
  layers: TestDescriptor[];
  mediaType?: string | null;
  subject?: TestDescriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** An image manifest body; `mediaType: null` leaves the field out. */
export function imageManifest(fields: ManifestFields): Buffer {
  const body: Record<string, unknown> = { schemaVersion: 2 };
  if (fields.mediaType !== null) body.mediaType = fields.mediaType ?? OCI_MANIFEST;
  if (fields.artifactType) body.artifactType = fields.artifactType;
  body.config = fields.config;
  body.layers = fields.layers;
  if (fields.subject) body.subject = fields.subject;
  if (fields.annotations) body.annotations = fields.annotations;
  return Buffer.from(JSON.stringify(body, null, 2));
}

/** An image index body. */
export function imageIndex(
  manifests: TestDescriptor[],
  extra: {
    mediaType?: string;
    subject?: TestDescriptor;
    artifactType?: string;
    annotations?: Record<string, string>;
  } = {},
): Buffer {
  const body: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: extra.mediaType ?? OCI_INDEX,
    manifests,
  };
  if (extra.artifactType) body.artifactType = extra.artifactType;
  if (extra.subject) body.subject = extra.subject;
  if (extra.annotations) body.annotations = extra.annotations;
  return Buffer.from(JSON.stringify(body));
}

/** Descriptor of a manifest body. */
export function manifestDescriptor(body: Buffer, mediaType = OCI_MANIFEST): TestDescriptor {
  return { mediaType, digest: sha256(body), size: body.length };
}

/** Pushes a blob with a single `POST ?digest=` and asserts 201. */
export async function pushBlob(url: string, name: string, content: Buffer): Promise<string> {
  const digest = sha256(content);
  await request(url)
    .post(`/v2/${name}/blobs/uploads/?digest=${digest}`)
    .set('Content-Type', 'application/octet-stream')
    .send(content)
    .expect(201);
  return digest;
}

/** Pushes a manifest and asserts 201; returns its digest. */
export async function pushManifest(
  url: string,
  name: string,
  reference: string,
  body: Buffer,
  mediaType = OCI_MANIFEST,
): Promise<string> {
  const response = await request(url)
    .put(`/v2/${name}/manifests/${reference}`)
    .set('Content-Type', mediaType)
    // superagent would JSON-encode a Buffer sent with a +json type; send the exact text.
    .send(body.toString('utf8'));
  if (response.status !== 201) throw new Error(`manifest push failed: ${response.status} ${response.text}`);
  return response.headers['docker-content-digest'] as string;
}

/** Pushes a config and one layer, then an image manifest referencing them; returns its parts. */
export async function pushImage(
  url: string,
  name: string,
  tag: string,
  options: { layerSize?: number; annotations?: Record<string, string> } = {},
): Promise<{ manifest: Buffer; digest: string; config: TestDescriptor; layer: TestDescriptor }> {
  const config = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  const layer = randomBlob(options.layerSize ?? 1024);
  await pushBlob(url, name, config.content);
  await pushBlob(url, name, layer.content);
  const manifest = imageManifest({
    config: config.descriptor,
    layers: [layer.descriptor],
    ...(options.annotations ? { annotations: options.annotations } : {}),
  });
  const digest = await pushManifest(url, name, tag, manifest);
  return { manifest, digest, config: config.descriptor, layer: layer.descriptor };
}

/** supertest parser that keeps a binary body as a Buffer. */
export function binary(res: request.Response, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
  stream.on('error', (err: Error) => done(err, Buffer.alloc(0)));
}

/** The single OCI error of an error response body. */
export function ociError(body: unknown): { code: string; message: string; detail?: unknown } {
  const errors = (body as { errors?: Array<{ code: string; message: string; detail?: unknown }> }).errors;
  if (!Array.isArray(errors) || errors.length === 0)
    throw new Error(`not an OCI error body: ${JSON.stringify(body)}`);
  return errors[0] as { code: string; message: string; detail?: unknown };
}
