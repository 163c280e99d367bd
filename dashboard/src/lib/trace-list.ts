/** The trace list's query in the URL: what the API filters and sorts by, and the way back through pages. */
export const TRACE_TEXT_FILTERS = ['q', 'model', 'status', 'service', 'environment', 'user', 'session', 'tag'] as const;
export const TRACE_RANGE_FILTERS = ['minCost', 'maxCost', 'minDurationMs', 'maxDurationMs'] as const;
export const TRACE_SORTS = ['time', 'duration', 'cost', 'tokens'] as const;
export type TraceSort = (typeof TRACE_SORTS)[number];

/** Most traces "Add all matching" takes at once: the collector's limit for one request. */
export const MATCHING_TRACES_CAP = 1000;

/**
 * Cursor paging goes forward only, so the URL keeps the cursors of the pages already passed
 * (`trail`, dot-separated; base64url has no dots). "Previous" pops the last one.
 */
export interface Paging {
  cursor: string;
  trail: string[];
}

export function readPaging(params: URLSearchParams): Paging {
  const trail = (params.get('trail') ?? '').split('.').filter((c) => c !== '');
  return { cursor: params.get('cursor') ?? '', trail };
}

export function nextPage(paging: Paging, nextCursor: string): Record<string, string | null> {
  const trail = paging.cursor ? [...paging.trail, paging.cursor] : [];
  return { cursor: nextCursor, trail: trail.length ? trail.join('.') : null };
}

/** null when this is the first page. */
export function previousPage(paging: Paging): Record<string, string | null> | null {
  if (!paging.cursor) return null;
  const trail = [...paging.trail];
  const cursor = trail.pop() ?? null;
  return { cursor, trail: trail.length ? trail.join('.') : null };
}

/** Which page this is, counting from 1. */
export function pageNumber(paging: Paging): number {
  return paging.cursor ? paging.trail.length + 2 : 1;
}
