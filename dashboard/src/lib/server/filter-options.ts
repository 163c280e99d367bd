import type { Collector } from '#lib/server/collector.ts';
import { DIMENSION_FILTERS, menuOptions, type DimensionFilter } from '#lib/filters.ts';

/**
 * The values each filter menu offers: every value in the window, not only those left after
 * filtering. They only feed menus; a failed list becomes a free-text box (null).
 */
export async function filterOptions(
  api: Collector,
  window: { from: string; to: string },
  filters: Record<DimensionFilter, string>,
): Promise<Record<DimensionFilter, string[] | null>> {
  const lists = await Promise.all(
    DIMENSION_FILTERS.map((dimension) =>
      api.dimensionValues({ ...window, dimension, limit: 200 }).then(
        (r) => r.values.map((v) => v.value),
        () => null,
      ),
    ),
  );
  return Object.fromEntries(DIMENSION_FILTERS.map((key, i) => [key, menuOptions(lists[i]!, filters[key])])) as Record<DimensionFilter, string[] | null>;
}
