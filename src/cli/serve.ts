/**
 * `berth serve`: loads the configuration, starts Berth and shuts it down gracefully on
 * SIGTERM/SIGINT.
 */
import { startBerth } from '../berth.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { ListenError } from '../server.js';
import { CliError } from './io.js';

/**
 * The exit code when the listen address cannot be taken. Apart from 2 (the configuration or
 * a file it names is wrong) because it may pass: another process holds the port for now.
 */
const EXIT_CANNOT_LISTEN = 3;

/** Runs `berth serve` until a termination signal; resolves with the exit code. */
export async function serve(configFile: string | undefined): Promise<number> {
  const { config, warnings } = await loadConfig(configFile, process.env);
  const logger = createLogger({ level: config.log.level, formatter: config.log.formatter });
  for (const warning of warnings) logger.warn(warning);
  const instance = await startBerth(config, logger).catch((err: unknown) => {
    if (err instanceof ListenError) throw new CliError(`http.addr: ${err.message}`, EXIT_CANNOT_LISTEN);
    throw err;
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info('shutting down: finishing in-flight requests', {
        signal,
        draintimeout_ms: config.http.draintimeout,
      });
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.off('SIGHUP', reload);
      // A second signal stops at once. Exiting explicitly rather than by the default action
      // matters as PID 1 in a container, where the kernel ignores signals without a handler.
      process.once('SIGTERM', stopNow);
      process.once('SIGINT', stopNow);
      instance.stop().then(resolve, resolve);
    };
    const stopNow = (signal: NodeJS.Signals) => {
      logger.warn('second signal: stopping without waiting for requests in flight', { signal });
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
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
