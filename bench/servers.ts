/**
 * Starting and stopping the registries under test: Berth (`./bin/berth serve`) and CNCF
 * distribution (`docker-registry serve`), each as a child process on a free 127.0.0.1 port
 * with a fresh temporary work directory that is removed when the server stops. Berth may run
 * with token auth (`--auth token`), on S3 (`--storage s3`: an S3 endpoint started with it) and
 * with workers (`--workers N`); distribution always runs alone, on its filesystem, without auth.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageDriver } from '../src/blobstore/driver.js';
import { type RunResult, run } from '../test/e2e/helpers/run.js';
import { type AuthMode, type BenchAuth, prepareTokenAuth } from './auth.js';
import { type ChildHandle, spawnChild } from './child.js';
import { type ProcessPeak, treePeakRss } from './process-tree.js';
import { openConnection } from './raw-http.js';
import { requestHead } from './registry-client.js';
import { type BenchStorage, openStore, type StorageKind, startStorage } from './storage.js';

/** Which registry implementation. */
export type ServerKind = 'berth' | 'distribution';

/** How Berth runs; distribution ignores it. */
export interface BerthSetup {
  auth: AuthMode;
  storage: StorageKind;
  /** `http.workers`: 1 is a single process, more a primary with that many workers. */
  workers: number;
}

/** How Berth runs, for log lines and table headers: `['s3', 'token auth', '2 workers']`. */
export function describeSetup(setup: BerthSetup): string[] {
  return [
    setup.storage,
    ...(setup.auth === 'none' ? [] : [`${setup.auth} auth`]),
    ...(setup.workers === 1 ? [] : [`${setup.workers} workers`]),
  ];
}

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
  /** Runs a `berth` command against the server's store; undefined for distribution. */
  berthCommand: ((args: string[], env: Record<string, string>) => Promise<RunResult>) | undefined;
  /**
   * Reads peak RSS, stops the process (and its storage) and removes its data; resolves with the
   * peak RSS of the process and each of its descendants (none when it had already exited).
   */
  stop(): Promise<ProcessPeak[]>;
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

/** A server process just spawned, and what was started for it. */
interface Spawned {
  child: ChildHandle;
  auth: BenchAuth | undefined;
  /** The environment Berth got, to open its store with; undefined for distribution. */
  berthEnv: NodeJS.ProcessEnv | undefined;
  /** Berth's storage, stopped after Berth; undefined for distribution. */
  storage: BenchStorage | undefined;
}

async function spawnBerth(
  projectRoot: string,
  workDir: string,
  port: number,
  setup: BerthSetup,
  log: (message: string) => void,
): Promise<Spawned> {
  const tokenAuth = setup.auth === 'token' ? await prepareTokenAuth(workDir, log) : undefined;
  const storage = await startStorage(setup.storage, workDir);
  const berthEnv = {
    ...cleanEnv('BERTH_'),
    ...storage.env,
    BERTH_HTTP_ADDR: `127.0.0.1:${port}`,
    BERTH_HTTP_WORKERS: String(setup.workers),
    BERTH_STORAGE_CACHE_BLOBDESCRIPTOR: 'inmemory',
    BERTH_STORAGE_DELETE_ENABLED: 'true',
    BERTH_LOG_ACCESSLOG_DISABLED: 'true',
    BERTH_LOG_LEVEL: 'warn',
    BERTH_HTTP_DRAINTIMEOUT: '5s',
    ...tokenAuth?.env,
  };
  try {
    const child = spawnChild(join(projectRoot, 'bin', 'berth'), ['serve'], projectRoot, berthEnv);
    return { child, auth: tokenAuth?.auth, berthEnv, storage };
  } catch (error) {
    await storage.stop();
    throw error;
  }
}

async function spawnDistribution(workDir: string, port: number): Promise<Spawned> {
  const configFile = join(workDir, 'config.yml');
  await writeFile(configFile, distributionConfig(join(workDir, 'data'), port));
  const child = spawnChild(DISTRIBUTION_BINARY, ['serve', configFile], workDir, cleanEnv('REGISTRY_'));
  return { child, auth: undefined, berthEnv: undefined, storage: undefined };
}

/**
 * Starts `kind` and resolves once GET /v2/ answers (200, or 401 with token auth, which also
 * shows auth is on). `projectRoot` holds bin/berth; `setup` applies to Berth only.
 */
export async function startServer(
  kind: ServerKind,
  projectRoot: string,
  setup: BerthSetup,
  log: (message: string) => void,
): Promise<ServerUnderTest> {
  const workDir = await mkdtemp(join(tmpdir(), `berth-bench-${kind}-`));
  const removeWorkDir = () => rm(workDir, { recursive: true, force: true });
  let spawned: Spawned;
  const port = await freePort();
  try {
    spawned =
      kind === 'berth'
        ? await spawnBerth(projectRoot, workDir, port, setup, log)
        : await spawnDistribution(workDir, port);
  } catch (error) {
    await removeWorkDir();
    throw error;
  }
  const { child, auth, berthEnv, storage } = spawned;
  const server: ServerUnderTest = {
    kind,
    port,
    host: `127.0.0.1:${port}`,
    child,
    auth,
    openStore: berthEnv ? () => openStore(berthEnv) : undefined,
    berthCommand: berthEnv
      ? (args, env) =>
          run(join(projectRoot, 'bin', 'berth'), args, { env: { ...berthEnv, ...env }, cwd: projectRoot })
      : undefined,
    async stop() {
      running.delete(server);
      let peaks: ProcessPeak[] = [];
      try {
        if (child.exitStatus() === undefined) peaks = treePeakRss(child.pid);
      } finally {
        await child.stop();
        await storage?.stop();
        await removeWorkDir();
      }
      return peaks;
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
