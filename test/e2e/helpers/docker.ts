/**
 * The docker CLI for end-to-end tests: a check that fails (never skips) when the daemon is not
 * reachable, and a record of every image, container and volume a test makes so that all of
 * them are removed afterwards, also when the test fails half-way.
 */
import { run, runOk } from './run.js';

/** Runs `docker args` and resolves with its stdout; throws with its output unless it exits 0. */
export function docker(args: string[]): Promise<string> {
  return runOk('docker', args);
}

/** Throws a message saying what to do when there is no docker CLI or no daemon behind it. */
export async function requireDocker(): Promise<void> {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}']).catch((error: Error) => ({
    code: -1,
    stdout: '',
    stderr: error.message,
  }));
  if (info.code !== 0 || info.stdout.trim() === '') {
    throw new Error(
      `docker is not reachable (docker info: ${info.stderr.trim() || `exit ${info.code}`}); ` +
        'this test needs the docker CLI and a running dockerd (apt-get install docker.io; dockerd &)',
    );
  }
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
