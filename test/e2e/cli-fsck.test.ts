/**
 * `./bin/berth fsck` as a process against the store a running server uses: clean, then a
 * damaged blob found (exit 1), repaired (exit 0), and usage errors (exit 2).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushImage } from '../helpers/oci.js';
import { BERTH_BIN, type BerthProcess, CLI_ENV, startBerthProcess } from './helpers/berth-process.js';
import { run } from './helpers/run.js';

describe('berth fsck', () => {
  let berth: BerthProcess;
  before(async () => {
    berth = await startBerthProcess();
  });
  after(() => berth.close());
  const env = () => ({ ...CLI_ENV, BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: berth.root });

  it('is clean, then finds a corrupted blob (exit 1), and --repair quarantines it (exit 0)', async () => {
    const image = await pushImage(berth.url, 'fsck/app', 'v1');
    const clean = await run(BERTH_BIN, ['fsck'], { env: env() });
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /: 0 broken, 0 leftovers\nclean\n$/);

    const hex = image.layer.digest.slice('sha256:'.length);
    await writeFile(path.join(berth.root, 'blobs', 'sha256', hex.slice(0, 2), hex), 'not the layer');
    const found = await run(BERTH_BIN, ['fsck'], { env: env() });
    assert.equal(found.code, 1, found.stderr);
    assert.match(
      found.stdout,
      new RegExp(`^KIND +ITEM +PROBLEM\\n(.*\\n)*blob +${image.layer.digest} +its bytes hash to`),
    );
    assert.match(found.stdout, /not clean: run berth fsck --repair\n$/);

    const repaired = await run(BERTH_BIN, ['fsck', '--repair', '--json'], { env: env() });
    assert.equal(repaired.code, 0, repaired.stderr);
    const report = JSON.parse(repaired.stdout) as { clean: boolean; broken: Array<{ action: string }> };
    assert.equal(report.clean, true);
    assert.equal(report.broken.length, 3, 'the blob, the manifest and its tag');
    assert.equal((await fetch(`${berth.url}/v2/fsck/app/manifests/v1`)).status, 404);
    const again = await run(BERTH_BIN, ['fsck'], { env: env() });
    assert.equal(again.code, 0, again.stdout);
  });

  it('a bad flag or value is a usage error (exit 2) naming it', async () => {
    const flag = await run(BERTH_BIN, ['fsck', '--fix'], { env: env() });
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /fsck: unexpected argument "--fix"/);
    const age = await run(BERTH_BIN, ['fsck', '--older-than', 'soon'], { env: env() });
    assert.equal(age.code, 2);
    assert.match(age.stderr, /--older-than: /);
  });
});
