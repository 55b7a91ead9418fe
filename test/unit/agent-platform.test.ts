import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatPlatform,
  hostPlatform,
  type IndexEntry,
  normalisePlatform,
  parsePlatform,
  platformMatches,
  selectManifest,
} from '../../src/agent/platform.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function entry(
  platform: IndexEntry['platform'],
  n: number,
  annotations?: Record<string, string>,
): IndexEntry {
  return {
    mediaType: MANIFEST,
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    size: 100 + n,
    ...(platform ? { platform } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

describe('agent platforms', () => {
  it('describes the host in OCI names', () => {
    const host = hostPlatform();
    const expectedArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
    assert.equal(host.os, process.platform === 'win32' ? 'windows' : process.platform);
    assert.equal(host.architecture, expectedArch[process.arch] ?? host.architecture);
    if (process.arch === 'arm64') assert.equal(host.variant, 'v8');
    if (process.arch === 'x64') assert.equal(host.variant, undefined);
    if (process.arch === 'arm') assert.match(host.variant ?? '', /^v[5-8]$/);
  });

  it('parses and formats --platform values', () => {
    assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(parsePlatform('Linux/ARM64'), { os: 'linux', architecture: 'arm64' });
    assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
    assert.equal(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
    for (const bad of ['linux', 'linux/', '/amd64', 'linux/arm/v7/x', '', 'linux/am d64']) {
      assert.throws(() => parsePlatform(bad), /expected os\/architecture/, bad);
    }
  });

  it('matches arm64 with or without v8, and a bare arm as arm/v7', () => {
    assert.ok(
      platformMatches(
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ),
    );
    assert.ok(
      platformMatches(
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 'arm64' },
      ),
    );
    assert.ok(
      platformMatches(
        { os: 'linux', architecture: 'arm' },
        { os: 'linux', architecture: 'arm', variant: 'v7' },
      ),
    );
    assert.ok(
      !platformMatches(
        { os: 'linux', architecture: 'arm', variant: 'v6' },
        { os: 'linux', architecture: 'arm', variant: 'v7' },
      ),
    );
    assert.ok(
      !platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }),
    );
    assert.ok(
      !platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }),
    );
    assert.ok(
      !platformMatches(
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'amd64', variant: 'v3' },
      ),
    );
    assert.ok(
      platformMatches({ os: 'linux', architecture: 'x86_64' }, { os: 'linux', architecture: 'amd64' }),
    );
    assert.ok(
      platformMatches(
        { os: 'linux', architecture: 'aarch64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ),
    );
    assert.deepEqual(normalisePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), {
      os: 'linux',
      architecture: 'arm64',
    });
  });

  it('picks the first entry for the platform from an index', () => {
    const entries = [
      entry({ os: 'linux', architecture: 'amd64' }, 1),
      entry({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 2),
      entry({ os: 'linux', architecture: 'arm', variant: 'v7' }, 3),
      entry({ os: 'linux', architecture: 'arm', variant: 'v6' }, 4),
      entry({ os: 'linux', architecture: 'amd64' }, 5),
    ];
    assert.equal(selectManifest(entries, { os: 'linux', architecture: 'amd64' }).size, 101);
    assert.equal(selectManifest(entries, { os: 'linux', architecture: 'arm64' }).size, 102);
    assert.equal(selectManifest(entries, { os: 'linux', architecture: 'arm64', variant: 'v8' }).size, 102);
    assert.equal(selectManifest(entries, { os: 'linux', architecture: 'arm' }).size, 103);
    assert.equal(selectManifest(entries, { os: 'linux', architecture: 'arm', variant: 'v6' }).size, 104);
  });

  it('skips attestations and platform-less entries, and lists what is available when nothing matches', () => {
    const entries = [
      entry({ os: 'linux', architecture: 'amd64' }, 1),
      entry({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 2),
      entry({ os: 'unknown', architecture: 'unknown' }, 3, {
        'vnd.docker.reference.type': 'attestation-manifest',
      }),
      entry(undefined, 4),
    ];
    assert.throws(
      () => selectManifest(entries, { os: 'linux', architecture: 'riscv64' }, 'example.com/app:v1'),
      (error: Error) => {
        assert.equal(
          error.message,
          'no manifest for platform linux/riscv64 in example.com/app:v1; available: linux/amd64, linux/arm64/v8',
        );
        return true;
      },
    );
    assert.throws(() => selectManifest(entries, { os: 'unknown', architecture: 'unknown' }), /available/);
    assert.throws(() => selectManifest([], { os: 'linux', architecture: 'amd64' }), /available: none/);
  });
});
