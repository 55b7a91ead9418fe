/**
 * Keeps dead I/O buffers from piling up. Every chunk a socket delivers is a fresh buffer
 * outside the V8 heap; V8 only notices them once 64 MiB of such memory has accumulated, so
 * a multi-GiB upload makes the process's memory swell by that much between collections. This
 * checks the external memory a few times a second and, when it has grown by more than
 * `threshold` bytes, asks for a young-generation collection (about a millisecond), which
 * frees the buffers nobody references any more.
 *
 * It needs `gc` exposed (`node --expose-gc`, as bin/berth starts Berth); without it this does
 * nothing.
 */
import { getHeapStatistics } from 'node:v8';

/** Options of the governor. */
export interface MemoryGovernorOptions {
  /** Growth of external memory that triggers a collection, in bytes. */
  threshold?: number;
  /** How often to look, in milliseconds. */
  intervalMs?: number;
}

type MinorGc = (options: { type: 'minor' }) => void;

/** Starts the governor; returns a function that stops it. */
export function startMemoryGovernor(options: MemoryGovernorOptions = {}): () => void {
  const gc = (globalThis as { gc?: MinorGc }).gc;
  if (typeof gc !== 'function') return () => {};
  const threshold = options.threshold ?? 8 * 1024 * 1024;
  let baseline = getHeapStatistics().external_memory;
  const timer = setInterval(() => {
    const external = getHeapStatistics().external_memory;
    if (external - baseline > threshold) {
      gc({ type: 'minor' });
      baseline = getHeapStatistics().external_memory;
    } else if (external < baseline) {
      baseline = external;
    }
  }, options.intervalMs ?? 10);
  timer.unref();
  return () => clearInterval(timer);
}
