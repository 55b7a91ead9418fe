/**
 * Resolves a container's user (`--user` or the image's `User`) to numbers, because runc takes
 * only numeric ids. Names are looked up in the image's own /etc/passwd and /etc/group, never
 * the host's, with the same rules as runc's libcontainer `GetExecUser` (which Docker uses).
 */

/** One /etc/passwd line. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** One /etc/group line. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The numeric identity a container process runs as. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the /etc/group entries that list the user by name. */
  additionalGids: number[];
  /** The passwd home directory, or `/` when the user has no passwd entry. */
  home: string;
}

/** The two files a user is looked up in (empty text when the image has none). */
export interface UserDatabase {
  passwd: string;
  group: string;
}

/** Parses /etc/passwd text, skipping comments and malformed lines. */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const fields of colonLines(text)) {
    const [name, , uid, gid, , home] = fields;
    const uidNumber = numericId(uid);
    const gidNumber = numericId(gid);
    if (!name || uidNumber === undefined || gidNumber === undefined) continue;
    entries.push({ name, uid: uidNumber, gid: gidNumber, home: home || '/' });
  }
  return entries;
}

/** Parses /etc/group text, skipping comments and malformed lines. */
export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const fields of colonLines(text)) {
    const [name, , gid, members] = fields;
    const gidNumber = numericId(gid);
    if (!name || gidNumber === undefined) continue;
    entries.push({ name, gid: gidNumber, members: (members ?? '').split(',').filter(Boolean) });
  }
  return entries;
}

/**
 * Resolves `USER[:GROUP]` (names or numbers; empty or undefined means root). A name must exist
 * in the image; a number need not (it then runs with gid 0 unless a group is given, and home
 * `/`). Supplementary groups come from /etc/group only when no group was given, as in runc.
 */
export function resolveUser(spec: string | undefined, files: UserDatabase): ResolvedUser {
  const [userPart = '', groupPart, extra] = (spec ?? '').split(':');
  if (extra !== undefined) throw new Error(`invalid user "${spec}": expected USER[:GROUP]`);
  const users = parsePasswd(files.passwd);
  const groups = parseGroup(files.group);
  const userArg = userPart === '' ? '0' : userPart;
  const uidNumber = numericId(userArg);
  const entry =
    uidNumber === undefined
      ? users.find((user) => user.name === userArg)
      : users.find((user) => user.uid === uidNumber);
  if (!entry && uidNumber === undefined) {
    throw new Error(`unable to find user ${userArg}: no matching entries in passwd file`);
  }
  const uid = entry?.uid ?? (uidNumber as number);
  let gid = entry?.gid ?? 0;
  let additionalGids: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    gid = resolveGroup(groupPart, groups);
  } else if (entry) {
    additionalGids = groups
      .filter((group) => group.members.includes(entry.name) && group.gid !== gid)
      .map((group) => group.gid);
  }
  return { uid, gid, additionalGids: [...new Set(additionalGids)], home: entry?.home ?? '/' };
}

function resolveGroup(groupArg: string, groups: GroupEntry[]): number {
  const gidNumber = numericId(groupArg);
  if (gidNumber !== undefined) return gidNumber;
  const group = groups.find((entry) => entry.name === groupArg);
  if (!group) throw new Error(`unable to find group ${groupArg}: no matching entries in group file`);
  return group.gid;
}

function* colonLines(text: string): Generator<string[]> {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    yield line.split(':');
  }
}

/** A decimal id in the range the kernel accepts, or undefined. */
function numericId(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= 0x7fffffff ? value : undefined;
}
