/**
 * The pull progress display: live on a terminal, plain log lines otherwise. Pull logic never
 * writes to a stream itself; it emits PullEvents and this module decides what they look like.
 */
import type { TextOut } from '../cli/io.js';
import { formatPlatform } from './platform.js';
import type { PullBlob, PullEvent } from './pull.js';

/** A stream that may be a terminal. */
export type DisplayOut = TextOut & { isTTY?: boolean };

/** A progress display: hand `onProgress` to pullImage, call `close` when the pull ends either way. */
export interface ProgressDisplay {
  onProgress(event: PullEvent): void;
  close(): void;
}

// A terminal cannot show more than this usefully, and redrawing costs the pull CPU.
const REDRAW_INTERVAL_MS = 100;

/** A display for `out`: live when it is a terminal (or `tty` says so), plain lines otherwise. */
export function createProgressDisplay(out: DisplayOut, options: { tty?: boolean } = {}): ProgressDisplay {
  return (options.tty ?? out.isTTY === true) ? liveDisplay(out) : plainDisplay(out);
}

function plainDisplay(out: TextOut): ProgressDisplay {
  return {
    onProgress(event) {
      switch (event.type) {
        case 'resolved': {
          const total = event.blobs.reduce((sum, blob) => sum + blob.size, 0);
          out.write(
            `pulling ${event.reference} (${formatPlatform(event.platform)}, manifest ${shortDigest(event.manifestDigest)}): ` +
              `${event.blobs.length} blobs, ${humanSize(total)}\n`,
          );
          break;
        }
        case 'blob-start':
          out.write(`${label(event.blob)}: downloading ${humanSize(event.blob.size)}\n`);
          break;
        case 'blob-done':
          out.write(`${label(event.blob)}: ${event.skipped ? 'already present' : 'done'}\n`);
          break;
        case 'warning':
          out.write(`warning: ${event.message}\n`);
          break;
        case 'done':
          out.write(`${summary(event)}\n`);
          break;
      }
    },
    close() {},
  };
}

function liveDisplay(out: TextOut): ProgressDisplay {
  const rows = new Map<string, { blob: PullBlob; state: string; done: number }>();
  let drawnLines = 0;
  let lastDraw = 0;
  let timer: NodeJS.Timeout | undefined;

  const line = (row: { blob: PullBlob; state: string; done: number }) => {
    const bytes = row.state === 'downloading' ? `${humanSize(row.done)} / ${humanSize(row.blob.size)}` : '';
    return `${label(row.blob).padEnd(20)} ${row.state.padEnd(16)} ${bytes}`;
  };
  const draw = () => {
    clearTimeout(timer);
    timer = undefined;
    lastDraw = performance.now();
    if (rows.size === 0) return;
    let totalDone = 0;
    let total = 0;
    let finished = 0;
    const lines: string[] = [];
    for (const row of rows.values()) {
      const complete = row.state === 'done' || row.state === 'already present';
      totalDone += complete ? row.blob.size : row.done;
      total += row.blob.size;
      if (complete) finished++;
      lines.push(line(row));
    }
    lines.push(`total ${humanSize(totalDone)} / ${humanSize(total)} (${finished} of ${rows.size} blobs)`);
    // Back to the top of the block drawn last time, then overwrite it line by line.
    const up = drawnLines > 0 ? `\x1b[${drawnLines}A` : '';
    out.write(`${up}${lines.map((text) => `\x1b[2K${text}\n`).join('')}`);
    drawnLines = lines.length;
  };
  const soon = () => {
    const wait = REDRAW_INTERVAL_MS - (performance.now() - lastDraw);
    if (wait <= 0) draw();
    else if (!timer) {
      timer = setTimeout(draw, wait);
      timer.unref();
    }
  };

  return {
    onProgress(event) {
      switch (event.type) {
        case 'resolved':
          out.write(`Pulling ${event.reference} (${formatPlatform(event.platform)})\n`);
          for (const blob of event.blobs) rows.set(blob.digest, { blob, state: 'waiting', done: 0 });
          draw();
          break;
        case 'blob-start':
        case 'blob-progress':
        case 'blob-done': {
          const row = rows.get(event.blob.digest);
          if (!row) break;
          if (event.type === 'blob-done') row.state = event.skipped ? 'already present' : 'done';
          else row.state = 'downloading';
          if (event.type === 'blob-progress') row.done = event.done;
          if (event.type === 'blob-progress') soon();
          else draw();
          break;
        }
        case 'warning':
          draw();
          out.write(`warning: ${event.message}\n`);
          // The warning sits below the block; start a fresh block rather than overwrite it.
          drawnLines = 0;
          break;
        case 'done':
          draw();
          out.write(`${summary(event)}\n`);
          break;
      }
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

function summary(event: Extract<PullEvent, { type: 'done' }>): string {
  const seconds = event.durationMs / 1000;
  const rate = seconds > 0 ? event.downloadedBytes / 1e6 / seconds : 0;
  const id = event.record.configDigest.slice(7, 19);
  if (event.downloadedBytes === 0) return `${event.record.reference}: image is up to date (ID ${id})`;
  return (
    `pulled ${event.record.reference}: ${humanSize(event.downloadedBytes)} in ${seconds.toFixed(2)} s ` +
    `(${rate.toFixed(1)} MB/s), image ID ${id}`
  );
}

function label(blob: PullBlob): string {
  return `${blob.kind} ${shortDigest(blob.digest)}`;
}

function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Bytes in decimal units, as docker shows sizes: `532 B`, `1.2 kB`, `41.9 MB`. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0
    ? `${value} B`
    : `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`;
}
