/**
 * Cutting a stream into multipart-upload parts of exactly one size, uploading several at once
 * with backpressure: the source is not read while `concurrency` parts are in flight, so memory
 * stays at most `concurrency + 1` parts (those in flight and the one filling), whatever the
 * source's size. Part buffers are reused within one call.
 */
import type { Readable } from 'node:stream';

/** How to cut and where the full parts go. */
export interface PartCutting {
  partSize: number;
  /** Full parts uploading at once. */
  concurrency: number;
  /** Bytes that come before the source's (fewer than one part). */
  first: Buffer;
  /** Uploads full part number `index` (counted from 0 within this call). */
  upload(part: Buffer, index: number): Promise<void>;
}

/** What is left after the last full part, and how much came from the source. */
export interface CutResult {
  /** The bytes after the last full part (fewer than one part). */
  rest: Buffer;
  /** Full parts uploaded. */
  parts: number;
  /** Bytes the source yielded. */
  received: number;
}

/**
 * Reads `source` to its end, uploading every full part; rejects when the source or an upload
 * fails, once no upload is still running.
 */
export async function cutParts(source: Readable, cutting: PartCutting): Promise<CutResult> {
  const { partSize } = cutting;
  const spare: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let current: Buffer = Buffer.allocUnsafe(partSize);
  let filled = cutting.first.copy(current);
  let parts = 0;
  let received = 0;

  async function send(part: Buffer): Promise<void> {
    while (inFlight.size >= cutting.concurrency) await Promise.race(inFlight);
    if (failure) throw failure.error;
    const index = parts++;
    const upload = cutting.upload(part, index).then(
      () => {
        spare.push(part);
      },
      (error: unknown) => {
        failure ??= { error };
      },
    );
    const tracked = upload.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }

  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      received += chunk.length;
      for (let offset = 0; offset < chunk.length; ) {
        const copied = chunk.copy(current, filled, offset, offset + partSize - filled);
        filled += copied;
        offset += copied;
        if (filled < partSize) continue;
        await send(current);
        current = spare.pop() ?? Buffer.allocUnsafe(partSize);
        filled = 0;
      }
      if (failure) throw failure.error;
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    return { rest: current.subarray(0, filled), parts, received };
  } catch (err) {
    // Nothing may still be uploading when the caller cleans up after the failure.
    await Promise.all(inFlight);
    throw err;
  }
}
