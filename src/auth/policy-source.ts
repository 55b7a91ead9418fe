/**
 * The policy and htpasswd files as the server holds them: read at start (a bad file stops
 * start-up), then re-read when either file changes on disk or on SIGHUP. A file that turns
 * bad while running is logged and the last good version stays in force.
 */
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { type Accounts, createAccounts } from './accounts.js';
import { parseHtpasswd } from './htpasswd.js';
import { type Permissions, policyPermissions, USERS_MAY_DO_EVERYTHING } from './permissions.js';
import { EMPTY_POLICY, parsePolicy } from './policy.js';

/** One consistent view of accounts and permissions. */
export interface AuthSnapshot {
  accounts: Accounts;
  permissions: Permissions;
}

/** The live policy. */
export interface PolicySource {
  current(): AuthSnapshot;
  /** Re-reads the files; keeps the current snapshot (and logs) if they are bad. */
  reload(): Promise<void>;
  close(): void;
}

/** Where the files are. */
export interface PolicyFiles {
  policy: string | undefined;
  htpasswd: string | undefined;
}

/** Reads the files (throwing on any problem) and starts watching them. */
export async function openPolicySource(files: PolicyFiles, logger: Logger): Promise<PolicySource> {
  let snapshot = await readSnapshot(files);
  let timer: NodeJS.Timeout | undefined;

  const reload = async () => {
    try {
      snapshot = await readSnapshot(files);
      logger.info('auth policy reloaded', { policy: files.policy, htpasswd: files.htpasswd });
    } catch (err) {
      logger.error('auth policy not reloaded; the previous one stays in force', {
        error: (err as Error).message,
      });
    }
  };
  // Editors and `berth user` replace the file by rename, so watch the directory, not the inode.
  const watchers = [files.policy, files.htpasswd]
    .filter((file): file is string => file !== undefined)
    .map((file) =>
      watch(dirname(file), { persistent: false }, (_event, name) => {
        if (name !== basename(file)) return;
        clearTimeout(timer);
        timer = setTimeout(reload, 100);
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

async function readSnapshot(files: PolicyFiles): Promise<AuthSnapshot> {
  const read = (file: string) =>
    readFile(file, 'utf8').catch((err: Error) => {
      throw new Error(`cannot read ${file}: ${err.message}`);
    });
  const policy = files.policy ? parsePolicy(await read(files.policy), files.policy) : undefined;
  const htpasswd = files.htpasswd
    ? parseHtpasswd(await read(files.htpasswd), files.htpasswd)
    : new Map<string, string>();
  return {
    accounts: createAccounts(policy ?? EMPTY_POLICY, htpasswd),
    permissions: policy ? policyPermissions(policy) : USERS_MAY_DO_EVERYTHING,
  };
}
