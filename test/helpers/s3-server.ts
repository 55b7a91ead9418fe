/**
 * A real S3 endpoint for tests: s3rver (npm) in a child process over a temp directory with one
 * bucket, behind the proxy of s3-proxy.ts (request log, fault injection, atomic writes, and
 * with `conditional: true` enforced conditional writes). The endpoint is the proxy's.
 *
 * `stop()` takes the store away (the proxy stops listening and s3rver is killed); `start()`
 * brings it back on the same ports with the same data. Child processes (a `berth serve` under
 * test) reach it through `env()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, utimes } from 'node:fs/promises';
import * as path from 'node:path';
import { createS3Proxy, type InjectedFault, type ProxiedRequest } from './s3-proxy.js';
import { removeDir, tempDir } from './tmp.js';

/** What the fixture should emulate. */
export interface S3ServerOptions {
  /** Enforce If-None-Match / If-Match on writes, as AWS does (s3rver alone ignores them). */
  conditional?: boolean;
}

/** A running S3 test endpoint. */
export interface S3TestServer {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Every request the proxy saw, in order. */
  readonly requests: ProxiedRequest[];
  /** Makes matching requests fail (see InjectedFault); the function returned stops that. */
  inject(fault: InjectedFault): () => void;
  /**
   * The `storage` section of a Berth config document using this endpoint; `settings` adds or
   * replaces `storage.s3` keys (e.g. `{ redirect: true }`).
   */
  storageConfig(rootdirectory?: string, settings?: Record<string, unknown>): Record<string, unknown>;
  /** The BERTH_STORAGE_* variables for a Berth process using this endpoint. */
  env(rootdirectory?: string): Record<string, string>;
  /** Keys of multipart uploads neither completed nor aborted. */
  incompleteUploads(): Promise<string[]>;
  /**
   * Makes the object at `key` look last modified at `when`, and the multipart uploads of
   * `key` look started then: for tests of what is old enough to sweep.
   */
  backdate(key: string, when: Date): Promise<void>;
  /** Takes the store away: connections are refused until `start()`. */
  stop(): Promise<void>;
  /** Brings a stopped store back, on the same port and data. */
  start(): Promise<void>;
  /** Stops everything and removes the data. */
  dispose(): Promise<void>;
}

const BUCKET = 'berth-test';
/** s3rver's built-in account. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';
const SCRIPT = new URL('./s3rver-process.js', import.meta.url).pathname;

/** Starts s3rver and its proxy on free loopback ports. */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3TestServer> {
  const directory = await tempDir('berth-s3rver-');
  let child = await spawnS3rver(directory, 0);
  const proxy = createS3Proxy({
    upstreamPort: () => child.port,
    directory,
    bucket: BUCKET,
    conditional: options.conditional ?? false,
  });
  const proxyPort = await proxy.listen(0);
  let running = true;
  const endpoint = `http://127.0.0.1:${proxyPort}`;

  return {
    endpoint,
    bucket: BUCKET,
    region: 'us-east-1',
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    requests: proxy.requests,
    inject: proxy.inject,
    storageConfig: (rootdirectory = '', settings = {}) => ({
      driver: 's3',
      s3: {
        bucket: BUCKET,
        region: 'us-east-1',
        regionendpoint: endpoint,
        forcepathstyle: true,
        accesskey: ACCESS_KEY,
        secretkey: SECRET_KEY,
        rootdirectory,
        ...settings,
      },
    }),
    env: (rootdirectory = '') => ({
      BERTH_STORAGE_DRIVER: 's3',
      BERTH_STORAGE_S3_BUCKET: BUCKET,
      BERTH_STORAGE_S3_REGION: 'us-east-1',
      BERTH_STORAGE_S3_REGIONENDPOINT: endpoint,
      BERTH_STORAGE_S3_FORCEPATHSTYLE: 'true',
      BERTH_STORAGE_S3_ACCESSKEY: ACCESS_KEY,
      BERTH_STORAGE_S3_SECRETKEY: SECRET_KEY,
      BERTH_STORAGE_S3_ROOTDIRECTORY: rootdirectory,
    }),
    incompleteUploads: () => incompleteUploads(directory),
    backdate: (key, when) => backdate(directory, key, when),
    async stop() {
      if (!running) return;
      running = false;
      await proxy.close();
      await child.kill();
    },
    async start() {
      if (running) return;
      child = await spawnS3rver(directory, child.port);
      await proxy.listen(proxyPort);
      running = true;
    },
    async dispose() {
      if (running) {
        await proxy.close();
        await child.kill();
      }
      running = false;
      await removeDir(directory);
    },
  };
}

interface S3rverChild {
  port: number;
  kill(): Promise<void>;
}

/** Starts s3rver-process.js and waits for it to listen. */
async function spawnS3rver(directory: string, port: number): Promise<S3rverChild> {
  // s3rver encrypts continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  const args = ['--openssl-legacy-provider', SCRIPT, directory, String(port), BUCKET];
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await waitForListening(child);
  return {
    port: listening,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function waitForListening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${errors}`)));
  });
}

/** Keys of the multipart uploads s3rver still holds. */
async function incompleteUploads(directory: string): Promise<string[]> {
  const uploads = path.join(directory, BUCKET, '._S3rver_uploads');
  const ids = await readdir(uploads).catch(() => [] as string[]);
  return Promise.all(ids.map((id) => readFile(path.join(uploads, id, 'key'), 'utf8')));
}

async function backdate(directory: string, key: string, when: Date): Promise<void> {
  const parts = key.split('/');
  const object = path.join(directory, BUCKET, ...parts.slice(0, -1), `${parts.at(-1)}._S3rver_object`);
  await utimes(object, when, when).catch(() => {});
  const uploads = path.join(directory, BUCKET, '._S3rver_uploads');
  for (const id of await readdir(uploads).catch(() => [] as string[])) {
    const upload = path.join(uploads, id);
    if ((await readFile(path.join(upload, 'key'), 'utf8').catch(() => '')) === key)
      await utimes(upload, when, when);
  }
}
