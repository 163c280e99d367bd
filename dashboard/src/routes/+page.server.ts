import { collector } from '#lib/server/collector.ts';
import { bucketSecondsFor, timeRangeOf } from '#lib/time-range.ts';
import type { PageServerLoad } from './$types';

const FILTER_KEYS = ['provider', 'model', 'service', 'environment'] as const;

export const load: PageServerLoad = async ({ fetch, url }) => {
  const range = timeRangeOf(url.searchParams);
  const filters = Object.fromEntries(FILTER_KEYS.map((key) => [key, url.searchParams.get(key) ?? ''])) as Record<
    (typeof FILTER_KEYS)[number],
    string
  >;
  const filtered = FILTER_KEYS.some((key) => filters[key] !== '');
  const window = { from: range.from, to: range.to };
  const bucket = bucketSecondsFor(range);

  const api = collector(fetch);
  const [project, metrics, timeseries, unfiltered, services] = await Promise.all([
    api.project(),
    api.modelMetrics({ ...window, ...filters }),
    api.timeseries({ ...window, ...filters, bucket }),
    // The filter menus list every model and provider in the window, not only the ones left after filtering.
    filtered ? api.modelMetrics(window) : null,
    // Only feeds the service menu: without it the page still works, with a free-text service box.
    api.breakdown({ ...window, groupBy: 'service' }).then(
      (r) => r.rows.map((row) => row.key).filter((key) => key !== ''),
      () => null,
    ),
  ]);

  const all = (unfiltered ?? metrics).models;
  return {
    project,
    range,
    filters,
    metrics,
    timeseries,
    options: {
      models: [...new Set(all.map((m) => m.model))].sort(),
      providers: [...new Set(all.map((m) => m.provider))].sort(),
      services: services?.sort() ?? null,
    },
  };
};
