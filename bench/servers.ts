/**
 * Starting and stopping the registries under test: Berth (`./bin/berth serve`) and CNCF
 * distribution (`docker-registry serve`), each as a child process on a free 127.0.0.1 port
 * with a fresh temporary data directory that is removed when the server stops. Berth may run
 * with token auth (`--auth token`); distribution always runs without.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageDriver } from '../src/blobstore/driver.js';
import { createFilesystemDriver } from '../src/blobstore/filesystem.js';
import { type AuthMode, type BenchAuth, prepareTokenAuth } from './auth.js';
import { type ChildHandle, peakRssMiB, spawnChild } from './child.js';
import { openConnection } from './raw-http.js';
import { requestHead } from './registry-client.js';

/** Which registry implementation. */
export type ServerKind = 'berth' | 'distribution';

/** Where CNCF distribution is expected. */
export const DISTRIBUTION_BINARY = '/usr/bin/docker-registry';

/** A registry running for the benchmark. */
export interface ServerUnderTest {
  kind: ServerKind;
  port: number;
  /** Host header value, `127.0.0.1:<port>`. */
  host: string;
  child: ChildHandle;
  /** The policy's accounts when the server runs with token auth. */
  auth: BenchAuth | undefined;
  /** Opens the server's store through Berth's driver; undefined for distribution. */
  openStore: (() => Promise<StorageDriver>) | undefined;
  /** Reads peak RSS, stops the process and removes its data; resolves with the peak RSS in MiB. */
  stop(): Promise<number>;
}

const running = new Set<ServerUnderTest>();

/** Stops every server still running (used on interrupt and fatal errors). */
export async function stopAllServers(): Promise<void> {
  await Promise.allSettled([...running].map((server) => server.stop()));
}

/** True when the distribution binary is installed. */
export function distributionAvailable(): boolean {
  return existsSync(DISTRIBUTION_BINARY);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not determine a free port');
  return address.port;
}

/** The environment without variables that would reconfigure the server behind our back. */
function cleanEnv(prefix: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith(prefix)) env[name] = value;
  return env;
}

function distributionConfig(rootDirectory: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${rootDirectory}`,
    '  cache:',
    '    blobdescriptor: inmemory',
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
}

/**
 * Starts `kind` and resolves once GET /v2/ answers (200, or 401 with token auth, which also
 * shows auth is on). `projectRoot` holds bin/berth; `authMode` applies to Berth only.
 */
export async function startServer(
  kind: ServerKind,
  projectRoot: string,
  authMode: AuthMode,
  log: (message: string) => void,
): Promise<ServerUnderTest> {
  const workDir = await mkdtemp(join(tmpdir(), `berth-bench-${kind}-`));
  const dataDir = join(workDir, 'data');
  const port = await freePort();
  let child: ChildHandle;
  let auth: BenchAuth | undefined;
  if (kind === 'berth') {
    const tokenAuth = authMode === 'token' ? await prepareTokenAuth(workDir, log) : undefined;
    auth = tokenAuth?.auth;
    child = spawnChild(join(projectRoot, 'bin', 'berth'), ['serve'], projectRoot, {
      ...cleanEnv('BERTH_'),
      BERTH_HTTP_ADDR: `127.0.0.1:${port}`,
      BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: dataDir,
      BERTH_STORAGE_CACHE_BLOBDESCRIPTOR: 'inmemory',
      BERTH_STORAGE_DELETE_ENABLED: 'true',
      BERTH_LOG_ACCESSLOG_DISABLED: 'true',
      BERTH_LOG_LEVEL: 'warn',
      BERTH_HTTP_DRAINTIMEOUT: '5s',
      ...tokenAuth?.env,
    });
  } else {
    const configFile = join(workDir, 'config.yml');
    await writeFile(configFile, distributionConfig(dataDir, port));
    child = spawnChild(DISTRIBUTION_BINARY, ['serve', configFile], workDir, cleanEnv('REGISTRY_'));
  }
  const host = `127.0.0.1:${port}`;
  const server: ServerUnderTest = {
    kind,
    port,
    host,
    child,
    auth,
    openStore: kind === 'berth' ? () => createFilesystemDriver({ rootDirectory: dataDir }) : undefined,
    async stop() {
      running.delete(server);
      let peak = Number.NaN;
      try {
        if (child.exitStatus() === undefined) peak = peakRssMiB(child.pid);
      } finally {
        await child.stop();
        await rm(workDir, { recursive: true, force: true });
      }
      return peak;
    },
  };
  running.add(server);
  try {
    await waitUntilReady(child, port, '/v2/', kind, auth ? 401 : 200);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** Polls GET `path` every 50 ms until it answers `status`; fails if the child exits or 30 s pass. */
export async function waitUntilReady(
  child: ChildHandle,
  port: number,
  path: string,
  name: string,
  status = 200,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  const head = requestHead('GET', path, `127.0.0.1:${port}`);
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    const exit = child.exitStatus();
    if (exit !== undefined)
      throw new Error(`${name} exited during startup (${exit}); output:\n${child.output()}`);
    try {
      const conn = await openConnection(port);
      try {
        const response = await conn.request(head);
        if (response.status === status) return;
        lastProblem = `GET ${path} answered ${response.status}`;
      } finally {
        conn.close();
      }
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${name} was not ready within 30 s (${lastProblem}); output:\n${child.output()}`);
}
