/**
 * The policy and htpasswd files as the server holds them: read at start (a bad file stops
 * start-up), then re-read when either file changes on disk or on SIGHUP. A re-read waits
 * until the file has stopped changing, and a file that turns bad (broken, empty, half
 * written) is logged while the last good version stays in force. Start-up, reloads and
 * `berth config check` judge the files with the same function, `loadAuthFiles`.
 */
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { readStableFile, type StableTiming } from '../fs/stable-file.js';
import type { Logger } from '../log/logger.js';
import { type Accounts, createAccounts } from './accounts.js';
import { parseHtpasswd } from './htpasswd.js';
import { type Permissions, policyPermissions, USERS_MAY_DO_EVERYTHING } from './permissions.js';
import { EMPTY_POLICY } from './policy.js';
import { checkPolicy } from './policy-check.js';

/** One consistent view of accounts and permissions. */
export interface AuthSnapshot {
  accounts: Accounts;
  permissions: Permissions;
}

/** The live policy. */
export interface PolicySource {
  current(): AuthSnapshot;
  /** Re-reads the files once they are stable; keeps the current snapshot (and logs) if they are bad. */
  reload(): Promise<void>;
  close(): void;
}

/** Where the files are. */
export interface PolicyFiles {
  policy: string | undefined;
  htpasswd: string | undefined;
}

/** The files' contents as the server uses them, and what looks wrong without refusing them. */
export interface LoadedAuth {
  snapshot: AuthSnapshot;
  warnings: string[];
}

/** Reads a file's text; throws an Error naming the file. */
export type ReadText = (file: string) => Promise<string>;

/**
 * How long a changed file must stay unchanged before it is re-read: editors and `cat >`
 * write in place, so the file can be empty or half written for a moment.
 */
export const RELOAD_TIMING: StableTiming = { quietMs: 250, giveUpMs: 30_000 };

/** Waits between a change event and the reload, so one save that fires several events reloads once. */
const DEBOUNCE_MS = 50;

/** Reads the files (throwing on any problem) and starts watching them. */
export async function openPolicySource(
  files: PolicyFiles,
  logger: Logger,
  timing: StableTiming = RELOAD_TIMING,
): Promise<PolicySource> {
  let snapshot = logWarnings(await loadAuthFiles(files), logger);
  let timer: NodeJS.Timeout | undefined;
  // One reload at a time, in order, so an older read never replaces a newer one.
  let queue = Promise.resolve();

  const reloadNow = async () => {
    try {
      const read = (file: string) => readOrExplain(file, () => readStableFile(file, timing));
      snapshot = logWarnings(await loadAuthFiles(files, read), logger);
      logger.info('auth policy reloaded', { policy: files.policy, htpasswd: files.htpasswd });
    } catch (err) {
      logger.error('auth policy not reloaded; the previous one stays in force', {
        error: (err as Error).message,
      });
    }
  };
  const reload = () => {
    queue = queue.then(reloadNow);
    return queue;
  };
  // Editors and `berth user` replace the file by rename, so watch the directory, not the inode.
  const watchers = [files.policy, files.htpasswd]
    .filter((file): file is string => file !== undefined)
    .map((file) =>
      watch(dirname(file), { persistent: false }, (_event, name) => {
        if (name !== basename(file)) return;
        clearTimeout(timer);
        timer = setTimeout(reload, DEBOUNCE_MS);
      }),
    );
  return {
    current: () => snapshot,
    reload,
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/**
 * Reads and judges the policy and htpasswd files: the checks of `checkPolicy`, and an
 * htpasswd file without users is refused for the same reason as an empty policy.
 */
export async function loadAuthFiles(
  files: PolicyFiles,
  read: ReadText = (file) => readOrExplain(file, () => readFile(file, 'utf8')),
): Promise<LoadedAuth> {
  const htpasswd = files.htpasswd ? parseHtpasswd(await read(files.htpasswd), files.htpasswd) : undefined;
  if (files.htpasswd && htpasswd?.size === 0)
    throw new Error(`${files.htpasswd}: no users; an empty htpasswd file is refused like a broken one`);
  const checked = files.policy
    ? checkPolicy(await read(files.policy), files.policy, htpasswd && new Set(htpasswd.keys()))
    : undefined;
  return {
    snapshot: {
      accounts: createAccounts(checked?.policy ?? EMPTY_POLICY, htpasswd ?? new Map()),
      permissions: checked ? policyPermissions(checked.policy) : USERS_MAY_DO_EVERYTHING,
    },
    warnings: checked?.warnings ?? [],
  };
}

function logWarnings(loaded: LoadedAuth, logger: Logger): AuthSnapshot {
  for (const warning of loaded.warnings) logger.warn('auth policy warning', { warning });
  return loaded.snapshot;
}

async function readOrExplain(file: string, read: () => Promise<string>): Promise<string> {
  try {
    return await read();
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}
