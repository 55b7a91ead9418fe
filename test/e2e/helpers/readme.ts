/**
 * The README's own commands, for tests that run a guide as a reader would: a section is found
 * by its heading, and its shell blocks are returned verbatim, so an edit to the README that
 * breaks a guide breaks a test.
 */
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './berth-process.js';

/** The text of the README section under `heading` (a `## ` or `### ` title), up to the next heading of that level or above. */
export function readmeSection(heading: string): string {
  const text = readFileSync(`${REPO_ROOT}README.md`, 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^#{2,3} /.test(line) && line.replace(/^#+ /, '') === heading);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const level = (lines[start] as string).indexOf(' ');
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => {
    const hashes = /^(#+) /.exec(line)?.[1];
    return hashes !== undefined && hashes.length <= level;
  });
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}

/** The ```sh blocks of a section, in order, each as the script it holds. */
export function shellBlocks(section: string): string[] {
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}

/** The one shell block of `section` that contains `marker`; fails unless exactly one does. */
export function shellBlockWith(section: string, marker: string): string {
  const blocks = shellBlocks(section).filter((block) => block.includes(marker));
  if (blocks.length !== 1)
    throw new Error(`expected one shell block with "${marker}", found ${blocks.length}`);
  return blocks[0] as string;
}
