/** A link to the same page with some query parameters set (or removed, with null). */
export function withParams(url: URL, changes: Record<string, string | null>): string {
  const params = new URLSearchParams(url.searchParams);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === '') params.delete(key);
    else params.set(key, value);
  }
  const search = params.toString();
  return search ? `${url.pathname}?${search}` : url.pathname;
}

/** The query parameters that select a time range, to carry across pages. */
export function rangeParams(url: URL): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of ['range', 'from', 'to']) {
    const value = url.searchParams.get(key);
    if (value) kept[key] = value;
  }
  return kept;
}

export function hrefWithRange(url: URL, pathname: string, extra: Record<string, string> = {}): string {
  const search = new URLSearchParams({ ...rangeParams(url), ...extra }).toString();
  return search ? `${pathname}?${search}` : pathname;
}
