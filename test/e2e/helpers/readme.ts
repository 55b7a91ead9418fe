/** Reading commands out of the README, so a test runs what the README tells people to run. */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { REPO_ROOT } from './berth-process.js';

/** The text of the README section headed `title` (any level), up to the next heading of its level or above. */
export async function readmeSection(title: string): Promise<string> {
  const text = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const heading = new RegExp(`^(#+) ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`, 'm').exec(text);
  if (!heading) throw new Error(`README.md has no section "${title}"`);
  const level = (heading[1] as string).length;
  const rest = text.slice(heading.index + heading[0].length);
  const next = new RegExp(`^#{1,${level}} `, 'm').exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

/** The ```sh blocks of `markdown`, in order. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}
