/**
 * The docker CLI with the caller's own configuration, for tests that drive the engine itself
 * (building and running Berth's image) rather than log in to registries (those use
 * `dockerSession`): a record of every image, container and volume a test makes, so that all
 * of them are removed afterwards, also when the test fails half-way.
 */
import { requireEngine } from './docker.js';
import { run, runOk } from './run.js';

/** Runs `docker args` and resolves with its stdout; throws with its output unless it exits 0. */
export function docker(args: string[]): Promise<string> {
  return runOk('docker', args);
}

/** Fails, saying what to do, when there is no docker CLI or no engine behind it. */
export function requireDocker(): Promise<void> {
  return requireEngine((args) => run('docker', args));
}

/** What a test created in docker, removed by `removeAll`. */
export interface DockerResources {
  image(reference: string): string;
  container(name: string): string;
  volume(name: string): string;
  /** Removes containers, then volumes, then images (newest first); ignores ones already gone. */
  removeAll(): Promise<void>;
}

/** A fresh, empty record of docker resources. */
export function dockerResources(): DockerResources {
  const images: string[] = [];
  const containers: string[] = [];
  const volumes: string[] = [];
  const remember = (list: string[]) => (name: string) => {
    list.push(name);
    return name;
  };
  return {
    image: remember(images),
    container: remember(containers),
    volume: remember(volumes),
    async removeAll() {
      for (const name of containers.splice(0)) await run('docker', ['rm', '-f', '-v', name]);
      for (const name of volumes.splice(0)) await run('docker', ['volume', 'rm', '-f', name]);
      for (const reference of images.splice(0).reverse()) await run('docker', ['rmi', '-f', reference]);
    },
  };
}

/** A name no other test run on this daemon uses at the same time. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}
