/** Filters every metrics and trace call accepts; each is a URL query parameter of the same name. */
export const DIMENSION_FILTERS = ['service', 'environment', 'provider', 'model', 'user', 'tag'] as const;
export type DimensionFilter = (typeof DIMENSION_FILTERS)[number];

export function readFilters<const K extends string>(params: URLSearchParams, keys: readonly K[]): Record<K, string> {
  return Object.fromEntries(keys.map((key) => [key, params.get(key)?.trim() ?? ''])) as Record<K, string>;
}

/** The values a filter menu offers: what the data holds, plus the current choice even if it holds none. */
export function menuOptions(values: string[] | null, current: string): string[] | null {
  if (values === null) return null;
  const set = new Set(values.filter((v) => v !== ''));
  if (current) set.add(current);
  return [...set].sort((a, b) => a.localeCompare(b));
}
