import { collector } from '#lib/server/collector.ts';
import { filterOptions } from '#lib/server/filter-options.ts';
import { DIMENSION_FILTERS, readFilters } from '#lib/filters.ts';
import { timeRangeOf } from '#lib/time-range.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const range = timeRangeOf(event.url.searchParams);
  const filters = readFilters(event.url.searchParams, DIMENSION_FILTERS);
  const window = { from: range.from, to: range.to };
  const api = collector(event);
  const [metrics, options] = await Promise.all([api.modelMetrics({ ...window, ...filters }), filterOptions(api, window, filters)]);
  const models = metrics.models.map((m) => m.model).slice(0, 50);
  const quality = models.length ? (await api.experiments.quality(models)).quality : {};
  return { range, filters, metrics, options, quality };
};
