/**
 * Quarantine: moving a broken item out of the registry's view, to
 * `/quarantine/<run>/<original path>`, destroying nothing.
 *
 * Small objects (tags, revisions, referrers entries, layer links) are moved. A blob's bytes
 * are copied and then deleted instead: on S3 a move would keep the same data object under a
 * new pointer, and a replica whose pointer cache still names it would go on serving the
 * corrupt bytes, even after the blob was pushed again. Deleting the original removes that
 * data object, so every replica finds its cached pointer dead and reads the new one.
 */
import { randomUUID } from 'node:crypto';
import { orMissing, type StagedObject, type StorageDriver } from '../blobstore/driver.js';
import { quarantinePath, quarantineStagingPath } from '../blobstore/layout.js';

/** Where one repair run puts what it quarantines. */
export interface Quarantine {
  /** Moves a small object; false when it was gone already. */
  object(path: string): Promise<boolean>;
  /** Copies a blob's bytes into quarantine, then deletes them; false when they were gone already. */
  blob(path: string): Promise<boolean>;
}

/** The quarantine of repair run `run`. */
export function createQuarantine(driver: StorageDriver, run: string): Quarantine {
  return {
    async object(path) {
      return orMissing(
        driver.move(path, quarantinePath(run, path)).then(() => true),
        false,
      );
    },

    async blob(path) {
      const source = await orMissing(driver.reader(path), undefined);
      if (!source) return false;
      let staged: StagedObject = await driver.staged.start(quarantineStagingPath(run, randomUUID()));
      try {
        staged = await driver.staged.write(staged, source);
        await driver.staged.commit(staged, quarantinePath(run, path));
      } catch (err) {
        await driver.staged.discard(staged);
        throw err;
      }
      await orMissing(driver.delete(path), undefined);
      return true;
    },
  };
}
