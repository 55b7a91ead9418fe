import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { algorithmOf, digestOf, hexOf, looksLikeDigest, parseDigest } from '../../src/registry/digest.js';
import { RegistryError } from '../../src/registry/errors.js';
import { isValidName, isValidTag, parseName, parseTag } from '../../src/registry/names.js';

const hex64 = 'a'.repeat(64);
const hex128 = 'b'.repeat(128);

describe('digests', () => {
  it('accepts canonical sha256 and sha512 digests', () => {
    assert.equal(parseDigest(`sha256:${hex64}`), `sha256:${hex64}`);
    assert.equal(parseDigest(`sha512:${hex128}`), `sha512:${hex128}`);
    assert.equal(algorithmOf(parseDigest(`sha512:${hex128}`)), 'sha512');
    assert.equal(hexOf(parseDigest(`sha256:${hex64}`)), hex64);
  });

  it('refuses malformed, non-canonical and unsupported digests with DIGEST_INVALID', () => {
    const bad = [
      '',
      'sha256',
      `sha256:${hex64.slice(1)}`,
      `sha256:${hex64}0`,
      `sha256:${'A'.repeat(64)}`,
      `sha512:${hex64}`,
      `md5:${'a'.repeat(32)}`,
      `SHA256:${hex64}`,
      `sha256:${hex64}/../x`,
      `:${hex64}`,
    ];
    for (const value of bad) {
      assert.throws(
        () => parseDigest(value),
        (err: unknown) => err instanceof RegistryError && err.code === 'DIGEST_INVALID' && err.status === 400,
        value,
      );
    }
  });

  it('computes digests of content', () => {
    assert.equal(
      digestOf(Buffer.from('')),
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    assert.ok(digestOf(Buffer.from('x'), 'sha512').startsWith('sha512:'));
    assert.equal(looksLikeDigest('sha256:x'), true);
    assert.equal(looksLikeDigest('latest'), false);
  });
});

describe('repository names and tags', () => {
  it('accepts the spec grammar', () => {
    for (const name of ['a', 'library/ubuntu', 'a.b_c__d-e---f/g0', 'x/y/z/w', 'a'.repeat(255)]) {
      assert.ok(isValidName(name), name);
    }
  });

  it('refuses everything else with NAME_INVALID', () => {
    for (const name of [
      '',
      'A',
      'a/',
      '/a',
      'a//b',
      'a/../b',
      '..',
      '.a',
      'a.',
      'a___b',
      'a_.b',
      'a%2Fb',
      'a b',
      'a'.repeat(256),
      'a/B',
    ]) {
      assert.equal(isValidName(name), false, name);
    }
    assert.throws(
      () => parseName('UP'),
      (err: unknown) => err instanceof RegistryError && err.code === 'NAME_INVALID',
    );
  });

  it('tags follow [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}', () => {
    for (const tag of ['latest', 'V1.0', '_x', '1', 'a'.repeat(128), 'a-b_c.d'])
      assert.ok(isValidTag(tag), tag);
    for (const tag of ['', '-a', '.a', 'a'.repeat(129), 'a/b', 'a:b', 'a b', '..'])
      assert.equal(isValidTag(tag), false, tag);
    assert.throws(
      () => parseTag('-x'),
      (err: unknown) => err instanceof RegistryError && err.code === 'MANIFEST_INVALID',
    );
  });
});
