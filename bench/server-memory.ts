/**
 * The server's own account of its memory, from its Prometheus metrics: how much of its RSS is
 * the V8 heap (where the metadata cache lives) and how much is memory outside it (buffers).
 * With several workers the answer comes from whichever process served the request.
 */

/** Heap and external memory of one server process, in MiB. */
export interface HeapSplit {
  heapUsedMiB: number;
  externalMiB: number;
}

const MiB = 1024 * 1024;

/** The value of the unlabelled sample `name` in Prometheus text `metrics`, or undefined. */
export function metricValue(metrics: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics);
  return match ? Number(match[1]) : undefined;
}

/** The heap split in `metrics` (Berth's `berth_nodejs_*` gauges), or undefined without them. */
export function heapSplit(metrics: string): HeapSplit | undefined {
  const heap = metricValue(metrics, 'berth_nodejs_heap_size_used_bytes');
  const external = metricValue(metrics, 'berth_nodejs_external_memory_bytes');
  if (heap === undefined || external === undefined) return undefined;
  return { heapUsedMiB: heap / MiB, externalMiB: external / MiB };
}

/** GETs `http://<host>/metrics` and returns the heap split; undefined when it cannot. */
export async function readHeapSplit(host: string): Promise<HeapSplit | undefined> {
  try {
    const response = await fetch(`http://${host}/metrics`);
    if (!response.ok) return undefined;
    return heapSplit(await response.text());
  } catch {
    return undefined;
  }
}
