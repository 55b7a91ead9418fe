/**
 * `berth serve`: loads the configuration, starts Berth and shuts it down gracefully on
 * SIGTERM/SIGINT.
 */
import { startBerth } from '../berth.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log/logger.js';

/** Runs `berth serve` until a termination signal; resolves with the exit code. */
export async function serve(configFile: string | undefined): Promise<number> {
  const { config, warnings } = await loadConfig(configFile, process.env);
  const logger = createLogger({ level: config.log.level, formatter: config.log.formatter });
  for (const warning of warnings) logger.warn(warning);
  const instance = await startBerth(config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info('shutting down: finishing in-flight requests', {
        signal,
        draintimeout_ms: config.http.draintimeout,
      });
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.off('SIGHUP', reload);
      instance.stop().then(resolve, resolve);
    };
    const reload = () => {
      logger.info('SIGHUP: reloading the auth policy');
      void instance.reloadAuth();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', reload);
  });
  logger.info('stopped');
  return 0;
}
