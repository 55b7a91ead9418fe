/** deploy/berth.yml, the example configuration, keeps up with the key table. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { KEYS } from '../../src/config/schema.js';

const EXAMPLE = new URL('../../../deploy/berth.yml', import.meta.url);

/** Dotted key of every `name:` line, with the comment lines right above it. */
function keyLines(text: string): { key: string; comment: string }[] {
  const found: { key: string; comment: string }[] = [];
  const path: { indent: number; name: string }[] = [];
  let comment: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^( *)([a-z][a-z0-9_]*):/.exec(line);
    if (match) {
      const indent = (match[1] as string).length;
      while (path.length > 0 && (path.at(-1) as { indent: number }).indent >= indent) path.pop();
      path.push({ indent, name: match[2] as string });
      found.push({ key: path.map((part) => part.name).join('.'), comment: comment.join(' ') });
    }
    comment = line.trim().startsWith('#') ? [...comment, line.trim()] : [];
  }
  return found;
}

describe('deploy/berth.yml', () => {
  it('sets every configuration key, and nothing else', async () => {
    const document = parseDocument(await readFile(EXAMPLE, 'utf8'));
    for (const spec of KEYS) assert.ok(document.hasIn(spec.key.split('.')), `it sets ${spec.key}`);
    const { warnings } = await loadConfig(EXAMPLE.pathname, {});
    assert.deepEqual(warnings, [], 'no distribution-only keys');
  });

  it('explains every key in a comment right above it', async () => {
    const lines = keyLines(await readFile(EXAMPLE, 'utf8'));
    for (const spec of KEYS) {
      const line = lines.find((candidate) => candidate.key === spec.key);
      assert.ok(line, `${spec.key} has a line of its own`);
      assert.match(line.comment, /^# .+Default: /, `${spec.key} is explained, with its default`);
    }
  });
});
