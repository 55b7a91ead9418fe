import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertValidPath } from '../../src/blobstore/checked.js';
import { catalogEntryName, repositoryOfCatalogEntry } from '../../src/blobstore/layout.js';
import { isValidName, type RepositoryName } from '../../src/registry/names.js';

/** A random valid repository name of up to 255 characters, rich in separators and digits. */
function randomName(random: () => number): RepositoryName {
  const pick = (choices: string | readonly string[]) =>
    choices[Math.floor(random() * choices.length)] as string;
  const components = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
    let component = pick('a09z');
    while (random() < 0.7) component += `${pick(['.', '_', '__', '-', '--', ''])}${pick('a0189z')}`;
    return component;
  });
  const name = components
    .join('/')
    .slice(0, 255)
    .replace(/[-._/]+$/, '');
  assert.ok(isValidName(name), name);
  return name as RepositoryName;
}

/** A small seeded generator, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('catalog entry names', () => {
  it('keep the names ASCII order, their length and their way back', () => {
    const random = seeded(9);
    const names = [
      ...['a', 'a-b', 'a.b', 'a/b', 'a0', 'a9', 'a_b', 'aa', 'a/9', 'a90', 'z', '0', '9'],
      ...Array.from({ length: 2000 }, () => randomName(random)),
    ] as RepositoryName[];
    const byName = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const byEntry = [...names].sort((a, b) => {
      const [x, y] = [catalogEntryName(a), catalogEntryName(b)];
      return x < y ? -1 : x > y ? 1 : 0;
    });
    assert.deepEqual(byEntry, byName);
    for (const name of names) {
      const entry = catalogEntryName(name);
      assert.equal(entry.length, name.length);
      assert.equal(repositoryOfCatalogEntry(entry), name);
      assertValidPath(`/catalog/${entry}`);
    }
  });

  it('fit a 255-character name made of separators into one 255-byte file name', () => {
    const name = `a${'/b'.repeat(127)}` as RepositoryName;
    assert.equal(Buffer.byteLength(catalogEntryName(name)), 255);
    assert.equal(catalogEntryName('library/ubuntu-24' as RepositoryName), 'library0ubuntu-35');
  });
});
