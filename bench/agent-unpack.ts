/**
 * Unpack throughput of `berth agent` (`npm run bench:unpack`; writes about 2 GiB in a temp
 * directory): a ~200 MiB gzip layer set (half random, incompressible files, half text-like
 * ones), its zstd form, and a layer of 20,000 small files, with `umoci unpack` of the gzip form
 * for comparison. Needs root, skopeo and umoci.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { unpackSnapshot } from '../src/agent/unpack/index.js';
import { type ImageLayer, readImage, writeImage } from '../test/e2e/helpers/layers.js';
import { runOk } from '../test/e2e/helpers/run.js';
import { type TarSpec, tarArchive } from '../test/helpers/tar-writer.js';
import { removeDir, tempDir } from '../test/helpers/tmp.js';

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const content = (i: number, length: number): Buffer =>
  i % 2 === 0
    ? randomBytes(length)
    : Buffer.from(
        `line ${i} ${randomBytes(8).toString('hex')} some repeated text\n`.repeat(Math.ceil(length / 60)),
      );

async function measure(work: string, name: string, tars: Buffer[], zstd: boolean): Promise<string[]> {
  const layout = path.join(work, name);
  const runs: Array<[string, ImageLayer[]]> = [['gzip', await writeImage(layout, 'bench', tars, 'gzip')]];
  const uncompressed = tars.reduce((sum, tar) => sum + tar.length, 0);
  if (zstd) {
    await runOk('skopeo', [
      'copy',
      '--dest-compress-format',
      'zstd',
      `oci:${layout}:bench`,
      `oci:${layout}-zstd:bench`,
    ]);
    runs.push(['zstd', await readImage(`${layout}-zstd`, 'bench')]);
  }
  const lines: string[] = [];
  for (const [format, layers] of runs) {
    let compressed = 0;
    for (const layer of layers) compressed += (await stat(layer.path)).size;
    const started = process.hrtime.bigint();
    await unpackSnapshot({ snapshotDir: path.join(work, `${name}-${format}-snap`), layers });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    lines.push(
      `${name} ${format}: ${mib(compressed)} MiB compressed, ${mib(uncompressed)} MiB tar, ${seconds.toFixed(2)} s = ` +
        `${mib(compressed / seconds)} MiB/s compressed, ${mib(uncompressed / seconds)} MiB/s uncompressed`,
    );
  }
  const started = process.hrtime.bigint();
  await runOk('umoci', ['unpack', '--image', `${layout}:bench`, path.join(work, `${name}-bundle`)]);
  lines.push(
    `${name} gzip with umoci unpack: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s`,
  );
  return lines;
}

function bigLayers(): Buffer[] {
  const tars: Buffer[] = [];
  for (let layer = 0; layer < 4; layer++) {
    const specs: TarSpec[] = [{ name: `layer${layer}/`, type: 'dir' }];
    for (let i = 0, size = 0; size < 90 * 1024 * 1024; i++) {
      const body = content(i, 1024 + ((i * 7919) % (1024 * 1024)));
      specs.push({ name: `layer${layer}/d${i % 50}/file${i}`, content: body });
      size += body.length;
    }
    tars.push(tarArchive(specs, { recordSize: 10240 }));
  }
  return tars;
}

function smallFiles(): Buffer[] {
  const specs: TarSpec[] = [];
  for (let d = 0; d < 200; d++) specs.push({ name: `small/d${d}/`, type: 'dir' });
  for (let i = 0; i < 20_000; i++)
    specs.push({ name: `small/d${i % 200}/f${i}`, content: content(i, 100 + ((i * 131) % 8000)) });
  return [tarArchive(specs, { recordSize: 10240 })];
}

const work = await tempDir('berth-unpack-bench-');
try {
  for (const line of await measure(work, 'big', bigLayers(), true)) console.log(line);
  for (const line of await measure(work, 'small', smallFiles(), false)) console.log(line);
} finally {
  await removeDir(work);
}
