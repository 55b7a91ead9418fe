/**
 * `berth serve`: loads the configuration, starts Berth and shuts it down gracefully on
 * SIGTERM/SIGINT. With `http.workers` (or `--workers`) above 1 this process becomes the
 * primary of a node cluster (src/cluster/), and each worker runs Berth as described here.
 */
import cluster from 'node:cluster';
import type { BerthInstance, StartOptions } from '../berth.js';
import { loadConfig } from '../config/load.js';
import type { BerthConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../log/logger.js';
import { ListenError } from '../server.js';
import { CliError } from './io.js';

/**
 * The exit code when the listen address cannot be taken. Apart from 2 (the configuration or
 * a file it names is wrong) because it may pass: another process holds the port for now.
 */
const EXIT_CANNOT_LISTEN = 3;

/** Options given on the command line; they win over the configuration file and environment. */
export interface ServeFlags {
  workers?: number;
}

/** Runs `berth serve` until a termination signal; resolves with the exit code. */
export async function serve(configFile: string | undefined, flags: ServeFlags = {}): Promise<number> {
  if (cluster.isWorker) return (await import('../cluster/worker.js')).serveAsWorker();
  const loaded = await loadConfig(configFile, process.env);
  const config = withFlags(loaded.config, flags);
  const logger = createLogger({ level: config.log.level, formatter: config.log.formatter });
  for (const warning of loaded.warnings) logger.warn(warning);
  if (config.http.workers > 1)
    return (await import('../cluster/primary.js')).superviseWorkers(config, logger);
  const instance = await startServing(config, logger);
  const controls = controlsOf(instance, config, logger);
  const stopListening = onSignals(controls);
  await controls.stopped;
  stopListening();
  logger.info('stopped');
  return 0;
}

function withFlags(config: BerthConfig, flags: ServeFlags): BerthConfig {
  if (flags.workers === undefined) return config;
  return { ...config, http: { ...config.http, workers: flags.workers } };
}

/** Starts Berth; an address that cannot be listened on becomes a CliError with its exit code. */
export async function startServing(
  config: BerthConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<BerthInstance> {
  // Loaded here, not at the top: a cluster primary serves nothing and need not load the app.
  const { startBerth } = await import('../berth.js');
  return startBerth(config, logger, options).catch((err: unknown) => {
    if (err instanceof ListenError) throw new CliError(`http.addr: ${err.message}`, EXIT_CANNOT_LISTEN);
    throw err;
  });
}

/** What a running Berth is told from outside: by signals, or by its cluster primary. */
export interface Controls {
  /** Stops accepting and drains requests in flight; a repeated request changes nothing. */
  stop(signal: NodeJS.Signals): void;
  /** Exits at once, without waiting for requests in flight. */
  stopNow(signal: NodeJS.Signals): never;
  /** Re-reads the auth policy (SIGHUP). */
  reload(): void;
  readonly stopping: boolean;
  /** Resolves once stopped. */
  readonly stopped: Promise<void>;
}

/** The controls of a running instance. */
export function controlsOf(instance: BerthInstance, config: BerthConfig, logger: Logger): Controls {
  let stopping = false;
  let finished: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    finished = resolve;
  });
  return {
    get stopping() {
      return stopping;
    },
    stopped,
    stop(signal) {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down: finishing in-flight requests', {
        signal,
        draintimeout_ms: config.http.draintimeout,
      });
      instance.stop().then(finished, finished);
    },
    stopNow(signal) {
      logger.warn('second signal: stopping without waiting for requests in flight', { signal });
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    },
    reload() {
      logger.info('SIGHUP: reloading the auth policy');
      void instance.reloadAuth();
    },
  };
}

/**
 * SIGTERM and SIGINT stop (a second one stops at once), SIGHUP reloads; returns a function that
 * removes the handlers. Exiting explicitly rather than by the default action matters as PID 1
 * in a container, where the kernel ignores signals without a handler.
 */
export function onSignals(controls: Pick<Controls, 'stop' | 'stopNow' | 'reload' | 'stopping'>): () => void {
  const terminate = (signal: NodeJS.Signals) =>
    controls.stopping ? controls.stopNow(signal) : controls.stop(signal);
  const reload = () => controls.reload();
  process.on('SIGTERM', terminate);
  process.on('SIGINT', terminate);
  process.on('SIGHUP', reload);
  return () => {
    process.off('SIGTERM', terminate);
    process.off('SIGINT', terminate);
    process.off('SIGHUP', reload);
  };
}
