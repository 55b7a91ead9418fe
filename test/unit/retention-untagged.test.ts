import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/registry/digest.js';
import { type ManifestFacts, type RepositoryManifests, untaggedToGo } from '../../src/retention/untagged.js';

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}` as Digest;
const DAY = 86_400_000;
const NOW = 100 * DAY;
const POLICY = { age: 14 * DAY, now: NOW };
const OLD = NOW - 30 * DAY;

/** A manifest written at `modTime` naming `children` (index children). */
function manifest(children: Digest[] = [], modTime = OLD): ManifestFacts {
  return { references: { blobs: [], manifests: children }, modTime };
}

function repository(
  manifests: Array<[Digest, ManifestFacts]>,
  tags: Array<[string, Digest]> = [],
  referrers: Array<[Digest, Digest[]]> = [],
  history?: Digest[],
): RepositoryManifests {
  return {
    tags: new Map(tags),
    manifests: new Map(manifests),
    referrers: new Map(referrers),
    ...(history ? { history } : {}),
  };
}

describe('untagged manifests retention lets go', () => {
  it('old untagged manifests go, tagged ones stay', () => {
    const repo = repository(
      [
        [d(1), manifest()],
        [d(2), manifest()],
        [d(3), manifest()],
      ],
      [['latest', d(2)]],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(1), d(3)]);
  });

  it('untagged manifests younger than the age stay; exactly the age counts as young', () => {
    const repo = repository([
      [d(1), manifest([], NOW - DAY)],
      [d(2), manifest([], NOW - 14 * DAY)],
      [d(3), manifest([], NOW - 14 * DAY - 1)],
    ]);
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(3)]);
  });

  it('the children of a tagged index stay, through nested indexes', () => {
    const repo = repository(
      [
        [d(10), manifest([d(11), d(12)])],
        [d(11), manifest()],
        [d(12), manifest([d(13)])],
        [d(13), manifest()],
        [d(14), manifest()],
      ],
      [['v1', d(10)]],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(14)]);
  });

  it('the children of an untagged index that goes go too; of a young one they stay', () => {
    const repo = repository([
      [d(10), manifest([d(11)])],
      [d(11), manifest()],
      [d(20), manifest([d(21)], NOW - DAY)],
      [d(21), manifest()],
    ]);
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(10), d(11)]);
  });

  it('a child shared with a kept index stays even when another index naming it goes', () => {
    const repo = repository(
      [
        [d(10), manifest([d(12)])],
        [d(11), manifest([d(12)])],
        [d(12), manifest()],
      ],
      [['kept', d(10)]],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(11)]);
  });

  it('referrers of a kept manifest stay, and so do signatures of those referrers', () => {
    const repo = repository(
      [
        [d(1), manifest()],
        [d(2), manifest()],
        [d(3), manifest()],
        [d(4), manifest()],
      ],
      [['latest', d(1)]],
      [
        [d(1), [d(2)]],
        [d(2), [d(3)]],
      ],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(4)]);
  });

  it('referrers of an index child stay with the tagged index', () => {
    const repo = repository(
      [
        [d(10), manifest([d(11)])],
        [d(11), manifest()],
        [d(12), manifest()],
      ],
      [['latest', d(10)]],
      [[d(11), [d(12)]]],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), []);
  });

  it('a referrer whose subject goes goes too, with its own signature', () => {
    const repo = repository(
      [
        [d(1), manifest()],
        [d(2), manifest()],
        [d(3), manifest()],
      ],
      [],
      [
        [d(1), [d(2)]],
        [d(2), [d(3)]],
      ],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(1), d(2), d(3)]);
  });

  it('a young referrer stays without keeping its old subject', () => {
    const repo = repository(
      [
        [d(1), manifest()],
        [d(2), manifest([], NOW - DAY)],
      ],
      [],
      [[d(1), [d(2)]]],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(1)]);
  });

  it('a tagged referrer (a cosign .sig tag) stays without keeping its subject', () => {
    const repo = repository(
      [
        [d(1), manifest()],
        [d(2), manifest()],
      ],
      [['sha256-1.sig', d(2)]],
      [[d(1), [d(2)]]],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(1)]);
  });

  it('manifests named by kept history entries stay, with their children and referrers', () => {
    const repo = repository(
      [
        [d(10), manifest([d(11)])],
        [d(11), manifest()],
        [d(12), manifest()],
        [d(13), manifest()],
      ],
      [],
      [[d(10), [d(12)]]],
      [d(10)],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(13)]);
  });

  it('a repository with a manifest that could not be read keeps every manifest', () => {
    const repo = repository([
      [d(1), manifest()],
      [d(2), { references: undefined, modTime: OLD }],
    ]);
    assert.deepEqual(untaggedToGo(repo, POLICY), []);
  });

  it('tags naming absent manifests and cycles of references do no harm', () => {
    const repo = repository(
      [
        [d(1), manifest([d(2)])],
        [d(2), manifest([d(1)])],
        [d(3), manifest()],
      ],
      [
        ['gone', d(9)],
        ['a', d(1)],
      ],
      [[d(2), [d(1)]]],
    );
    assert.deepEqual(untaggedToGo(repo, POLICY), [d(3)]);
  });

  it('an empty repository has nothing to let go', () => {
    assert.deepEqual(untaggedToGo(repository([]), POLICY), []);
  });
});
