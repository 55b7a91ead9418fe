import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Inventory, RepositoryInventory } from '../../src/gc/inventory.js';
import {
  emptyRepositories,
  orphanReferrerEntries,
  unreferencedBlobs,
  unreferencedLinks,
} from '../../src/gc/plan.js';
import type { Digest } from '../../src/registry/digest.js';
import type { RepositoryName } from '../../src/registry/names.js';
import type { References } from '../../src/registry/revisions.js';

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}` as Digest;
const OLD = 1_000;
const NOW = 10_000;

function repo(
  name: string,
  manifests: Array<[Digest, References | undefined]>,
  links: Digest[],
  referrers: Array<[Digest, Digest[]]> = [],
): RepositoryInventory {
  return {
    name: name as RepositoryName,
    manifests: new Map(manifests),
    links: new Map(links.map((digest) => [digest, OLD])),
    referrers: new Map(referrers),
    manifestTimes: new Map(manifests.map(([digest]) => [digest, OLD])),
    tagPaths: [],
    historyPaths: [],
    uploads: 0,
  };
}

function inventory(repositories: RepositoryInventory[], blobs: Digest[], young: Digest[] = []): Inventory {
  return {
    repositories,
    blobs: new Map([...blobs.map((b) => [b, OLD] as const), ...young.map((b) => [b, NOW] as const)]),
    catalog: new Map(repositories.map((r) => [r.name, OLD])),
  };
}

describe('GC marking', () => {
  it('a link no manifest of its repository names is unreferenced, even when another repository references the blob', () => {
    const store = inventory(
      [repo('a', [[d(10), { blobs: [d(1)], manifests: [] }]], [d(1), d(2)]), repo('b', [], [d(1)])],
      [d(1), d(2)],
    );
    const links = unreferencedLinks(store, NOW);
    assert.deepEqual(
      links.map((l) => `${l.name}@${l.digest}`),
      [`a@${d(2)}`, `b@${d(1)}`],
    );
    assert.deepEqual(unreferencedBlobs(store, links, NOW), [d(2)], 'd(1) is referenced by a manifest of a');
  });

  it('a blob held only by a link that stays is kept; one held only by doomed links goes', () => {
    const store = inventory([repo('a', [], [d(1)]), repo('b', [], [d(2)])], [d(1), d(2), d(3)]);
    const doomed = unreferencedLinks(store, NOW).filter((link) => link.name === 'b');
    assert.deepEqual(unreferencedBlobs(store, doomed, NOW), [d(2), d(3)]);
  });

  it('nothing younger than the cutoff is a candidate', () => {
    const young = repo('a', [], []);
    young.links.set(d(5), NOW);
    const store = inventory([young], [d(4)], [d(5)]);
    assert.deepEqual(unreferencedLinks(store, NOW), []);
    assert.deepEqual(unreferencedBlobs(store, [], NOW), [d(4)]);
  });

  it('a repository with a revision GC cannot read keeps all its links, and so their blobs', () => {
    const store = inventory([repo('a', [[d(10), undefined]], [d(1)])], [d(1)]);
    assert.deepEqual(unreferencedLinks(store, NOW), []);
    assert.deepEqual(unreferencedBlobs(store, [], NOW), []);
  });

  it('index children and referrers are manifests, and keep their own blobs', () => {
    const store = inventory(
      [
        repo(
          'a',
          [
            [d(10), { blobs: [], manifests: [d(11)] }],
            [d(11), { blobs: [d(1)], manifests: [] }],
            [d(12), { blobs: [d(2)], manifests: [] }],
          ],
          [d(1), d(2)],
          [[d(11), [d(12)]]],
        ),
      ],
      [d(1), d(2)],
    );
    assert.deepEqual(unreferencedLinks(store, NOW), []);
    assert.deepEqual(unreferencedBlobs(store, [], NOW), []);
  });

  it('a repository in the catalog with nothing stored is empty once its marker is old enough', () => {
    const store = inventory([repo('kept', [], [d(1)])], [d(1)]);
    store.catalog.set('emptied' as RepositoryName, OLD);
    store.catalog.set('just-made' as RepositoryName, NOW);
    assert.deepEqual(emptyRepositories(store, NOW), ['emptied']);
  });

  it('a referrers entry whose referrer manifest is gone is an orphan', () => {
    const store = inventory(
      [repo('a', [[d(11), { blobs: [], manifests: [] }]], [], [[d(11), [d(12), d(11)]]])],
      [],
    );
    assert.deepEqual(orphanReferrerEntries(store), [
      `/repositories/a/_manifests/referrers/sha256/${d(11).slice(7)}/sha256-${d(12).slice(7)}`,
    ]);
  });
});
