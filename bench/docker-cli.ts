/**
 * The docker CLI as a benchmark client: builds an image from local files (nothing can be
 * pulled from Docker Hub), pushes and pulls it against the server under test, with its own
 * DOCKER_CONFIG so a login never touches the user's ~/.docker.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchError } from './registry-client.js';

/** A docker client with a private configuration directory. */
export interface DockerClient {
  /** Runs `docker ...args`; resolves with stdout, throws with the output on a non-zero exit. */
  run(args: readonly string[], input?: string): Promise<string>;
  /** Removes the private configuration directory. */
  close(): Promise<void>;
}

/** A docker client; fails at once with a clear message when no docker daemon answers. */
export async function dockerClient(): Promise<DockerClient> {
  const config = await mkdtemp(join(tmpdir(), 'berth-bench-docker-'));
  const env = { ...process.env, DOCKER_CONFIG: config, DOCKER_BUILDKIT: '0' };
  const run = (args: readonly string[], input?: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(
        'docker',
        args,
        { env, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new BenchError(`docker ${args.join(' ')}: ${`${stderr}${stdout}`.trim()}`));
          else resolve(stdout);
        },
      );
      child.stdin?.end(input ?? '');
    });
  try {
    await run(['info', '--format', '{{.ServerVersion}}']);
  } catch (error) {
    await rm(config, { recursive: true, force: true });
    throw new BenchError(`the docker scenario needs a running docker daemon: ${(error as Error).message}`);
  }
  return { run, close: () => rm(config, { recursive: true, force: true }) };
}

/**
 * Writes a build context whose Dockerfile copies each of `layers` (file contents) in its own
 * step, so the image has one layer per entry. Returns the context directory.
 */
export async function writeBuildContext(layers: readonly Uint8Array[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-image-'));
  const steps = ['FROM scratch'];
  for (const [i, bytes] of layers.entries()) {
    await writeFile(join(dir, `layer${i}.bin`), bytes);
    steps.push(`COPY layer${i}.bin /data/layer${i}.bin`);
  }
  await writeFile(join(dir, 'Dockerfile'), `${steps.join('\n')}\n`);
  return dir;
}
