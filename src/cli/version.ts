/** The version of this build, read from package.json next to the compiled code. */
import { readFileSync } from 'node:fs';

/** The `version` field of Berth's package.json. */
export function berthVersion(): string {
  const manifest = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
