/**
 * The docker CLI for end-to-end tests. A session has a private DOCKER_CONFIG, so logins and
 * `docker manifest` lists never read or touch ~/.docker; it labels every image it builds and
 * every container it runs, so that afterwards it removes exactly those (the engine is shared
 * with whatever else runs on the machine) and can prove nothing of its own is left.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type RunResult, run } from './run.js';

/** A file of a build context. */
export interface ContextFile {
  name: string;
  content: string | Buffer;
  mode?: number;
}

/** What a build needs: its files and the Dockerfile's lines. */
export interface BuildContext {
  files: ContextFile[];
  dockerfile: string[];
}

/** One registry login as the CLI saved it in config.json. */
export interface SavedLogin {
  auth?: string;
  identitytoken?: string;
}

/** A docker CLI with its own configuration directory; see the module comment. */
export interface DockerSession {
  /** Runs `docker args`, whatever its exit code. */
  run(args: string[], input?: string): Promise<RunResult>;
  /** Runs `docker args`; fails the test with the output unless it exits 0. Resolves with stdout. */
  ok(args: string[], input?: string): Promise<string>;
  /** Runs `docker args`; fails the test unless it exits non-zero with stderr matching `pattern`. */
  fails(args: string[], pattern: RegExp, input?: string): Promise<string>;
  /** Builds `context` as `tag` (for `platform`, when given); resolves with the image id. */
  build(tag: string, context: BuildContext, platform?: string): Promise<string>;
  /** `docker run --rm` of `image` without a network; resolves with its stdout. */
  runImage(image: string, command?: string[]): Promise<string>;
  /** The image's `{{.Id}}`, or undefined when the engine has no such image. */
  imageId(image: string): Promise<string | undefined>;
  /** The logins saved in the session's config.json, by registry. */
  savedLogins(): Promise<Record<string, SavedLogin>>;
  /** Removes the session's containers and images, then fails unless none is left. */
  cleanup(): Promise<void>;
}

/**
 * Starts a session whose CLI state lives under `dir`; the last of `registryLogs` go into the
 * message of a failed command. Fails, saying what to do, unless the engine answers
 * `docker info`: a missing engine fails the docker suites rather than skip them.
 */
export async function dockerSession(dir: string, registryLogs: string[] = []): Promise<DockerSession> {
  const configDir = path.join(dir, 'docker-config');
  await mkdir(configDir, { recursive: true });
  const env = cliEnv(dir, configDir);
  // On every image built and container run through this session, so cleanup finds them all.
  const label = `berth.e2e=${randomBytes(6).toString('hex')}`;
  const docker = (args: string[], input?: string) => run('docker', args, { env, input });
  await requireEngine(docker);
  const explain = (args: string[], result: RunResult) =>
    `docker ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}\n` +
    `--- registry ---\n${registryLogs.slice(-12).join('\n')}`;

  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await docker(args, input);
    assert.equal(result.code, 0, explain(args, result));
    return result.stdout;
  };
  const imageId = async (image: string): Promise<string | undefined> => {
    const result = await docker(['image', 'inspect', '--format', '{{.Id}}', image]);
    return result.code === 0 ? result.stdout.trim() : undefined;
  };
  const owned = async (kind: 'ps' | 'images'): Promise<string[]> => {
    const ids = await ok([kind, '--all', '--quiet', '--filter', `label=${label}`]);
    return [...new Set(ids.split('\n').filter((id) => id !== ''))];
  };

  return {
    run: docker,
    ok,
    async fails(args, pattern, input) {
      const result = await docker(args, input);
      assert.notEqual(result.code, 0, explain(args, result));
      assert.match(result.stderr, pattern, explain(args, result));
      return result.stderr;
    },
    async build(tag, context, platform) {
      const contextDir = path.join(dir, 'build', randomBytes(4).toString('hex'));
      await writeContext(contextDir, context);
      const platformArgs = platform ? ['--platform', platform] : [];
      await ok(['build', '--force-rm', '--label', label, ...platformArgs, '--tag', tag, contextDir]);
      return (await imageId(tag)) as string;
    },
    runImage(image, command = []) {
      return ok(['run', '--rm', '--network', 'none', '--label', label, image, ...command]);
    },
    imageId,
    async savedLogins() {
      const text = await readFile(path.join(configDir, 'config.json'), 'utf8').catch(() => '{}');
      return (JSON.parse(text) as { auths?: Record<string, SavedLogin> }).auths ?? {};
    },
    async cleanup() {
      const containers = await owned('ps');
      if (containers.length > 0) await ok(['rm', '--force', ...containers]);
      const images = await owned('images');
      if (images.length > 0) await ok(['rmi', '--force', ...images]);
      assert.deepEqual(
        { containers: await owned('ps'), images: await owned('images') },
        { containers: [], images: [] },
        `the docker engine still holds what this suite made (${label})`,
      );
    },
  };
}

/** Fails, saying what to do, unless the engine behind `docker` answers `docker info`. */
export async function requireEngine(docker: DockerSession['run']): Promise<void> {
  const result = await docker(['info', '--format', '{{.ServerVersion}}']).catch((error: Error) => ({
    code: null,
    stdout: '',
    stderr: error.message,
  }));
  if (result.code === 0 && result.stdout.trim() !== '') return;
  throw new Error(
    'the docker tests need a running Docker engine, but `docker info` did not answer ' +
      `(exit ${result.code}): ${result.stderr.trim()}\n` +
      'Install docker.io, start dockerd (`dockerd >/tmp/dockerd.log 2>&1 &`) and run the tests again.',
  );
}

/** The docker CLI's environment: nothing of the caller's but PATH (and DOCKER_HOST), home in `dir`. */
function cliEnv(dir: string, configDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    DOCKER_CONFIG: configDir,
    // An engine listening elsewhere than the default socket stays reachable.
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  };
}

async function writeContext(dir: string, context: BuildContext): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'Dockerfile'), `${context.dockerfile.join('\n')}\n`);
  for (const file of context.files) {
    await mkdir(path.dirname(path.join(dir, file.name)), { recursive: true });
    await writeFile(path.join(dir, file.name), file.content, { mode: file.mode ?? 0o644 });
  }
}

/**
 * The test app: `FROM scratch`, the static busybox and two small files, each COPY a layer of
 * its own. Running it prints both files, so its output can only come from those layers.
 * `marker` is in every layer, so that no layer is one the engine already holds from another
 * image (a busybox layer alone would be the same in any image built the same way).
 */
export async function busyboxApp(marker: string): Promise<{ context: BuildContext; output: string }> {
  const greeting = `greeting from the second layer, ${marker}\n`;
  const data = `data from the third layer, ${marker}\n`;
  return {
    context: {
      files: [
        { name: 'bin/busybox', content: await readFile('/bin/busybox'), mode: 0o755 },
        { name: 'bin/marker', content: marker },
        { name: 'greeting.txt', content: greeting },
        { name: 'data.txt', content: data },
      ],
      dockerfile: [
        'FROM scratch',
        'COPY bin /bin',
        'COPY greeting.txt /etc/greeting',
        'COPY data.txt /srv/data.txt',
        'CMD ["/bin/busybox", "cat", "/etc/greeting", "/srv/data.txt"]',
      ],
    },
    output: greeting + data,
  };
}

/**
 * Fails unless `docker push` or `docker pull` output shows the busybox app's three layers, each
 * ending with `status` (its last progress line, `<short id>: <status>`).
 */
export function assertAppLayers(output: string, status: string): void {
  const statuses = new Map<string, string>();
  for (const [, id, line] of output.matchAll(/^([0-9a-f]{12}): (.+)$/gm))
    statuses.set(id as string, line as string);
  assert.deepEqual([...statuses.values()], [status, status, status], output);
}

/** The manifest digest `docker push` reported for `tag` (its `TAG: digest: sha256:… size: N` line). */
export function pushedDigest(output: string, tag: string): string {
  const match = new RegExp(`^${tag}: digest: (sha256:[0-9a-f]{64}) size: \\d+$`, 'm').exec(output);
  assert.ok(match, `docker push reported no digest for ${tag}:\n${output}`);
  return match[1] as string;
}

/** Fails with the whole output unless it contains `expected` verbatim. */
export function assertContains(output: string, expected: string): void {
  assert.ok(output.includes(expected), `expected ${JSON.stringify(expected)} in:\n${output}`);
}
