import type { Collector } from '#lib/server/collector.ts';
import { timeRangeOf } from '#lib/time-range.ts';
import { TRACE_RANGE_FILTERS, TRACE_SORTS, TRACE_TEXT_FILTERS } from '#lib/trace-list.ts';

/** The collector's largest trace-list page. */
const COUNT_PAGE = 500;

/**
 * The query of the trace list a person is looking at (its URL's search), as the collector's
 * filters: the same filters and order, with the time range fixed to absolute times, so that
 * counting first and adding after select the same traces.
 */
export function matchingQuery(listSearch: string, now: number = Date.now()): Record<string, string> {
  const params = new URLSearchParams(listSearch);
  const range = timeRangeOf(params, now);
  const query: Record<string, string> = { from: range.from, to: range.to };
  for (const key of [...TRACE_TEXT_FILTERS, ...TRACE_RANGE_FILTERS]) {
    const value = params.get(key)?.trim();
    if (value) query[key] = value;
  }
  const sort = params.get('sort') ?? '';
  if ((TRACE_SORTS as readonly string[]).includes(sort)) query.sort = sort;
  if (params.get('order') === 'asc') query.order = 'asc';
  return query;
}

/** How many traces match (at most `cap`, and whether more do), and the LLM calls in those. */
export async function countMatching(api: Collector, query: Record<string, string>, cap: number): Promise<{ traces: number; capped: boolean; llmCalls: number }> {
  let seen = 0;
  let llmCalls = 0;
  let cursor: string | null = null;
  // One trace past the cap tells whether the cap cuts the selection short.
  do {
    const page: Awaited<ReturnType<Collector['traces']>> = await api.traces({ ...query, limit: Math.min(COUNT_PAGE, cap + 1 - seen), cursor });
    for (const trace of page.traces) {
      if (seen < cap) llmCalls += trace.llmCalls;
      seen++;
    }
    cursor = page.nextCursor;
  } while (cursor && seen <= cap);
  return { traces: Math.min(seen, cap), capped: seen > cap, llmCalls };
}
