/** `tags.immutable`: rules from YAML or from BERTH_TAGS_IMMUTABLE as JSON, refused with the rule's number. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../src/config/load.js';
import { immutableTags } from '../../src/registry/immutable-tags.js';
import type { RepositoryName, Tag } from '../../src/registry/names.js';

const rulesOf = (document: unknown, env: NodeJS.ProcessEnv = {}) =>
  buildConfig(document, env, 'berth.yml').config.tags.immutable;

describe('tags.immutable', () => {
  it('reads rules from YAML, a single tag pattern or a list', () => {
    const rules = rulesOf({
      tags: {
        immutable: [
          { repository: 'prod/**', tags: 'v*' },
          { repository: 'base', tags: ['1.*', 'stable'] },
        ],
      },
    });
    assert.deepEqual(rules, [
      { repository: 'prod/**', tags: ['v*'] },
      { repository: 'base', tags: ['1.*', 'stable'] },
    ]);
    assert.deepEqual(rulesOf({}), []);
  });

  it('reads BERTH_TAGS_IMMUTABLE as JSON, over the file', () => {
    const rules = rulesOf(
      { tags: { immutable: [{ repository: 'a', tags: '*' }] } },
      { BERTH_TAGS_IMMUTABLE: '[{"repository":"prod/**","tags":["v*"]}]' },
    );
    assert.deepEqual(rules, [{ repository: 'prod/**', tags: ['v*'] }]);
  });

  it('refuses a bad rule, naming the key and the rule', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ repository: 'prod/**' }, /berth\.yml: tags\.immutable: rule 1: tags: expected a pattern/],
      [{ repository: 'prod/**', tags: 'v*', tag: 'x' }, /rule 1: unknown key tag/],
      [{ repository: '/prod', tags: 'v*' }, /rule 1: repository "\/prod": a pattern may not start/],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${user}` is literal pattern syntax here.
      [{ repository: '${user}/**', tags: 'v*' }, /\$\{user\} is not allowed here/],
      [{ repository: 'prod', tags: 'a/b' }, /tags have no "\/"/],
      ['prod/**', /rule 1: expected a mapping/],
    ];
    for (const [rule, message] of cases)
      assert.throws(() => rulesOf({ tags: { immutable: [rule] } }), message);
    assert.throws(
      () => rulesOf({}, { BERTH_TAGS_IMMUTABLE: 'prod/**' }),
      /BERTH_TAGS_IMMUTABLE \(tags\.immutable\): expected JSON/,
    );
    assert.throws(() => rulesOf({ tags: { immutable: 'v*' } }), /expected JSON such as/);
  });

  it('matches by repository and tag pattern, first rule first', () => {
    const rules = [
      { repository: 'prod/**', tags: ['v*'] },
      { repository: 'prod/app', tags: ['*'] },
    ];
    const immutable = immutableTags(rules);
    const at = (name: string, tag: string) => immutable(name as RepositoryName, tag as Tag)?.number;
    assert.equal(at('prod/app', 'v1.2'), 1);
    assert.equal(at('prod/app', 'latest'), 2);
    assert.equal(at('prod/other', 'latest'), undefined);
    assert.equal(at('prod', 'v1'), undefined, '`prod/**` is what is inside prod, not prod');
    assert.equal(at('production/app', 'v1'), undefined);
  });
});
