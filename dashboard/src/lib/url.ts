/** The parts of a URL these helpers read; `page.url` is a read-only URL in SvelteKit 3. */
type UrlLike = Pick<URL, 'pathname' | 'search'>;

/** A link to the same page with some query parameters set (or removed, with null). */
export function withParams(url: UrlLike, changes: Record<string, string | null>): string {
  const params = new URLSearchParams(url.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === '') params.delete(key);
    else params.set(key, value);
  }
  const search = params.toString();
  return search ? `${url.pathname}?${search}` : url.pathname;
}

/** The query parameters that select a time range, to carry across pages. */
export function rangeParams(url: UrlLike): Record<string, string> {
  const params = new URLSearchParams(url.search);
  const kept: Record<string, string> = {};
  for (const key of ['range', 'from', 'to']) {
    const value = params.get(key);
    if (value) kept[key] = value;
  }
  return kept;
}

export function hrefWithRange(url: UrlLike, pathname: string, extra: Record<string, string> = {}): string {
  const search = new URLSearchParams({ ...rangeParams(url), ...extra }).toString();
  return search ? `${pathname}?${search}` : pathname;
}

/**
 * A form action of this page that keeps the page's query. SvelteKit lands a submission on the
 * action's URL without `?/name`: a bare `?/name` would drop the filters, the version or the item
 * being edited, with or without JavaScript.
 */
export function actionHref(url: UrlLike, action: string): string {
  return url.search ? `${url.search}&/${action}` : `?/${action}`;
}
