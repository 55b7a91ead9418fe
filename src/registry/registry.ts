/**
 * The registry: the domain services wired over one storage driver. Routes talk only to
 * this; nothing above it knows how or where things are stored.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import type { Logger } from '../log/logger.js';
import { type BlobService, createBlobService } from './blobs.js';
import { createMemoryCache, createNullCache, DEFAULT_CACHE_TTL } from './cache.js';
import { type CatalogFilter, catalogPage } from './catalog.js';
import { type ImmutableTagRule, immutableTags } from './immutable-tags.js';
import { createKeyedLock } from './locks.js';
import type { ManifestLimits } from './manifest-parse.js';
import { createManifestService, type ManifestService } from './manifests.js';
import type { RepositoryName } from './names.js';
import type { Page, PageRequest } from './pagination.js';
import { createPullRecorder, type PullRecorder } from './pull-records.js';
import { createReferrerService, type ReferrerService } from './referrers.js';
import { createRepositoryDelete, type DeleteRepository } from './repository-delete.js';
import { type SpaceWatchOptions, type StorageSpace, watchStorageSpace } from './storage-space.js';
import { createTagHistory, type TagHistory } from './tag-history.js';
import { createTagRollback, type RollbackTag } from './tag-rollback.js';
import { createTagService, type TagService } from './tags.js';
import { createReferenceGuard, DEFAULT_GC_DELETE_DELAY_MS } from './tombstones.js';
import { purgeIdleUploads } from './upload-purge.js';
import { createUploadService, type UploadService } from './uploads.js';

/** The registry's services. */
export interface Registry {
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  tags: TagService;
  referrers: ReferrerService;
  /** Every move of every tag. */
  history: TagHistory;
  /** When tags were last pulled, for retention's `keep.pulledwithin`. */
  pulls: PullRecorder;
  /** Moves a tag back to an earlier digest, recorded as a move of its own. */
  rollbackTag: RollbackTag;
  /** Deletes a repository's tags, history, manifests, links and uploads; not blob data. */
  deleteRepository: DeleteRepository;
  /** One page of the repositories `visible` lets through, in ASCII order. */
  catalog(request: PageRequest, visible: CatalogFilter): Promise<Page<RepositoryName>>;
  /** Resolves when storage answers; rejects with the storage error otherwise. */
  checkStorage(): Promise<void>;
  /** What is known about storage space, learnt from refused writes. */
  space: StorageSpace;
  /** Deletes upload sessions idle since before `cutoff` (only counts them with dryRun); returns how many. */
  purgeUploads(cutoff: Date, options?: { dryRun?: boolean }): Promise<number>;
}

/** Options of createRegistry. */
export interface RegistryOptions {
  driver: StorageDriver;
  deleteEnabled: boolean;
  /** `inmemory` caches metadata (docs/caches.md); `none` reads storage every time. */
  cache: 'inmemory' | 'none';
  /** How long repository facts are trusted, in ms (`storage.cache.ttl`, default 1 s). */
  cacheTtl?: number;
  /** Memory budget of the cache in bytes (`storage.cache.maxmemory`, default 32 MiB). */
  cacheMaxMemory?: number;
  /** Bounds every pushed manifest must keep (`validation.manifests.*`). */
  manifestLimits: ManifestLimits;
  /** `tags.immutable`: tags that are written once. */
  immutableTags?: readonly ImmutableTagRule[];
  onTransfer?: (delta: 1 | -1) => void;
  /** Hooks for writes refused for lack of space (metrics, a log line). */
  storageFull?: SpaceWatchOptions;
  /** `gc.deletedelay` in ms: bounds the tombstone check of writes that create references. */
  gcDeleteDelay?: number;
  /** False only for the test that shows what the tombstone check prevents. */
  tombstoneCheck?: boolean;
  /** True when GC may delete untagged manifests of a repository (`retention.rules`). */
  collectsUntagged?: (name: RepositoryName) => boolean;
  /** Where background failures (a pull record not written) are reported. */
  logger?: Pick<Logger, 'debug'>;
  /** Milliseconds since the epoch, for pull records; injected by tests. */
  now?: () => number;
}

/** Wires the registry services over a driver. */
export function createRegistry(options: RegistryOptions): Registry {
  const { deleteEnabled } = options;
  const { driver, space } = watchStorageSpace(options.driver, options.storageFull);
  const cache =
    options.cache === 'inmemory'
      ? createMemoryCache({ ttl: options.cacheTtl, maxMemory: options.cacheMaxMemory })
      : createNullCache();
  const guard = createReferenceGuard({
    driver,
    deleteDelayMs: options.gcDeleteDelay ?? DEFAULT_GC_DELETE_DELAY_MS,
    cacheTtlMs: options.cache === 'inmemory' ? (options.cacheTtl ?? DEFAULT_CACHE_TTL) : 0,
    enabled: options.tombstoneCheck ?? true,
  });
  const blobs = createBlobService({ driver, cache, deleteEnabled, guard });
  const history = createTagHistory(driver);
  const tags = createTagService(driver, cache, {
    history,
    immutable: immutableTags(options.immutableTags ?? []),
  });
  const referrers = createReferrerService(driver);
  const uploads = createUploadService({
    driver,
    blobs,
    lock: createKeyedLock(),
    guard,
    ...(options.onTransfer ? { onTransfer: options.onTransfer } : {}),
  });
  const manifests = createManifestService({
    driver,
    cache,
    blobs,
    tags,
    referrers,
    deleteEnabled,
    limits: options.manifestLimits,
    guard,
    ...(options.collectsUntagged ? { collectsUntagged: options.collectsUntagged } : {}),
  });
  return {
    blobs,
    uploads,
    manifests,
    tags,
    referrers,
    history,
    pulls: createPullRecorder({
      driver,
      paused: () => space.fullSince() !== undefined,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.now ? { now: options.now } : {}),
    }),
    rollbackTag: createTagRollback({
      tags,
      history,
      describe: manifests.describe,
      guard,
      ...(options.collectsUntagged ? { collectsUntagged: options.collectsUntagged } : {}),
    }),
    deleteRepository: createRepositoryDelete({ driver, cache, deleteEnabled }),
    space,
    catalog: (request, visible) => catalogPage(driver, request, visible),
    async checkStorage() {
      await driver.list('/');
    },
    purgeUploads: (cutoff, options) => purgeIdleUploads(driver, cutoff, options),
  };
}
