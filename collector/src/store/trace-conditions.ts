import { hasValueHash, storedValueTest, type ValueDimension } from './trace-summaries.ts';
import { INDEXED_SEARCH_FROM_MS, textCondition } from './text-search.ts';
import type { TraceQuery } from './traces.ts';

/** One row per trace: what the trace list shows, summed over the trace's spans in the range. */
export const TRACE_SUMMARY = `
  trace_id AS traceId,
  argMin(name, (parent_span_id != '', start_time)) AS name,
  argMin(service_name, (parent_span_id != '', start_time)) AS serviceName,
  toString(min(start_time)) AS startTime,
  (toUnixTimestamp64Nano(max(end_time)) - toUnixTimestamp64Nano(min(start_time))) / 1e6 AS durationMs,
  count() AS spanCount,
  countIf(operation != '') AS llmCalls,
  countIf(status_code = 'ERROR') AS errorCount,
  arraySort(groupUniqArrayIf(model, model != '')) AS models,
  sum(input_tokens) AS inputTokens,
  sum(output_tokens) AS outputTokens,
  if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost`;

/** A condition some span of a trace must meet for the trace to be listed. */
export interface SpanCondition {
  sql: string;
  params: Record<string, unknown>;
  /**
   * The same condition on a trace's merged trace_summaries rows, when they hold what it tests: `prefilter`
   * for prefilterFromRollup, `exact` for summariseFromRollup; `stored` the prefilter on its trace_totals row.
   */
  rollup?: { exact: string; prefilter: string; stored: string };
  /** Its spans are read from a projection sorted by it (migration 16), so a wide window costs little more than a narrow one. */
  sortedRead?: true;
  /** The same condition in a form an index answers at a cost that hardly grows with the window (text-search.ts): see conditionFor. */
  wide?: string;
}

/** The condition's SQL for spans of a window `windowMs` long: its `wide` form from INDEXED_SEARCH_FROM_MS on, when it has one. */
export function conditionFor(condition: SpanCondition, windowMs: number): string {
  return windowMs >= INDEXED_SEARCH_FROM_MS && condition.wide ? condition.wide : condition.sql;
}

/**
 * The span conditions of a trace query, the likely most selective first: a session or user names
 * a few traces, a model or environment many. (The newest-first walk drives its search with the first.)
 */
export function spanConditions(query: TraceQuery): SpanCondition[] {
  const conditions: SpanCondition[] = [];
  const add = (key: keyof TraceQuery, sql: string, more: Pick<SpanCondition, 'rollup' | 'sortedRead'> = {}) => {
    const value = query[key];
    if (typeof value === 'string' && value) conditions.push({ sql, params: { [key]: value }, ...more });
  };
  // A value the trace's merged rows hold in `set`, tested first on its hash.
  const valueIn = (set: string, dimension: ValueDimension, key: keyof TraceQuery) => ({
    exact: `has(${set}, {${key}:String})`,
    prefilter: hasValueHash(dimension, key),
    stored: storedValueTest(dimension, key),
  });
  add('sessionId', 'session_id = {sessionId:String}');
  add('userId', 'user_id = {userId:String}', { rollup: valueIn('traceUsers', 'user', 'userId'), sortedRead: true });
  Object.entries(query.metadata ?? {}).forEach(([key, value], i) => {
    conditions.push({
      sql: `attributes[{metaKey${i}:String}] = {metaValue${i}:String}`,
      params: { [`metaKey${i}`]: `parallax.metadata.${key}`, [`metaValue${i}`]: value },
    });
  });
  if (query.q) conditions.push(textCondition(query.q));
  if (query.status === 'error') conditions.push({ sql: "status_code = 'ERROR'", params: {}, rollup: { exact: 'errorCount > 0', prefilter: 'errorCount > 0', stored: 'errorCount > 0' } });
  add('model', 'model = {model:String}', { rollup: valueIn('models', 'model', 'model') });
  add('tag', 'has(tags, {tag:String})', { rollup: valueIn('traceTags', 'tag', 'tag') });
  add('provider', 'provider = {provider:String}', { rollup: valueIn('traceProviders', 'provider', 'provider') });
  add('service', 'service_name = {service:String}', { rollup: valueIn('traceServices', 'service', 'service') });
  add('environment', 'environment = {environment:String}', { rollup: valueIn('traceEnvironments', 'environment', 'environment') });
  return conditions;
}

/** Conditions on a trace's totals (status ok, cost and duration ranges), on TRACE_SUMMARY's names: for HAVING, or WHERE over summaries. */
export function totalsConditions(query: TraceQuery): SpanCondition[] {
  const conditions: SpanCondition[] = [];
  if (query.status === 'ok') conditions.push({ sql: 'errorCount = 0', params: {} });
  const ranges: [number | undefined, string, string][] = [
    [query.minCost, 'cost >= {minCost:Float64}', 'minCost'],
    // Not `cost <= …` alone: an unpriced trace's cost is NULL in a list row but -1 where traces are ranked.
    [query.maxCost, 'cost BETWEEN 0 AND {maxCost:Float64}', 'maxCost'],
    [query.minDurationMs, 'durationMs >= {minDurationMs:Float64}', 'minDurationMs'],
    [query.maxDurationMs, 'durationMs <= {maxDurationMs:Float64}', 'maxDurationMs'],
  ];
  for (const [value, sql, param] of ranges) {
    if (value !== undefined) conditions.push({ sql, params: { [param]: value } });
  }
  return conditions;
}
