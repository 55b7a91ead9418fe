/**
 * The referrers index: for each subject digest, the descriptors of the manifests in the
 * repository whose `subject` names it. Entries are written when such a manifest is pushed
 * and removed when it is deleted, so a listing never has to scan every manifest.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
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
      const entries = await orMissing(driver.list(referrersPath(name, subject)), []);
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
      await orMissing(driver.delete(referrerPath(name, subject, referrer)), undefined);
    },
  };
}

async function readDescriptor(driver: StorageDriver, path: string): Promise<ReferrerDescriptor | undefined> {
  // Missing means removed between list and read: a concurrent delete of that referrer.
  const content = await orMissing(driver.getContent(path), undefined);
  return content && (JSON.parse(content.toString('utf8')) as ReferrerDescriptor);
}
