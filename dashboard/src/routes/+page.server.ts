import { collector } from '#lib/server/collector.ts';
import { filterOptions } from '#lib/server/filter-options.ts';
import { DIMENSION_FILTERS, readFilters } from '#lib/filters.ts';
import { bucketSecondsFor, timeRangeOf } from '#lib/time-range.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const range = timeRangeOf(event.url.searchParams);
  const filters = readFilters(event.url.searchParams, DIMENSION_FILTERS);
  const window = { from: range.from, to: range.to };

  const api = collector(event);
  const [project, metrics, timeseries, options] = await Promise.all([
    api.project(),
    api.modelMetrics({ ...window, ...filters }),
    api.timeseries({ ...window, ...filters, bucket: bucketSecondsFor(range) }),
    filterOptions(api, window, filters),
  ]);
  return { project, range, filters, metrics, timeseries, options };
};
