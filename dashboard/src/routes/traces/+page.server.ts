import { fail, isHttpError } from '@sveltejs/kit';
import { collector, failureMessage } from '#lib/server/collector.ts';
import { datasetTarget } from '#lib/server/dataset-target.ts';
import { countMatching, matchingQuery } from '#lib/server/matching-traces.ts';
import { timeRangeOf } from '#lib/time-range.ts';
import { MATCHING_TRACES_CAP, readPaging, TRACE_RANGE_FILTERS, TRACE_SORTS, TRACE_TEXT_FILTERS, type TraceSort } from '#lib/trace-list.ts';
import type { DatasetSummary } from '#lib/api-types.ts';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load: PageServerLoad = async (event) => {
  const { url } = event;
  const range = timeRangeOf(url.searchParams);
  const param = (key: string) => url.searchParams.get(key)?.trim() ?? '';
  const filters = Object.fromEntries(TRACE_TEXT_FILTERS.map((key) => [key, param(key)])) as Record<(typeof TRACE_TEXT_FILTERS)[number], string>;
  const ranges = Object.fromEntries(TRACE_RANGE_FILTERS.map((key) => [key, param(key)])) as Record<(typeof TRACE_RANGE_FILTERS)[number], string>;
  const sortParam = param('sort');
  const sort: TraceSort = (TRACE_SORTS as readonly string[]).includes(sortParam) ? (sortParam as TraceSort) : 'time';
  const order = param('order') === 'asc' ? 'asc' : 'desc';
  const paging = readPaging(url.searchParams);
  const window = { from: range.from, to: range.to };

  const api = collector(event);
  const [list, models, datasets] = await Promise.all([
    api.traces({ ...window, ...filters, ...ranges, sort, order, cursor: paging.cursor, limit: PAGE_SIZE }),
    api.modelMetrics(window),
    // Only for "Add to dataset": the list works without it.
    api.datasets().then(
      (r) => r.datasets,
      () => null as DatasetSummary[] | null,
    ),
  ]);

  return {
    range,
    filters,
    ranges,
    sort,
    order,
    paging,
    list,
    datasets,
    modelOptions: [...new Set(models.models.map((m) => m.model))].sort(),
  };
};

/** What "Add to dataset" answers, one shape for every outcome. */
interface BulkAnswer {
  error?: string;
  /** "All matching" counted first: how many traces, and the fixed query that adds them. */
  preview?: { traces: number; capped: boolean; llmCalls: number; cap: number; query: string };
  /** What was picked, to show it again beside the count. */
  datasetId?: string;
  newDatasetName?: string;
  added?: { items: number; traces: number; capped: boolean; dataset: { id: string; name: string } };
}

const answer = (addToDataset: BulkAnswer) => ({ addToDataset });

export const actions: Actions = {
  /**
   * Bulk promote: one test case per LLM call of each chosen trace. The chosen traces are the
   * selected rows, this page's rows, or every trace the list's filters match (counted first, so
   * the person sees how many before anything is added).
   */
  addToDataset: async (event) => {
    const form = await event.request.formData();
    const scope = String(form.get('scope') ?? 'selected');
    const api = collector(event);
    try {
      if (scope === 'count-matching') {
        const query = matchingQuery(event.url.search);
        const counted = await countMatching(api, query, MATCHING_TRACES_CAP);
        if (counted.traces === 0) return fail(400, answer({ error: 'No traces match these filters in this time range.' }));
        return answer({
          preview: { ...counted, cap: MATCHING_TRACES_CAP, query: new URLSearchParams(query).toString() },
          datasetId: String(form.get('datasetId') ?? ''),
          newDatasetName: String(form.get('newDatasetName') ?? ''),
        });
      }
      if (scope === 'matching') {
        const query = Object.fromEntries(new URLSearchParams(String(form.get('matchingQuery') ?? '')));
        const dataset = await datasetTarget(api, form);
        if ('error' in dataset) return fail(400, answer({ error: dataset.error }));
        const done = await api.addItemsFromMatchingTraces(dataset.id, query, MATCHING_TRACES_CAP);
        return answer({ added: { items: done.added, traces: done.traces, capped: done.capped, dataset: { id: dataset.id, name: dataset.name } } });
      }
      const traceIds = form
        .getAll(scope === 'page' ? 'pageTraceId' : 'traceId')
        .map(String)
        .filter((id) => /^[0-9a-f]{32}$/i.test(id));
      if (traceIds.length === 0) {
        return fail(400, answer({ error: scope === 'page' ? 'This page has no traces.' : 'Select at least one trace first.' }));
      }
      const dataset = await datasetTarget(api, form);
      if ('error' in dataset) return fail(400, answer({ error: dataset.error }));
      const created = await api.addItemsFromTraces(dataset.id, traceIds);
      return answer({ added: { items: created.items.length, traces: traceIds.length, capped: false, dataset: { id: dataset.id, name: dataset.name } } });
    } catch (failure) {
      // A read that failed (counting) is an HttpError; a write that failed is the collector's message.
      if (isHttpError(failure)) return fail(502, answer({ error: failure.body.message }));
      return fail(502, answer({ error: failureMessage(failure) }));
    }
  },
};
