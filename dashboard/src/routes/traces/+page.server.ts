import { fail } from '@sveltejs/kit';
import { collector, failureMessage } from '#lib/server/collector.ts';
import { datasetTarget } from '#lib/server/dataset-target.ts';
import { timeRangeOf } from '#lib/time-range.ts';
import { readPaging, TRACE_RANGE_FILTERS, TRACE_SORTS, TRACE_TEXT_FILTERS, type TraceSort } from '#lib/trace-list.ts';
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

export const actions: Actions = {
  /** Bulk promote: one test case per LLM call of each chosen trace. */
  addToDataset: async (event) => {
    const form = await event.request.formData();
    const scope = form.get('scope') === 'page' ? 'page' : 'selected';
    const traceIds = form
      .getAll(scope === 'page' ? 'pageTraceId' : 'traceId')
      .map(String)
      .filter((id) => /^[0-9a-f]{32}$/i.test(id));
    if (traceIds.length === 0) {
      return fail(400, { addToDataset: { error: scope === 'page' ? 'This page has no traces.' : 'Select at least one trace first.' } });
    }
    const api = collector(event);
    try {
      const dataset = await datasetTarget(api, form);
      if ('error' in dataset) return fail(400, { addToDataset: { error: dataset.error } });
      const created = await api.addItemsFromTraces(dataset.id, traceIds);
      return {
        addToDataset: {
          added: created.items.length,
          traces: traceIds.length,
          dataset: { id: dataset.id, name: dataset.name },
        },
      };
    } catch (failure) {
      return fail(502, { addToDataset: { error: failureMessage(failure) } });
    }
  },
};
