/**
 * An HTTP proxy in front of s3rver that makes it behave like S3 where Berth relies on it, and
 * lets tests watch and disturb the traffic:
 *
 * - every request is recorded by operation name (PutObject, UploadPart, CopyObject, ...);
 * - injected faults answer matching requests with an S3 error instead of forwarding them, or
 *   forward them and lose the answer (the connection drops once s3rver has done the work);
 * - a delete never overlaps another write (s3rver prunes emptied directories and crashes on a
 *   write into one it is pruning);
 * - writes of one key are atomic, as on S3: a key's writes run one at a time and never
 *   overlap its reads, and a PutObject body is forwarded only once it has fully arrived (s3rver
 *   writes straight into the object's file, so an interrupted PUT would leave a torn object);
 * - AbortMultipartUpload, which s3rver lacks, removes the upload's parts;
 * - ListObjectsV2 is answered from s3rver's directory (s3-proxy-listing.ts): s3rver's own
 *   misses prefixes whose keys are all two or more levels down; a listing waits for writes
 *   under its prefix, so it sees each one whole or not at all;
 * - ListMultipartUploads, which s3rver lacks too, lists the uploads with a key under the
 *   prefix, each initiated when its directory was last modified (tests backdate it), in one page;
 * - CompleteMultipartUpload checks the listed parts as S3 does (s3rver takes any list):
 *   ascending numbers (InvalidPartOrder), each uploaded with the ETag given (InvalidPart),
 *   every part but the last at least 5 MiB (EntityTooSmall);
 * - with `conditional`, `If-None-Match: *` and `If-Match` on PutObject and
 *   CompleteMultipartUpload are enforced as AWS documents them (412 PreconditionFailed, or 404
 *   NoSuchKey for If-Match on a missing object). Without it they pass through and s3rver
 *   ignores them, like stores that do not implement conditional writes.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { escapeXml, listObjectsV2 } from './s3-proxy-listing.js';

/** One request the proxy saw. */
export interface ProxiedRequest {
  operation: string;
  key: string;
  /** The status answered, once the response has started. */
  status?: number;
}

/** Answer requests matching `operation` (and `key`, when given) with an error, `times` times. */
export interface InjectedFault {
  operation: string;
  key?: RegExp;
  status: number;
  code: string;
  times: number;
  /** Forward the request instead, and drop the connection in place of s3rver's answer. */
  answerLost?: boolean;
}

/** The running proxy. */
export interface S3Proxy {
  readonly requests: ProxiedRequest[];
  /** Adds a fault; the function returned removes what is left of it. */
  inject(fault: InjectedFault): () => void;
  /** Listens on `port` (0: a free one) and resolves with the port. */
  listen(port: number): Promise<number>;
  close(): Promise<void>;
}

/** Where s3rver keeps its data, and whether conditions are enforced. */
export interface S3ProxyOptions {
  upstreamPort: () => number;
  directory: string;
  bucket: string;
  conditional: boolean;
}

/** Creates (without starting) a proxy in front of s3rver. */
export function createS3Proxy(options: S3ProxyOptions): S3Proxy {
  const requests: ProxiedRequest[] = [];
  const faults: InjectedFault[] = [];
  const locks = createKeyLocks();
  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
    const operation = operationOf(req, key, url.searchParams);
    const record: ProxiedRequest = { operation, key };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });

    const fault = takeFault(faults, operation, key);
    if (fault && !fault.answerLost) {
      await readBody(req);
      return answer(res, fault.status, fault.code);
    }
    if (operation === 'AbortMultipartUpload') return abortUpload(res, url.searchParams.get('uploadId') ?? '');
    if (operation === 'ListMultipartUploads') return listUploads(res, url.searchParams.get('prefix') ?? '');
    if (operation === 'ListObjectsV2') {
      // A listing sees each write under its prefix whole or not at all, as on S3.
      await locks.idleUnder(url.searchParams.get('prefix') ?? '');
      return listObjectsV2(
        res,
        options.bucket,
        path.join(options.directory, options.bucket),
        url.searchParams,
      );
    }
    const exclusive = WRITES.has(operation);
    if (TREE_CHANGES.has(operation)) {
      // s3rver deletes a key's emptied parent directories, and a write into one of them at
      // that moment crashes it (ENOENT): deletes never overlap other writes here.
      const tree = locks.acquire(TREE_LOCK, operation.startsWith('Delete'));
      res.on('close', () => tree.then((release) => release()));
      await tree;
    }
    if (key !== '') {
      const lock = locks.acquire(key, exclusive);
      // Registered before waiting, so a client that leaves while queued still frees its turn.
      res.on('close', () => lock.then((release) => release()));
      await lock;
    }
    const buffered = operation === 'PutObject' || operation === 'CompleteMultipartUpload';
    const body = buffered ? await readBody(req) : undefined;
    const refusal =
      (exclusive && options.conditional ? await checkConditions(req, key) : undefined) ??
      (operation === 'CompleteMultipartUpload' ? await checkParts(url.searchParams, body) : undefined);
    if (refusal) {
      if (!body) await readBody(req);
      return answer(res, refusal.status, refusal.code);
    }
    forward(req, res, body, options.upstreamPort(), fault?.answerLost ?? false);
  }

  async function checkConditions(req: http.IncomingMessage, key: string) {
    const noneMatch = req.headers['if-none-match'];
    const match = req.headers['if-match'];
    if (noneMatch === undefined && match === undefined) return undefined;
    const etag = await currentEtag(objectFile(options.directory, options.bucket, key));
    if (noneMatch === '*' && etag !== undefined) return PRECONDITION_FAILED;
    if (match === undefined) return undefined;
    if (etag === undefined) return { status: 404, code: 'NoSuchKey' };
    return match === '*' || match.replaceAll('"', '') === etag ? undefined : PRECONDITION_FAILED;
  }

  async function checkParts(query: URLSearchParams, body: Buffer | undefined) {
    const dir = uploadDirectory(query.get('uploadId') ?? '');
    if (!(await exists(dir))) return { status: 404, code: 'NoSuchUpload' };
    const listed = [...(body?.toString() ?? '').matchAll(/<Part>(.*?)<\/Part>/gs)].map((match) => ({
      n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(match[1] as string)?.[1]),
      etag: (/<ETag>(.*?)<\/ETag>/.exec(match[1] as string)?.[1] ?? '').replace(/&quot;|"/g, ''),
    }));
    for (const [i, part] of listed.entries()) {
      if (i > 0 && part.n <= (listed[i - 1] as { n: number }).n)
        return { status: 400, code: 'InvalidPartOrder' };
      const uploaded = await readFile(path.join(dir, `${part.n}.md5`), 'utf8').catch(() => undefined);
      if (uploaded?.trim() !== part.etag) return { status: 400, code: 'InvalidPart' };
      const { size } = await stat(path.join(dir, String(part.n)));
      if (i < listed.length - 1 && size < MIN_PART_SIZE) return { status: 400, code: 'EntityTooSmall' };
    }
    return undefined;
  }

  function uploadDirectory(uploadId: string): string {
    return path.join(options.directory, options.bucket, '._S3rver_uploads', path.basename(uploadId));
  }

  async function abortUpload(res: http.ServerResponse, uploadId: string): Promise<void> {
    const dir = uploadDirectory(uploadId);
    if (!(await exists(dir))) return answer(res, 404, 'NoSuchUpload');
    await rm(dir, { recursive: true, force: true });
    res.writeHead(204).end();
  }

  async function listUploads(res: http.ServerResponse, prefix: string): Promise<void> {
    const root = path.join(options.directory, options.bucket, '._S3rver_uploads');
    const entries: string[] = [];
    for (const id of await readdir(root).catch(() => [] as string[])) {
      const key = await readFile(path.join(root, id, 'key'), 'utf8').catch(() => undefined);
      if (key === undefined || !key.startsWith(prefix)) continue;
      const initiated = (await stat(path.join(root, id))).mtime.toISOString();
      entries.push(
        `<Upload><Key>${escapeXml(key)}</Key><UploadId>${id}</UploadId><Initiated>${initiated}</Initiated></Upload>`,
      );
    }
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${options.bucket}</Bucket><IsTruncated>false</IsTruncated>${entries.join('')}</ListMultipartUploadsResult>`;
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  return {
    requests,
    inject(fault) {
      const added = { ...fault };
      faults.push(added);
      return () => {
        added.times = 0;
      };
    },
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const WRITES = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload', 'DeleteObject']);
/** Operations that create or remove s3rver's directories: deletes take this lock alone. */
const TREE_CHANGES = new Set([...WRITES, 'DeleteObjects']);
/** Not a key S3 allows (keys are UTF-8 without NUL), so no object's lock is this one. */
const TREE_LOCK = '\u0000tree';
const PRECONDITION_FAILED = { status: 412, code: 'PreconditionFailed' };
/** S3's smallest part but the last. */
const MIN_PART_SIZE = 5 * 1024 * 1024;

/** The S3 operation a request is, by method, query and headers. */
function operationOf(req: http.IncomingMessage, key: string, query: URLSearchParams): string {
  const method = req.method ?? 'GET';
  if (key === '') {
    if (query.has('list-type')) return 'ListObjectsV2';
    if (query.has('uploads')) return 'ListMultipartUploads';
    if (query.has('delete')) return 'DeleteObjects';
    return method === 'HEAD' ? 'HeadBucket' : `${method}Bucket`;
  }
  if (method === 'PUT') {
    if (query.has('uploadId')) return 'UploadPart';
    return 'x-amz-copy-source' in req.headers ? 'CopyObject' : 'PutObject';
  }
  if (method === 'POST') return query.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload';
  if (method === 'DELETE') return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  return method === 'HEAD' ? 'HeadObject' : 'GetObject';
}

function takeFault(faults: InjectedFault[], operation: string, key: string): InjectedFault | undefined {
  const fault = faults.find(
    (candidate) =>
      candidate.times > 0 && candidate.operation === operation && (candidate.key?.test(key) ?? true),
  );
  if (fault) fault.times -= 1;
  return fault;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Answers with an S3 error document (HEAD responses carry no body). */
function answer(res: http.ServerResponse, status: number, code: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code} (s3 test proxy)</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(res.req.method === 'HEAD' ? undefined : xml);
}

function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer | undefined,
  port: number,
  answerLost: boolean,
): void {
  const upstream = http.request({
    host: '127.0.0.1',
    port,
    method: req.method,
    path: req.url,
    headers: req.headers,
  });
  upstream.on('response', (response) => {
    if (answerLost) {
      response.resume().on('end', () => res.destroy());
      return;
    }
    res.writeHead(response.statusCode ?? 502, response.headers);
    response.pipe(res);
  });
  // A store that went away mid-request looks like one to the client: the connection drops.
  upstream.on('error', () => res.destroy());
  if (body) upstream.end(body);
  else req.pipe(upstream);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** s3rver's file holding the bytes of `key`. */
function objectFile(directory: string, bucket: string, key: string): string {
  const parts = key.split('/');
  const name = parts.pop() as string;
  return path.join(directory, bucket, ...parts, `${name}._S3rver_object`);
}

/** The ETag (without quotes) s3rver would answer for the object in `file`, if it exists. */
async function currentEtag(file: string): Promise<string | undefined> {
  try {
    return (await readFile(`${file}.md5`, 'utf8')).trim();
  } catch {
    try {
      return createHash('md5')
        .update(await readFile(file))
        .digest('hex');
    } catch {
      return undefined;
    }
  }
}

interface KeyState {
  readers: number;
  writer: boolean;
  queue: { exclusive: boolean; grant: () => void }[];
}

/** Per-key reader/writer locks, granted in arrival order. */
function createKeyLocks() {
  const states = new Map<string, KeyState>();

  function pump(key: string, state: KeyState): void {
    for (let next = state.queue[0]; next; next = state.queue[0]) {
      const free = next.exclusive ? !state.writer && state.readers === 0 : !state.writer;
      if (!free) break;
      state.queue.shift();
      if (next.exclusive) state.writer = true;
      else state.readers += 1;
      next.grant();
    }
    if (!state.writer && state.readers === 0 && state.queue.length === 0) states.delete(key);
  }

  return {
    /** Resolves once no write of a key starting with `prefix` is running or waiting. */
    async idleUnder(prefix: string): Promise<void> {
      const busy = () =>
        [...states].some(
          ([key, state]) => key.startsWith(prefix) && (state.writer || state.queue.some((q) => q.exclusive)),
        );
      while (busy()) await new Promise((resolve) => setTimeout(resolve, 2));
    },
    acquire(key: string, exclusive: boolean): Promise<() => void> {
      const state = states.get(key) ?? { readers: 0, writer: false, queue: [] };
      states.set(key, state);
      return new Promise((resolve) => {
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          if (exclusive) state.writer = false;
          else state.readers -= 1;
          pump(key, state);
        };
        state.queue.push({ exclusive, grant: () => resolve(release) });
        pump(key, state);
      });
    },
  };
}
