/**
 * Storage that several `berth serve` processes share, as replicas behind a load balancer do:
 * one filesystem root, or one bucket of s3rver with conditional writes enforced (as AWS does).
 * Replica tests run once per kind of store through SHARED_STORES.
 */
import { startS3Server } from '../../helpers/s3-server.js';
import { removeDir, tempDir } from '../../helpers/tmp.js';
import { type BerthProcess, startBerthProcess } from './berth-process.js';

/** A store replicas share: the root and env each is started with, and how to dispose of it. */
export interface SharedStore {
  root: string;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/** One filesystem root. */
export async function filesystemStore(): Promise<SharedStore> {
  const root = await tempDir('berth-replicas-');
  return { root, env: {}, dispose: () => removeDir(root) };
}

/** One S3 bucket (the root directory only holds what a replica keeps locally). */
export async function s3Store(): Promise<SharedStore> {
  const root = await tempDir('berth-replicas-s3-');
  const s3 = await startS3Server({ conditional: true });
  return {
    root,
    env: s3.env('replicas'),
    async dispose() {
      await s3.dispose();
      await removeDir(root);
    },
  };
}

/** Each kind of shared store, with the words that finish "two replicas on …". */
export const SHARED_STORES = [
  ['one filesystem root', filesystemStore],
  ['one S3 bucket', s3Store],
] as const;

/** Starts two `berth serve` processes on `store`, side by side. */
export async function startReplicaPair(store: SharedStore): Promise<[BerthProcess, BerthProcess]> {
  const start = () => startBerthProcess({ root: store.root, env: store.env });
  return Promise.all([start(), start()]);
}
