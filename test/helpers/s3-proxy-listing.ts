/**
 * ListObjectsV2 as S3 answers it, read from s3rver's directory by the test proxy. s3rver's own
 * listing misses a common prefix whose keys all sit two or more levels below it (it prunes the
 * directories under a prefix before looking in them): `blobs/` in a bucket holding only
 * `blobs/sha256/ab/<hex>`. AWS lists every key under the prefix, rolls the names up to the
 * delimiter, and pages through them in bytewise order with MaxKeys, StartAfter and a
 * continuation token; so does this.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import type * as http from 'node:http';
import * as path from 'node:path';

const OBJECT_SUFFIX = '._S3rver_object';

interface Listed {
  key: string;
  modTime: Date;
  size: number;
  etag: string;
}

/** Every object below `prefix` in the bucket's directory, unsorted. */
async function objectsUnder(bucketDir: string, prefix: string): Promise<Listed[]> {
  // The deepest directory every key with this prefix lies in.
  const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
  const found: Listed[] = [];
  const visit = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(bucketDir, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('._S3rver')) await visit(child);
        continue;
      }
      if (!entry.name.endsWith(OBJECT_SUFFIX)) continue;
      const key = child.slice(0, -OBJECT_SUFFIX.length);
      if (!key.startsWith(prefix)) continue;
      const file = path.join(bucketDir, child);
      const info = await stat(file).catch(() => undefined);
      if (!info) continue;
      const etag = (await readFile(`${file}.md5`, 'utf8').catch(() => '')).trim();
      found.push({ key, modTime: info.mtime, size: info.size, etag });
    }
  };
  await visit(dir);
  return found;
}

/** Answers a ListObjectsV2 request for the bucket kept in `bucketDir`. */
export async function listObjectsV2(
  res: http.ServerResponse,
  bucket: string,
  bucketDir: string,
  query: URLSearchParams,
): Promise<void> {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.min(Number(query.get('max-keys') ?? 1000), 1000);
  const token = query.get('continuation-token');
  const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (query.get('start-after') ?? '');
  const names = new Map<string, Listed | undefined>();
  for (const object of await objectsUnder(bucketDir, prefix)) {
    const rest = object.key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    if (cut < 0) names.set(object.key, object);
    else names.set(prefix + rest.slice(0, cut + delimiter.length), undefined);
  }
  // Names roll up before paging, so a token (the last name answered) skips a whole prefix.
  const sorted = [...names.keys()]
    .filter((name) => name > after)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const page = sorted.slice(0, maxKeys);
  const truncated = sorted.length > page.length;
  const contents = page.flatMap((name) => {
    const object = names.get(name);
    if (!object) return [];
    return [
      `<Contents><Key>${escapeXml(object.key)}</Key><LastModified>${object.modTime.toISOString()}</LastModified><ETag>"${object.etag}"</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    ];
  });
  const prefixes = page
    .filter((name) => names.get(name) === undefined)
    .map((name) => `<CommonPrefixes><Prefix>${escapeXml(name)}</Prefix></CommonPrefixes>`);
  const next = truncated
    ? `<NextContinuationToken>${Buffer.from(page[page.length - 1] as string).toString('base64url')}</NextContinuationToken>`
    : '';
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${escapeXml(delimiter)}</Delimiter>` : ''}<IsTruncated>${truncated}</IsTruncated>${contents.join('')}${prefixes.join('')}${next}</ListBucketResult>`;
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** Text for an XML element. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}
