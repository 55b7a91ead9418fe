/**
 * The store a maintenance command (`berth purge`, `gc`, `fsck`, `retention`) works on: the
 * configuration from `--config FILE`, else BERTH_CONFIG, with BERTH_* overrides, as
 * `berth serve` reads it, and its storage driver with paths checked.
 */
import { checkedDriver } from '../blobstore/checked.js';
import { createConfiguredDriver } from '../blobstore/create-driver.js';
import type { StorageDriver } from '../blobstore/driver.js';
import { loadConfig } from '../config/load.js';
import type { BerthConfig } from '../config/schema.js';
import type { CliIo } from './io.js';

/** Loads the configuration and opens its store. */
export async function openConfiguredStore(
  configFile: string | true | undefined,
  io: Pick<CliIo, 'env'>,
): Promise<{ config: BerthConfig; driver: StorageDriver }> {
  const file = typeof configFile === 'string' ? configFile : io.env.BERTH_CONFIG || undefined;
  const { config } = await loadConfig(file, io.env);
  const { driver } = await createConfiguredDriver(config.storage);
  return { config, driver: checkedDriver(driver) };
}
