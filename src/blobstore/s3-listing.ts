/**
 * Directories on S3, which has none: a directory is a key prefix ending in `/`. `list` is one
 * delimited listing (paged with StartAfter), `walk` one flat listing of the prefix with the
 * directories synthesised from the keys, and a tree delete lists and deletes in batches.
 *
 * Order: S3 lists keys bytewise, so `walk` visits `a-b` before the directory `a` (whose keys
 * are `a/...`, and `-` sorts before `/`); the filesystem driver visits `a` first. Only names
 * with characters below `/` differ, and nothing relies on the order between such siblings.
 */
import type { _Object } from '@aws-sdk/client-s3';
import { type FileInfo, PathNotFoundError, type ScannedObject, type WalkVisitor } from './driver.js';
import { deleteKeys, hasKeysBelow, headObject, listPages } from './s3-objects.js';
import { type Pointer, type PointerCache, pointerOf, pointerVersion } from './s3-pointers.js';
import type { S3Store } from './s3-store.js';

/** Names of the children of `path`, sorted; one page of them with `after`/`limit`. */
export async function listNames(
  store: S3Store,
  path: string,
  page: { after?: string; limit?: number } = {},
): Promise<string[]> {
  const prefix = store.prefixOf(path);
  const { after, limit } = page;
  const names = new Set<string>();
  const pages = listPages(store, path, {
    Prefix: prefix,
    Delimiter: '/',
    ...(after !== undefined ? { StartAfter: prefix + after } : {}),
    ...(limit !== undefined ? { MaxKeys: Math.max(1, Math.min(limit, 1000)) } : {}),
  });
  for await (const out of pages) {
    for (const entry of out.Contents ?? []) names.add((entry.Key ?? '').slice(prefix.length));
    for (const common of out.CommonPrefixes ?? []) names.add((common.Prefix ?? '').slice(prefix.length, -1));
    if (limit !== undefined && countAfter(names, after) >= limit) break;
  }
  // StartAfter `a` still lists the directory `a` (its keys `a/...` sort after `a`); and some
  // stores return common prefixes past MaxKeys, so sort what came and cut the page here.
  const sorted = [...names].filter((name) => name !== '' && (after === undefined || name > after)).sort();
  const result = limit !== undefined ? sorted.slice(0, limit) : sorted;
  // The root always exists, as a storage directory does, even in a bucket with nothing yet.
  if (result.length > 0 || path === '/') return result;
  if (after === undefined || !(await hasKeysBelow(store, path, prefix))) throw new PathNotFoundError(path);
  return result;
}

function countAfter(names: Set<string>, after: string | undefined): number {
  if (after === undefined) return names.size;
  let count = 0;
  for (const name of names) if (name > after) count += 1;
  return count;
}

/** Past every key below a prefix that ends in `/`: keys are UTF-8, and this is its largest character. */
const PAST_PREFIX = '\u{10FFFF}';

/** Visits everything below `path` in key order, directories before their contents. */
export async function walkTree(store: S3Store, path: string, visit: WalkVisitor): Promise<void> {
  const prefix = store.prefixOf(path);
  const base = path === '/' ? '' : path;
  let chain: string[] = [];
  let visited = false;

  /** Walks from a key on; resolves with where to go on after a skipped directory, if one was. */
  async function walkFrom(startAfter: string | undefined): Promise<string | undefined> {
    const pages = listPages(store, path, {
      Prefix: prefix,
      ...(startAfter ? { StartAfter: startAfter } : {}),
    });
    for await (const out of pages) {
      for (const entry of await describeAll(store, out.Contents ?? [])) {
        const parts = entry.key.slice(prefix.length).split('/');
        const name = parts.pop() as string;
        let common = 0;
        while (common < chain.length && chain[common] === parts[common]) common += 1;
        chain = chain.slice(0, common);
        for (const directory of parts.slice(common)) {
          chain.push(directory);
          visited = true;
          const decision = await visit(directoryInfo(`${base}/${chain.join('/')}`, entry.modTime));
          if (decision === 'skip') return `${prefix}${chain.join('/')}/${PAST_PREFIX}`;
        }
        // A key ending in `/` is a folder marker some tools create, not an object.
        if (name === '') continue;
        visited = true;
        await visit(fileInfo(`${base}/${[...parts, name].join('/')}`, entry));
      }
    }
    return undefined;
  }

  for (let next = await walkFrom(undefined); next !== undefined; next = await walkFrom(next));
  if (!visited) throw new PathNotFoundError(path);
}

/** Every object below `path` from flat listings, without asking about any of them. */
export async function* scanKeys(store: S3Store, path: string): AsyncGenerator<ScannedObject> {
  const prefix = store.prefixOf(path);
  for await (const out of listPages(store, path, { Prefix: prefix })) {
    for (const entry of out.Contents ?? []) {
      const key = entry.Key ?? '';
      // A key ending in `/` is a folder marker some tools create, not an object.
      if (key.endsWith('/')) continue;
      yield { path: store.pathOf(key), modTime: entry.LastModified ?? new Date(0) };
    }
  }
}

/**
 * Deletes every object below `path`, and the data of the pointers among them (data first, so
 * a reader never follows a pointer to nothing but finds the pointer gone). Resolves false when
 * there was nothing below `path`.
 */
export async function deleteTree(store: S3Store, path: string, pointers: PointerCache): Promise<boolean> {
  const prefix = store.prefixOf(path);
  let found = false;
  for await (const out of listPages(store, path, { Prefix: prefix })) {
    const entries = await describeAll(store, out.Contents ?? []);
    if (entries.length === 0) continue;
    found = true;
    const data = entries.flatMap((entry) => (entry.pointer ? [store.key(entry.pointer.data)] : []));
    await deleteKeys(store, data, path);
    await deleteKeys(
      store,
      entries.map((entry) => entry.key),
      path,
    );
    for (const entry of entries) pointers.forget(store.pathOf(entry.key));
  }
  return found;
}

/** A listed object, with the pointer it is when it is one. */
export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  modTime: Date;
  pointer?: Pointer;
}

/** Heads at once per page of a listing, to tell pointers among the empty objects. */
export const HEADS_AT_ONCE = 16;

/**
 * The listed objects, with pointers recognised: a listing shows no metadata, so every empty
 * object (a pointer, or a marker such as a layer link) is asked about with a HEAD.
 */
export async function describeAll(store: S3Store, contents: _Object[]): Promise<ListedObject[]> {
  const listed = contents.map((entry) => ({
    key: entry.Key ?? '',
    size: entry.Size ?? 0,
    etag: entry.ETag ?? '',
    modTime: entry.LastModified ?? new Date(0),
  }));
  const empty = listed.filter((entry) => entry.size === 0 && !entry.key.endsWith('/'));
  for (let start = 0; start < empty.length; start += HEADS_AT_ONCE) {
    await Promise.all(
      empty.slice(start, start + HEADS_AT_ONCE).map(async (entry: ListedObject) => {
        const head = await headObject(store, store.pathOf(entry.key));
        const pointer = pointerOf(head?.metadata);
        if (pointer) entry.pointer = pointer;
      }),
    );
  }
  return listed;
}

function directoryInfo(path: string, modTime: Date): FileInfo {
  return { path, size: 0, modTime, version: '', isDir: true };
}

function fileInfo(path: string, entry: ListedObject): FileInfo {
  return {
    path,
    size: entry.pointer ? entry.pointer.size : entry.size,
    modTime: entry.modTime,
    version: entry.pointer ? pointerVersion(entry.pointer) : entry.etag,
    isDir: false,
  };
}
