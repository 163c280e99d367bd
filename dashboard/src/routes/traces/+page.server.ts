import { collector } from '#lib/server/collector.ts';
import { timeRangeOf } from '#lib/time-range.ts';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ fetch, url }) => {
  const range = timeRangeOf(url.searchParams);
  const param = (key: string) => url.searchParams.get(key)?.trim() ?? '';
  const filters = { q: param('q'), model: param('model'), status: param('status'), service: param('service') };
  const cursor = param('cursor');
  const window = { from: range.from, to: range.to };

  const api = collector(fetch);
  const [list, models] = await Promise.all([
    api.traces({ ...window, ...filters, cursor, limit: PAGE_SIZE }),
    api.modelMetrics(window),
  ]);

  return {
    range,
    filters,
    cursor,
    list,
    modelOptions: [...new Set(models.models.map((m) => m.model))].sort(),
  };
};
