/**
 * Tag history: every move of a tag (a push, a delete, a rollback) as one object of its own,
 * never a read-modify-write of a shared one, so replicas moving one tag at once each add
 * their entry and none is lost. Entry names start with the inverted time, so a plain listing
 * is newest first and a page is one listing call plus one read per entry.
 */
import { randomBytes } from 'node:crypto';
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { tagHistoryEntryPath, tagHistoryPath } from '../blobstore/layout.js';
import { type Digest, parseDigest } from './digest.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from './limited.js';
import type { RepositoryName, Tag } from './names.js';
import { directoryEntries, type Page, type PageRequest, readPage } from './pagination.js';

/** What moved a tag; `retention` is a delete by the retention rules (docs/retention.md). */
export type TagAction = 'push' | 'delete' | 'rollback' | 'retention';

/** Who moved a tag, and from where. */
export interface Actor {
  /** The user or robot name of the request's auth; `anonymous` when none. */
  name: string;
  /** The client address, as the access log shows it. */
  address: string;
}

/** The actor of moves made without a request to name one (tests, tools). */
export const UNKNOWN_ACTOR: Actor = { name: 'anonymous', address: '' };

/** One recorded move. */
export interface HistoryEntry {
  /** The entry's name: `last` of the next page starts after it. */
  id: string;
  /** The digest the tag was moved to; for a delete, the digest it pointed at. */
  digest: Digest;
  action: TagAction;
  /** RFC 3339. */
  time: string;
  actor: string;
  address: string;
}

/** A move to record. */
export interface TagMove {
  digest: Digest;
  action: TagAction;
  actor: Actor;
}

/** Reading and writing tag histories. */
export interface TagHistory {
  /** Adds one entry for a move made now; resolves with the entry's id. */
  record(name: RepositoryName, tag: Tag, move: TagMove): Promise<string>;
  /** One page, newest first; `last` is an entry id. An empty page when there is no history. */
  page(name: RepositoryName, tag: Tag, request: PageRequest): Promise<Page<HistoryEntry>>;
}

/** Creates the history store over a driver; `now` gives milliseconds since the epoch. */
export function createTagHistory(driver: StorageDriver, now: () => number = Date.now): TagHistory {
  return {
    async record(name, tag, { digest, action, actor }) {
      const at = now();
      const body = {
        digest,
        action,
        time: new Date(at).toISOString(),
        actor: actor.name,
        address: actor.address,
      };
      const id = entryId(at);
      await driver.putContent(tagHistoryEntryPath(name, tag, id), Buffer.from(JSON.stringify(body)));
      return id;
    },

    async page(name, tag, request) {
      const ids = await readPage(
        {
          read: directoryEntries(driver, tagHistoryPath(name, tag)),
          position: (last) => last,
          item: (entry) => (ENTRY_ID.test(entry) ? entry : undefined),
        },
        request,
      );
      const entries: Array<HistoryEntry | undefined> = [];
      await forEachLimited(ids.items, LOOKUPS_IN_FLIGHT, async (id, i) => {
        entries[i] = await readEntry(driver, name, tag, id);
      });
      // An entry expired between listing and reading is simply gone.
      return { items: entries.filter((entry) => entry !== undefined), more: ids.more };
    },
  };
}

/**
 * The digest a tag pointed at right after `entry`: the entry's digest, or nothing after a
 * delete (by a user or by retention).
 */
export function valueAfter(entry: HistoryEntry): Digest | undefined {
  return entry.action === 'delete' || entry.action === 'retention' ? undefined : entry.digest;
}

/** When the move an entry id names was made (ms), or undefined for a name Berth did not write. */
export function entryTime(id: string): number | undefined {
  return ENTRY_ID.test(id) ? LAST_MS - Number(id.slice(0, 13)) : undefined;
}

/** Reads one entry; undefined when it is gone or not Berth's. */
export async function readEntry(
  driver: StorageDriver,
  name: RepositoryName,
  tag: Tag,
  id: string,
): Promise<HistoryEntry | undefined> {
  const content = await orMissing(driver.getContent(tagHistoryEntryPath(name, tag, id)), undefined);
  return content && entryOf(id, content);
}

/** Far enough ahead (the year 2286) that every inverted time has the same 13 digits. */
const LAST_MS = 9_999_999_999_999;
const ENTRY_ID = /^\d{13}-[0-9a-f]{12}$/;
const ACTIONS: ReadonlySet<string> = new Set<TagAction>(['push', 'delete', 'rollback', 'retention']);

function entryId(at: number): string {
  return `${String(LAST_MS - at).padStart(13, '0')}-${randomBytes(6).toString('hex')}`;
}

function entryOf(id: string, content: Buffer): HistoryEntry | undefined {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
    parseDigest(String(body.digest));
  } catch {
    // Not written by Berth, or cut short: not an entry.
    return undefined;
  }
  const { digest, action, time, actor, address } = body;
  if (typeof action !== 'string' || !ACTIONS.has(action)) return undefined;
  return {
    id,
    digest: parseDigest(String(digest)),
    action: action as TagAction,
    time: typeof time === 'string' ? time : '',
    actor: typeof actor === 'string' ? actor : '',
    address: typeof address === 'string' ? address : '',
  };
}
