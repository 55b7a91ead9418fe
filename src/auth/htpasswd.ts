/**
 * htpasswd files as distribution's `auth.htpasswd.path` reads them: `name:hash` lines, bcrypt
 * hashes only (`htpasswd -B`). Other hash kinds (MD5, SHA-1, crypt) are refused by name rather
 * than silently never matching.
 */
import { isBcryptHash } from './secrets.js';

/** Parses htpasswd text into user name -> bcrypt hash; `source` names the file in errors. */
export function parseHtpasswd(text: string, source: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (colon <= 0) throw new Error(`${source}:${index + 1}: expected name:hash`);
    if (!isBcryptHash(hash))
      throw new Error(
        `${source}:${index + 1}: ${name} does not have a bcrypt hash; recreate it with htpasswd -B`,
      );
    users.set(name, hash);
  });
  return users;
}
