/**
 * An in-process Berth for HTTP tests: started exactly as `berth serve` starts it, over a temp
 * storage root, listening on a free loopback port, with its log lines captured.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/secrets.js';
import { type BerthInstance, type StartOptions, startBerth } from '../../src/berth.js';
import { buildConfig } from '../../src/config/load.js';
import type { BerthConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { type ChallengeProxy, startChallengeProxy } from './challenge-proxy.js';
import { type S3TestServer, startS3Server } from './s3-server.js';
import { removeDir, tempDir } from './tmp.js';

/** A running test server. */
export interface TestServer extends BerthInstance {
  /** Where tests send requests: Berth itself, or the challenge-following proxy in auth runs. */
  url: string;
  /** Berth itself, never through a proxy. */
  directUrl: string;
  root: string;
  config: BerthConfig;
  /** Log lines written so far (JSON strings). */
  logs: string[];
  /** Stops the server and removes its data. */
  close(): Promise<void>;
}

/**
 * Options: a YAML-shaped config document merged over the test defaults, an existing root, and
 * a wrapper around the storage driver (to inject faults).
 */
export interface TestServerOptions {
  config?: Record<string, unknown>;
  root?: string;
  wrapDriver?: StartOptions['wrapDriver'];
}

/**
 * Starts Berth in-process on 127.0.0.1 with a temp (or the given) storage root.
 *
 * With BERTH_TEST_AUTH=token in the environment (`npm run test:auth`), a server whose test
 * does not configure auth itself runs with token auth on, an admin account, and a
 * challenge-following proxy in front: the same tests then prove the API works with auth.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const root = options.root ?? (await tempDir('berth-http-'));
  const s3 = await s3StoreFor(root, options.config);
  const withAuth = process.env.BERTH_TEST_AUTH === 'token' && options.config?.auth === undefined;
  const authDir = withAuth ? await tempDir('berth-auth-') : undefined;
  const authConfig = authDir ? { auth: await adminOnlyAuth(authDir) } : {};
  const document = deepMerge(
    {
      http: { addr: '127.0.0.1:0', draintimeout: '1s' },
      storage: {
        filesystem: { rootdirectory: root },
        maintenance: { uploadpurging: { enabled: false } },
        ...s3?.server.storageConfig(s3.prefix),
      },
      ...authConfig,
    },
    options.config ?? {},
  );
  const { config } = buildConfig(document, {}, 'test');
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', formatter: 'json', write: (line) => logs.push(line) });
  const instance = await startBerth(config, logger, { wrapDriver: options.wrapDriver }).catch(
    async (err: unknown) => {
      await s3?.release();
      throw err;
    },
  );
  const proxy: ChallengeProxy | undefined = authDir
    ? await startChallengeProxy(instance.server.url, ADMIN.name, ADMIN.password)
    : undefined;
  let stopped: Promise<void> | undefined;
  // Once only, so a test may stop a server (to restart over its root) and close it later.
  const stop = () => {
    stopped ??= (async () => {
      await proxy?.close();
      await instance.stop();
    })();
    return stopped;
  };
  return {
    ...instance,
    url: proxy?.url ?? instance.server.url,
    directUrl: instance.server.url,
    root,
    config,
    logs,
    stop,
    async close() {
      await stop();
      await removeDir(root);
      await s3?.release();
      if (authDir) await removeDir(authDir);
    },
  };
}

/**
 * The `storage` section that pins a test server to the filesystem driver: the S3 run
 * (`npm run test:s3`) then leaves it on the filesystem. Each pin says why next to it.
 */
export const ON_FILESYSTEM = { driver: 'filesystem' } as const;

/** An S3 store of the HTTP suite's S3 run, shared by the servers started over one root. */
interface SharedS3Store {
  server: S3TestServer;
  /** The key prefix (`storage.s3.rootdirectory`) of this root. */
  prefix: string;
  /** Drops this server's hold; the store goes with the last one. */
  release(): Promise<void>;
}

const s3Stores = new Map<string, { server: Promise<S3TestServer>; holders: number }>();

/**
 * With BERTH_TEST_STORAGE=s3 (`npm run test:s3`), a server whose test does not pin a driver
 * stores everything in S3 (s3rver behind the proxy enforcing conditional writes): the same
 * tests then prove the registry on the second backend. Servers started over the same root
 * (a restart) share one store.
 */
async function s3StoreFor(
  root: string,
  config: Record<string, unknown> | undefined,
): Promise<SharedS3Store | undefined> {
  const pinned = (config?.storage as { driver?: unknown } | undefined)?.driver !== undefined;
  if (process.env.BERTH_TEST_STORAGE !== 's3' || pinned) return undefined;
  let entry = s3Stores.get(root);
  if (!entry) {
    entry = { server: startS3Server({ conditional: true }), holders: 0 };
    s3Stores.set(root, entry);
  }
  entry.holders += 1;
  const server = await entry.server;
  const held = entry;
  return {
    server,
    prefix: 'registry',
    async release() {
      held.holders -= 1;
      if (held.holders > 0) return;
      s3Stores.delete(root);
      await server.dispose();
    },
  };
}

const ADMIN = { name: 'conformance', password: 'conformance-password' };

async function adminOnlyAuth(dir: string): Promise<Record<string, unknown>> {
  const policy = join(dir, 'policy.yaml');
  const hash = await hashPassword(ADMIN.password, 4);
  await writeFile(policy, `users:\n  ${ADMIN.name}: { password: "${hash}", admin: true }\n`);
  return { mode: 'token', policy, token: { signingkey: join(dir, 'key.pem') } };
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const existing = result[key];
    result[key] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value;
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
