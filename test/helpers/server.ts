/**
 * An in-process Berth for HTTP tests: started exactly as `berth serve` starts it, over a temp
 * storage root, listening on a free loopback port, with its log lines captured.
 */
import { type BerthInstance, startBerth } from '../../src/berth.js';
import { buildConfig } from '../../src/config/load.js';
import type { BerthConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { removeDir, tempDir } from './tmp.js';

/** A running test server. */
export interface TestServer extends BerthInstance {
  url: string;
  root: string;
  config: BerthConfig;
  /** Log lines written so far (JSON strings). */
  logs: string[];
  /** Stops the server and removes its data. */
  close(): Promise<void>;
}

/** Options: a YAML-shaped config document merged over the test defaults, and an existing root. */
export interface TestServerOptions {
  config?: Record<string, unknown>;
  root?: string;
}

/** Starts Berth in-process on 127.0.0.1 with a temp (or the given) storage root. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const root = options.root ?? (await tempDir('berth-http-'));
  const document = deepMerge(
    {
      http: { addr: '127.0.0.1:0', draintimeout: '1s' },
      storage: { filesystem: { rootdirectory: root }, maintenance: { uploadpurging: { enabled: false } } },
    },
    options.config ?? {},
  );
  const { config } = buildConfig(document, {}, 'test');
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', formatter: 'json', write: (line) => logs.push(line) });
  const instance = await startBerth(config, logger);
  return {
    ...instance,
    url: instance.server.url,
    root,
    config,
    logs,
    async close() {
      await instance.stop();
      await removeDir(root);
    },
  };
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
