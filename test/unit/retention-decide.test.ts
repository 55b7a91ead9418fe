import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../src/config/load.js';
import type { Tag } from '../../src/registry/names.js';
import { expiredEntries, formatDuration, type TagFacts, tagsToDelete } from '../../src/retention/decide.js';
import { retentionRules } from '../../src/retention/rules.js';

const HOUR = 3_600_000;
const NOW = 1000 * HOUR;

function facts(tag: string, movedAt: number, extra: Partial<TagFacts> = {}): TagFacts {
  return { tag: tag as Tag, movedAt, immutable: false, ...extra };
}

const rulesOf = (document: unknown, env: NodeJS.ProcessEnv = {}) =>
  buildConfig(document, env, 'berth.yml').config.retention.rules;

function compiled(rule: unknown) {
  const found = retentionRules(rulesOf({ retention: { rules: [rule] } }))('r' as never);
  assert.ok(found);
  return found;
}

describe('retention decisions', () => {
  it('a tag is kept when any condition holds', () => {
    const rule = compiled({ repository: 'r', keep: { newest: 1, tags: ['v*'], pulledwithin: '1h' } });
    const tags = [
      facts('newest', NOW - 1),
      facts('v2', NOW - 5 * HOUR),
      facts('pulled', NOW - 5 * HOUR, { pulledAt: NOW - HOUR }),
      facts('pulled-long-ago', NOW - 5 * HOUR, { pulledAt: NOW - HOUR - 1 }),
      facts('frozen', NOW - 5 * HOUR, { immutable: true }),
      facts('old', NOW - 5 * HOUR),
    ];
    assert.deepEqual(
      tagsToDelete(tags, rule, NOW).map((doomed) => doomed.tag),
      ['old', 'pulled-long-ago'],
    );
    assert.equal(
      tagsToDelete(tags, rule, NOW)[0]?.reason,
      'rule 1 (r): not among the 1 newest, matches none of v*, not pulled within 1h',
    );
  });

  it('newest counts by the last move, ties broken by name; no keep keeps everything', () => {
    const rule = compiled({ repository: 'r', keep: { newest: 2 } });
    const tags = [facts('c', 5), facts('b', 5), facts('a', 1), facts('d', 9)];
    assert.deepEqual(
      tagsToDelete(tags, rule, NOW).map((doomed) => doomed.tag),
      ['a', 'c'],
    );
    assert.deepEqual(tagsToDelete(tags, compiled({ repository: 'r', history: '1d' }), NOW), []);
  });

  it('history entries older than the cutoff expire, except the newest of an existing tag', () => {
    const time = (id: string) => Number(id);
    assert.deepEqual(expiredEntries(['3', '2', '1'], time, true, 10), ['2', '1']);
    assert.deepEqual(expiredEntries(['3', '2', '1'], time, false, 10), ['3', '2', '1']);
    assert.deepEqual(expiredEntries(['30', '20', '1'], time, false, 10), ['1']);
    assert.deepEqual(
      expiredEntries(['x'], () => undefined, false, 10),
      [],
      'not an entry Berth wrote',
    );
  });

  it('formats durations as the configuration writes them', () => {
    assert.deepEqual([30 * 24 * HOUR, 36 * HOUR, 90_000, 1500].map(formatDuration), [
      '30d',
      '36h',
      '90s',
      '1500ms',
    ]);
  });
});

describe('retention configuration', () => {
  it('reads rules from YAML with durations, and from BERTH_RETENTION_RULES as JSON', () => {
    assert.deepEqual(
      rulesOf({
        retention: {
          rules: [
            { repository: 'ci/**', keep: { newest: 10, tags: 'v*', pulledwithin: '30d' }, untagged: '14d' },
          ],
        },
      }),
      [
        {
          repository: 'ci/**',
          keep: { newest: 10, tags: ['v*'], pulledwithin: 30 * 24 * HOUR },
          untagged: 14 * 24 * HOUR,
        },
      ],
    );
    assert.deepEqual(rulesOf({}, { BERTH_RETENTION_RULES: '[{"repository":"a","history":"90d"}]' }), [
      { repository: 'a', history: 90 * 24 * HOUR },
    ]);
    assert.equal(buildConfig({}, {}, 'x').config.retention.interval, 0);
  });

  it('refuses a bad rule, naming the key and the rule', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { repository: 'a', keep: {} },
        /retention\.rules: rule 1: keep: expected newest, tags or pulledwithin/,
      ],
      [{ repository: 'a', keep: { newest: -1 } }, /keep\.newest: expected a whole number/],
      [{ repository: 'a', keep: { oldest: 1 } }, /unknown key oldest/],
      [{ repository: 'a', untagged: 'soon' }, /untagged: expected a duration/],
      [{ repository: 'a', keep: { tags: 'a/b' } }, /keep\.tags "a\/b": tags have no "\/"/],
      [{ keep: { newest: 1 } }, /repository: expected a pattern/],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${user}` is literal pattern syntax here.
      [{ repository: '${user}/**' }, /\$\{user\} is not allowed here/],
    ];
    for (const [rule, message] of cases)
      assert.throws(() => rulesOf({ retention: { rules: [rule] } }), message);
    assert.throws(
      () => rulesOf({}, { BERTH_RETENTION_RULES: 'ci/**' }),
      /BERTH_RETENTION_RULES \(retention\.rules\): expected JSON/,
    );
  });
});
