/**
 * Where Berth keeps its data during a run (`--storage`): a directory in the server's work
 * directory, or an S3 endpoint (s3-endpoint.ts) started for this server and stopped with it.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createConfiguredDriver } from '../src/blobstore/create-driver.js';
import type { StorageDriver } from '../src/blobstore/driver.js';
import { buildConfig } from '../src/config/load.js';
import { spawnChild } from './child.js';

/** The storage backends the bench can run Berth on. */
export const STORAGE_KINDS = ['fs', 's3'] as const;

/** `fs`: the filesystem driver; `s3`: the S3 driver against s3rver. */
export type StorageKind = (typeof STORAGE_KINDS)[number];

/** Storage prepared for one Berth process. */
export interface BenchStorage {
  /** The BERTH_STORAGE_* variables that point Berth at it. */
  env: Record<string, string>;
  /** Stops what was started for it and removes its data (the fs data goes with the work directory). */
  stop(): Promise<void>;
}

const ENDPOINT_SCRIPT = fileURLToPath(new URL('./s3-endpoint.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

/** Prepares `kind` storage for a Berth whose work directory is `workDir`. */
export async function startStorage(kind: StorageKind, workDir: string): Promise<BenchStorage> {
  if (kind === 'fs') {
    return { env: { BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(workDir, 'data') }, stop: async () => {} };
  }
  const child = spawnChild(process.execPath, [ENDPOINT_SCRIPT], workDir, process.env, 'pipe');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ready = /^ready (.*)$/m.exec(child.output());
    if (ready)
      return {
        env: {
          ...(JSON.parse(ready[1] as string) as Record<string, string>),
          // The SDK's notice that its 2027 releases need Node 22 (docs/storage-s3.md) is known.
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        stop: async () => void (await child.stop()),
      };
    const exit = child.exitStatus();
    if (exit !== undefined || Date.now() > deadline) {
      await child.stop();
      throw new Error(`the S3 endpoint did not start (${exit ?? 'timed out'}); output:\n${child.output()}`);
    }
    await sleep(50);
  }
}

/** Opens the store a Berth started with `env` uses, through the driver Berth itself would build. */
export async function openStore(env: NodeJS.ProcessEnv): Promise<StorageDriver> {
  const { config } = buildConfig({}, env, 'the bench environment');
  return (await createConfiguredDriver(config.storage)).driver;
}
