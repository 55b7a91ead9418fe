/**
 * One container created at a time per agent root: names and /30 subnets are picked by looking
 * at the existing containers, so two `run`s at the same instant must not both look before
 * either has written its record. A holder that died leaves a stale lock, which the next
 * caller takes over.
 */
import { join } from 'node:path';
import { withLockFile } from '../fs/lock-file.js';
import type { AgentLayout } from './layout.js';

/** Runs `work` holding the create lock of `layout`. */
export function withCreateLock<T>(layout: AgentLayout, work: () => Promise<T>): Promise<T> {
  return withLockFile(join(layout.containers, '.create.lock'), work, {
    busy: 'another berth agent has been creating a container for 30 s',
  });
}
