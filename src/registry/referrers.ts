/**
 * The referrers index: for each subject digest, the descriptors of the manifests in the
 * repository whose `subject` names it. Entries are written when such a manifest is pushed
 * and removed when it is deleted, so a listing never has to scan every manifest.
 */
import { isNotFound, type StorageDriver } from '../blobstore/driver.js';
import { referrerPath, referrersPath } from '../blobstore/layout.js';
import type { Digest } from './digest.js';
import type { Descriptor } from './manifest-parse.js';
import type { RepositoryName } from './names.js';
import { asciiOrder } from './tags.js';

/** A referrer as the referrers API lists it. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Referrers index operations. */
export interface ReferrerService {
  /** Referrers of `subject`, optionally only those of one artifact type; empty when none. */
  list(name: RepositoryName, subject: Digest, artifactType?: string): Promise<ReferrerDescriptor[]>;
  record(name: RepositoryName, subject: Descriptor, referrer: ReferrerDescriptor): Promise<void>;
  remove(name: RepositoryName, subject: Digest, referrer: Digest): Promise<void>;
}

/** Creates the referrers index service. */
export function createReferrerService(driver: StorageDriver): ReferrerService {
  return {
    async list(name, subject, artifactType) {
      let entries: string[];
      try {
        entries = await driver.list(referrersPath(name, subject));
      } catch (err) {
        if (isNotFound(err)) return [];
        throw err;
      }
      const descriptors = await Promise.all(
        entries.map((entry) => readDescriptor(driver, `${referrersPath(name, subject)}/${entry}`)),
      );
      return descriptors
        .filter((d): d is ReferrerDescriptor => d !== undefined)
        .filter((d) => artifactType === undefined || d.artifactType === artifactType)
        .sort((a, b) => asciiOrder(a.digest, b.digest));
    },

    async record(name, subject, referrer) {
      await driver.putContent(
        referrerPath(name, subject.digest, referrer.digest),
        Buffer.from(JSON.stringify(referrer)),
      );
    },

    async remove(name, subject, referrer) {
      try {
        await driver.delete(referrerPath(name, subject, referrer));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}

async function readDescriptor(driver: StorageDriver, path: string): Promise<ReferrerDescriptor | undefined> {
  try {
    return JSON.parse((await driver.getContent(path)).toString('utf8')) as ReferrerDescriptor;
  } catch (err) {
    // Removed between list and read: a concurrent delete of that referrer.
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
