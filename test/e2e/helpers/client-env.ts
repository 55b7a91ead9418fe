/**
 * An environment for podman and skopeo in which every place they look for registry
 * credentials is inside one temp directory, so a test's logins neither read nor overwrite the
 * machine's (~/.docker, ~/.config/containers, /run/containers/UID/auth.json).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';

/** Where the clients keep credentials, and the environment that sends them there. */
export interface ClientEnv {
  /** The only auth file podman and skopeo read or write (also pass it as --authfile). */
  authFile: string;
  env: NodeJS.ProcessEnv;
}

/** Creates the directories under `dir` and returns the environment. */
export async function clientEnv(dir: string): Promise<ClientEnv> {
  const home = path.join(dir, 'home');
  const runtime = path.join(dir, 'xdg-runtime');
  await Promise.all([mkdir(home, { recursive: true }), mkdir(runtime, { recursive: true, mode: 0o700 })]);
  const authFile = path.join(dir, 'auth.json');
  return {
    authFile,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // containers/image also falls back to $HOME/.docker/config.json and $XDG_CONFIG_HOME;
      // pointing them into `dir` means a login left on the machine cannot make an
      // "anonymous" request succeed.
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_RUNTIME_DIR: runtime,
      DOCKER_CONFIG: path.join(home, '.docker'),
      REGISTRY_AUTH_FILE: authFile,
    },
  };
}
