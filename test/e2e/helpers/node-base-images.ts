/**
 * Stand-ins for node:20-bookworm-slim, made offline because nothing can be pulled from Docker
 * Hub here: this machine's own node binary with the shared libraries `ldd` lists, plus what the
 * Dockerfile relies on from the real base (node on PATH, /usr/bin/env, user `node` = 1000).
 * The build base adds npm, /bin/sh (the static busybox, for npm's scripts) and this machine's
 * CA bundle when NODE_EXTRA_CA_CERTS names one, so npm inside `docker build` trusts the same
 * registry certificates as npm outside it.
 */
import { chmod, copyFile, cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { docker } from './docker-resources.js';
import { runOk } from './run.js';

/** The two base image references, for the Dockerfile's BUILD_BASE and RUNTIME_BASE. */
export interface NodeBaseImages {
  runtime: string;
  build: string;
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NODE = process.execPath;
const NPM_DIR = path.join(path.dirname(NODE), '..', 'lib', 'node_modules', 'npm');
const CA_IN_IMAGE = '/etc/ssl/certs/berth-test-ca.crt';

/** Builds both images, tagged `<tagPrefix>-runtime` and `<tagPrefix>-build`, from files under `dir`. */
export async function buildNodeBaseImages(dir: string, tagPrefix: string): Promise<NodeBaseImages> {
  const runtime = `${tagPrefix}-runtime`;
  const build = `${tagPrefix}-build`;
  const runtimeDir = path.join(dir, 'runtime-base');
  await makeRuntimeRootfs(path.join(runtimeDir, 'rootfs'));
  await writeFile(
    path.join(runtimeDir, 'Dockerfile'),
    `FROM scratch\nCOPY rootfs/ /\nENV ${PATH_ENV}\nCMD ["node"]\n`,
  );
  await docker(['build', '-q', '-t', runtime, runtimeDir]);

  const buildDir = path.join(dir, 'build-base');
  const caBundle = await addBuildTools(path.join(buildDir, 'rootfs'));
  const caEnv = caBundle ? `ENV NODE_EXTRA_CA_CERTS=${CA_IN_IMAGE}\n` : '';
  await writeFile(path.join(buildDir, 'Dockerfile'), `FROM ${runtime}\nCOPY rootfs/ /\n${caEnv}`);
  await docker(['build', '-q', '-t', build, buildDir]);
  return { runtime, build };
}

async function makeRuntimeRootfs(root: string): Promise<void> {
  for (const sub of ['usr/local/bin', 'usr/bin', 'etc', 'tmp', 'root', 'home/node'])
    await mkdir(path.join(root, sub), { recursive: true });
  await chmod(path.join(root, 'tmp'), 0o1777);
  await copyFile(NODE, path.join(root, 'usr/local/bin/node'));
  await copyFile('/usr/bin/env', path.join(root, 'usr/bin/env'));
  for (const library of await sharedLibraries([NODE, '/usr/bin/env'])) {
    await mkdir(path.join(root, path.dirname(library)), { recursive: true });
    await copyFile(library, path.join(root, library));
  }
  await writeFile(
    path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
  );
  await writeFile(path.join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
}

/** Adds npm, /bin/sh and the CA bundle under `root`; resolves with whether a bundle was added. */
async function addBuildTools(root: string): Promise<boolean> {
  const npmTarget = path.join(root, 'usr/local/lib/node_modules/npm');
  await cp(NPM_DIR, npmTarget, { recursive: true }).catch((error: Error) => {
    throw new Error(`npm is needed next to node (${NPM_DIR}) for the build base: ${error.message}`);
  });
  await mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(root, 'usr/local/bin/npm'));
  await mkdir(path.join(root, 'bin'), { recursive: true });
  await copyFile('/bin/busybox', path.join(root, 'bin/busybox'));
  await symlink('busybox', path.join(root, 'bin/sh'));
  const bundle = process.env.NODE_EXTRA_CA_CERTS;
  if (!bundle) return false;
  await mkdir(path.join(root, path.dirname(CA_IN_IMAGE)), { recursive: true });
  await copyFile(bundle, path.join(root, CA_IN_IMAGE));
  return true;
}

/** Absolute paths of the shared libraries (and the loader) that `binaries` load. */
async function sharedLibraries(binaries: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const binary of binaries) {
    const listing = await runOk('ldd', [binary]);
    for (const match of listing.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) found.add(match[1] as string);
  }
  return [...found];
}
