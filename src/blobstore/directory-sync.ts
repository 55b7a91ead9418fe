/**
 * Coalesced directory fsyncs. Making a rename or a new file durable needs an fsync of its
 * directory; when many requests publish into the same directory at once, one fsync that
 * starts after all their renames serves them all, instead of one each.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Resolves once an fsync of `directory` that started after this call has completed. */
export type DirectorySync = (directory: string) => Promise<void>;

interface Queue {
  running: Promise<void>;
  waiting?: Promise<void>;
}

/** Creates a coalescing directory syncer. */
export function createDirectorySync(): DirectorySync {
  const queues = new Map<string, Queue>();

  function start(directory: string, queue: Queue | undefined): Promise<void> {
    const running = fsyncDirectory(directory).finally(() => {
      const current = queues.get(directory);
      if (current && current.running === running && !current.waiting) queues.delete(directory);
    });
    if (queue) queue.running = running;
    else queues.set(directory, { running });
    return running;
  }

  return (directory) => {
    const queue = queues.get(directory);
    if (!queue) return start(directory, undefined);
    // A sync is running, but it may have started before the caller's change: wait for the
    // next one, shared with everyone else who arrives meanwhile.
    queue.waiting ??= queue.running
      .catch(() => {})
      .then(() => {
        queue.waiting = undefined;
        return start(directory, queue);
      });
    return queue.waiting;
  };
}

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
