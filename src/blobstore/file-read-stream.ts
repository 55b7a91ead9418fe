/**
 * A readable stream over a byte window of an open file that, when piped, recycles its read
 * buffers. Plain `fs` read streams allocate a fresh buffer for every chunk; serving GiBs
 * that way churns external memory, which makes V8 garbage-collect constantly. When this
 * stream is piped into an HTTP response, it reads into buffers from the driver's small pool
 * and gives a buffer back only after the response's write callback says the bytes reached
 * the kernel. Piped anywhere else or consumed any other way (`for await`, 'data' events), it
 * hands out fresh buffers like any Readable, so no consumer can ever see a buffer reused.
 */
import type { FileHandle } from 'node:fs/promises';
import { OutgoingMessage } from 'node:http';
import { Readable, type Writable } from 'node:stream';

const CHUNK = 1024 * 1024;
const IN_FLIGHT = 3;

/** Read buffers shared by the streams of one driver. */
export interface BufferPool {
  /** A buffer of exactly `size` bytes (at most one chunk). */
  take(size: number): Buffer;
  /** Returns a buffer no one references any more. */
  give(buffer: Buffer): void;
}

/** A pool keeping up to `limit` spare chunk-sized buffers. */
export function createBufferPool(limit = 4): BufferPool {
  const spare: Buffer[] = [];
  return {
    take(size) {
      if (size < CHUNK) return Buffer.allocUnsafe(size);
      return spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
    },
    give(buffer) {
      if (buffer.length === CHUNK && buffer.buffer.byteLength === CHUNK && spare.length < limit)
        spare.push(buffer);
    },
  };
}

/** Streams `length` bytes of `handle` from `offset`; closes the handle when done or destroyed. */
export class FileReadStream extends Readable {
  private position: number;
  private remaining: number;
  private handleClosed = false;

  constructor(
    private readonly handle: FileHandle,
    offset: number,
    length: number,
    private readonly pool: BufferPool,
  ) {
    super({ highWaterMark: CHUNK });
    this.position = offset;
    this.remaining = length;
  }

  override _read(): void {
    if (this.remaining === 0) {
      this.push(null);
      return;
    }
    const size = Math.min(CHUNK, this.remaining);
    this.readChunk(Buffer.allocUnsafe(size)).then(
      (chunk) => this.push(chunk),
      (err: Error) => this.destroy(err),
    );
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    // Pooled buffers are only safe into an HTTP response, whose write callback means the
    // bytes reached the kernel (a Transform calls back while still holding the chunk), and
    // only when nothing has been read the ordinary way yet.
    const recyclable = destination instanceof OutgoingMessage;
    if (!recyclable || this.readableDidRead || this.readableLength > 0 || this.readableFlowing !== null) {
      return super.pipe(destination, options);
    }
    this.pump(destination as unknown as Writable, options?.end ?? true).catch((err: Error) => {
      this.destroy(err);
      (destination as unknown as Writable).destroy(err);
    });
    return destination;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeHandle().then(
      () => callback(error),
      (closeError: Error) => callback(error ?? closeError),
    );
  }

  private async pump(destination: Writable, end: boolean): Promise<void> {
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const settle = () => {
      const resume = wake;
      wake = undefined;
      resume?.();
    };
    const gone = () => destination.destroyed || destination.writableEnded;
    destination.on('drain', settle);
    destination.once('close', settle);
    const waitForRoom = async () => {
      while ((inFlight >= IN_FLIGHT || destination.writableNeedDrain) && !gone()) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    };
    try {
      // Always have the next read under way while the previous chunk is being written.
      let next =
        this.remaining > 0 ? this.readChunk(this.pool.take(Math.min(CHUNK, this.remaining))) : undefined;
      while (next && !this.destroyed) {
        const chunk = await next;
        next =
          this.remaining > 0 ? this.readChunk(this.pool.take(Math.min(CHUNK, this.remaining))) : undefined;
        await waitForRoom();
        if (gone()) {
          await next?.then(
            (buffer) => this.pool.give(buffer),
            () => {},
          );
          break;
        }
        inFlight += 1;
        destination.write(chunk, () => {
          inFlight -= 1;
          this.pool.give(chunk);
          settle();
        });
      }
    } finally {
      destination.off('drain', settle);
      destination.off('close', settle);
    }
    if (this.destroyed) return;
    if (gone()) {
      this.destroy();
      return;
    }
    if (end) destination.end();
    // End the readable side the ordinary way, so pipeline() and friends see 'end', not a
    // premature close.
    this.push(null);
    this.resume();
  }

  /** Reads the next chunk into `buffer`; position advances at once so reads can be chained. */
  private async readChunk(buffer: Buffer): Promise<Buffer> {
    const position = this.position;
    this.position += buffer.length;
    this.remaining -= buffer.length;
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, position);
    if (bytesRead !== buffer.length) throw new Error('file ended before the requested range was read');
    return buffer;
  }

  private async closeHandle(): Promise<void> {
    if (this.handleClosed) return;
    this.handleClosed = true;
    await this.handle.close();
  }
}
