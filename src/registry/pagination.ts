/**
 * `n`/`last` pagination shared by the tags list and the catalog: results strictly after
 * `last`, at most `n` of them, and whether more remain (which earns a `Link` header).
 */

/** A page of results. */
export interface Page<T> {
  items: T[];
  /** True when results remain after this page. */
  more: boolean;
}

/** Pagination request. `n` undefined means "all, up to the server's limit". */
export interface PageRequest {
  n?: number;
  last?: string;
}

/** Slices a sorted list into the requested page, never returning more than `limit` items. */
export function paginate<T extends string>(sorted: T[], request: PageRequest, limit: number): Page<T> {
  const start = request.last === undefined ? 0 : firstAfter(sorted, request.last);
  const size = Math.min(request.n ?? limit, limit);
  const items = sorted.slice(start, start + size);
  return { items, more: start + size < sorted.length && size > 0 };
}

function firstAfter(sorted: string[], last: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) <= last) low = mid + 1;
    else high = mid;
  }
  return low;
}
