import assert from 'node:assert/strict';
import { access, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { leasePath } from '../../src/blobstore/layout.js';
import { STALE_TEMP_FILE_AGE_MS, tempFileName } from '../../src/blobstore/temp-files.js';
import { ON_FILESYSTEM, startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir, writeAgedFile } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const PURGING_EVERY_SECOND = {
  storage: { maintenance: { uploadpurging: { enabled: true, interval: '1s' } } },
};

function logged(server: TestServer, message: string): boolean {
  return server.logs.some((line) => (JSON.parse(line) as { msg: string }).msg === message);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe('storage maintenance', () => {
  it('a purge run on a fresh, empty store finishes without logging an error', async () => {
    const server = await startTestServer({ config: PURGING_EVERY_SECOND });
    try {
      await waitFor(
        () => logged(server, 'upload purge finished') || logged(server, 'upload purge failed'),
        30_000,
      );
      assert.deepEqual(
        server.logs.filter((line) => line.includes('"level":"error"')),
        [],
        'an empty store is normal',
      );
    } finally {
      await server.close();
    }
  });

  it('sweeps temp files older than the bound at start-up and on each run, never fresh ones', async () => {
    const root = await tempDir('berth-sweep-');
    const tags = path.join(root, 'repositories/team/app/_manifests/tags');
    const leftover = path.join(tags, tempFileName());
    const fresh = path.join(tags, tempFileName());
    await writeAgedFile(leftover, STALE_TEMP_FILE_AGE_MS + 60_000);
    await writeAgedFile(fresh, 0);
    // Temp files are the filesystem driver's own: this test is about that driver.
    const onFilesystem = { storage: { ...PURGING_EVERY_SECOND.storage, ...ON_FILESYSTEM } };
    const server = await startTestServer({ root, config: onFilesystem });
    try {
      await waitFor(async () => !(await exists(leftover)), 30_000);
      const later = path.join(root, 'blobs/sha256/ab', tempFileName());
      await writeAgedFile(later, 2 * STALE_TEMP_FILE_AGE_MS);
      await waitFor(async () => !(await exists(later)), 30_000);
      assert.deepEqual(await readdir(tags), [path.basename(fresh)]);
      assert.ok(logged(server, 'removed stale temp files'));
    } finally {
      await server.close();
    }
  });

  it('skips purge runs while another process holds their lease, and runs once it is given back', async () => {
    const server = await startTestServer({ config: PURGING_EVERY_SECOND });
    const count = (message: string) =>
      server.logs.filter((line) => (JSON.parse(line) as { msg: string }).msg === message).length;
    const skipped = () => count('upload purge skipped: another process runs it');
    const finished = () => count('upload purge finished');
    try {
      // Through the server's own driver, so this runs on every backend.
      const held = { holder: 'another-replica', until: Date.now() + 10 * 60_000 };
      await server.driver.putContent(leasePath('upload-purge'), Buffer.from(JSON.stringify(held)));
      await waitFor(() => skipped() > 0, 30_000);
      const finishedWhileHeld = finished();
      const skippedSoFar = skipped();
      await waitFor(() => skipped() >= skippedSoFar + 2, 30_000);
      assert.equal(finished(), finishedWhileHeld, 'no run while the lease is held elsewhere');
      await server.driver.putContent(
        leasePath('upload-purge'),
        Buffer.from(JSON.stringify({ ...held, until: 0 })),
      );
      await waitFor(() => finished() > finishedWhileHeld, 30_000);
    } finally {
      await server.close();
    }
  });
});
