/**
 * The image commands' output: `berth agent images` (a table), `inspect` (JSON) and `rmi`.
 */
import type { TextOut } from '../cli/io.js';
import type { ImageRecord } from './image.js';
import { humanSize } from './progress.js';
import { humanDuration } from './ps.js';
import type { AgentStore } from './store.js';

/** `berth agent images`: one row per image record, most recently pulled first. */
export async function listImagesTable(
  store: AgentStore,
  out: TextOut,
  now: number = Date.now(),
): Promise<void> {
  const header = ['REPOSITORY', 'TAG', 'IMAGE ID', 'PULLED', 'SIZE'];
  const rows = (await store.listImages()).map((record) => [
    displayName(record),
    record.tag ?? '<none>',
    record.configDigest.slice(7, 19),
    `${humanDuration(now - Date.parse(record.pulledAt))} ago`,
    humanSize(record.size),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  for (const row of [header, ...rows]) {
    out.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column] as number))
        .join('   ')
        .trimEnd()}\n`,
    );
  }
}

/** `berth agent inspect IMAGE`: the record and the image config as one JSON document. */
export async function inspectImage(store: AgentStore, reference: string, out: TextOut): Promise<void> {
  const record = await store.getImage(reference);
  if (!record) throw new Error(`no such image: ${reference}`);
  const config = await store.readJson(record.configDigest);
  out.write(`${JSON.stringify({ id: record.configDigest, ...record, config }, null, 2)}\n`);
}

/**
 * `berth agent rmi IMAGE`: removes the record of a reference, or every record of an image ID,
 * and returns them; throws when nothing matches. Blobs stay until prune.
 */
export async function removeImage(store: AgentStore, reference: string): Promise<ImageRecord[]> {
  const removed = await store.removeImage(reference);
  if (removed.length === 0) throw new Error(`no such image: ${reference}`);
  return removed;
}

/** Docker's short form: Hub library images as `alpine`, other Hub images without `docker.io/`. */
function displayName(record: ImageRecord): string {
  if (record.registry !== 'docker.io') return `${record.registry}/${record.repository}`;
  return record.repository.replace(/^library\//, '');
}
