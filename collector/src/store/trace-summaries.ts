import type { Storage } from './clickhouse.ts';
import { backfillByDay } from './backfill.ts';
import { clickhouseParamTime } from './filters.ts';
import { wholeHours } from './llm-hours.ts';
import { select } from './queries.ts';
import { CALL_TOTAL_TYPES, SPAN_TOTAL_COLUMNS, SPAN_TOTALS } from './span-totals.ts';
import type { TraceRow } from './traces.ts';

/**
 * The trace_summaries rollup: each trace's spans per project and hour, pre-aggregated into what the
 * trace list shows (root span, times, counts, tokens, cost) and the values a list can be filtered by
 * (models, providers, services, environments, users, tags). Ordered by trace, so the hours a trace
 * has spans in are found through the primary key (it replaced trace_hours), and in small granules
 * and compression blocks, so looking up a trace reads little besides it: a thousand traces spread
 * over a month are summed in ~0.2 s here, ~0.45 s from their spans at 10M spans. The hour is in
 * the key so a range's whole hours come from here and only its partial first and last hours from
 * the spans, and so retention deletes exactly the hours the spans lose.
 */

const KEY = 'project_id, trace_id, hour';
const HOUR_MS = 3_600_000;

/** A trace's spans of one hour as rollup columns; also how the partial hours of a range are read from spans. */
const ROWS_OF_SPANS = `SELECT project_id, trace_id, toStartOfHour(start_time) AS hour,
  argMinState((name, toString(service_name)), (parent_span_id != '', start_time)) AS root,
  count() AS spans,
  ${SPAN_TOTALS},
  groupUniqArrayIf(toString(model), model != '') AS models,
  groupUniqArrayIf(toString(provider), provider != '') AS providers,
  groupUniqArrayIf(toString(service_name), service_name != '') AS services,
  groupUniqArrayIf(toString(environment), environment != '') AS environments,
  groupUniqArrayIf(user_id, user_id != '') AS users,
  groupUniqArrayArray(tags) AS tags`;

const COLUMNS = `${KEY}, root, spans, ${SPAN_TOTAL_COLUMNS}, models, providers, services, environments, users, tags`;

export const TRACE_SUMMARIES_DDL = [
  // Granules of 64 rows and 2-8 KiB compression blocks: 1,200 traces spread over a month summed in
  // 0.16-0.21 s at 10M spans; in 256-row granules 0.4-0.55 s with the default 64 KiB-1 MiB blocks, and
  // about twice the 64-row time with 4-16 KiB blocks; 0.45 s from the spans. 35 B/span (31 and 33).
  `CREATE TABLE IF NOT EXISTS {db}.trace_summaries (
    project_id LowCardinality(String),
    trace_id FixedString(32),
    hour DateTime('UTC'),
    root AggregateFunction(argMin, Tuple(String, String), Tuple(UInt8, DateTime64(9, 'UTC'))),
    spans SimpleAggregateFunction(sum, UInt64),
    first_start SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    last_end SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    ${CALL_TOTAL_TYPES},
    models SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    providers SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    services SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    environments SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    users SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    tags SimpleAggregateFunction(groupUniqArrayArray, Array(String))
  ) ENGINE = AggregatingMergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (${KEY})
  SETTINGS index_granularity = 64, min_compress_block_size = 2048, max_compress_block_size = 8192`,
  `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.trace_summaries_mv TO {db}.trace_summaries AS
    ${ROWS_OF_SPANS} FROM {db}.spans GROUP BY ${KEY}`,
];

export function backfillTraceSummaries(storage: Storage): Promise<void> {
  return backfillByDay(
    storage,
    'trace_summaries',
    `INSERT INTO {db}.trace_summaries (${COLUMNS}) ${ROWS_OF_SPANS} FROM {db}.spans WHERE toDate(start_time) = {day:Date} GROUP BY ${KEY}`,
  );
}

/** A trace's list row from its merged rows, named as TRACE_SUMMARY (trace-conditions.ts) names it, with `startNs`. */
const MERGED_SUMMARY = `
  trace_id AS traceId,
  argMinMerge(root).1 AS name,
  argMinMerge(root).2 AS serviceName,
  toString(min(first_start)) AS startTime,
  (toUnixTimestamp64Nano(max(last_end)) - toUnixTimestamp64Nano(min(first_start))) / 1e6 AS durationMs,
  sum(spans) AS spanCount,
  sum(llm_calls) AS llmCalls,
  sum(errors) AS errorCount,
  arraySort(groupUniqArrayArray(models)) AS models,
  sum(input_tokens) AS inputTokens,
  sum(output_tokens) AS outputTokens,
  if(sum(priced_calls) = 0, NULL, sum(cost)) AS cost,
  toString(min(first_start)) AS sortValue,
  toString(toUnixTimestamp64Nano(min(first_start))) AS startNs`;
const SUMMARY_NAMES = 'traceId, name, serviceName, startTime, durationMs, spanCount, llmCalls, errorCount, models, inputTokens, outputTokens, cost, sortValue, startNs';

/** What else a condition on a merged row may test: the trace's start and its value sets (trace-conditions.ts `rollup`). */
const MERGED_VALUES = `
  min(first_start) AS traceStart,
  groupUniqArrayArray(providers) AS traceProviders,
  groupUniqArrayArray(services) AS traceServices,
  groupUniqArrayArray(environments) AS traceEnvironments,
  groupUniqArrayArray(users) AS traceUsers,
  groupUniqArrayArray(tags) AS traceTags`;

/** A trace list row with its start in ns since the epoch, for the newest-first walk's order. */
export interface SummaryRow extends TraceRow {
  startNs: string;
}

export interface RollupConditions {
  /** On the trace's rows of every hour: must not exclude a trace that `exact` keeps (values a trace has, errors). */
  prefilter: string[];
  /** On the trace's rows in the range. */
  exact: string[];
}

/**
 * The list rows of these traces over their spans in [from, to) that meet the conditions (written on
 * the names of MERGED_SUMMARY and MERGED_VALUES). The range's whole hours are read from the rollup,
 * and so are its partial first and last hours when a trace's rows there lie inside the range;
 * otherwise those hours come from the trace's spans. Both are aggregate states of the same kind,
 * merged per trace, so a row is what summing the trace's spans in the range gives.
 *
 * Two reads: first the traces' value sets over all their hours, which drops those failing the
 * prefilter (most candidates of a sparse filter, at a fraction of a full row's cost) and tells
 * which need their spans read; then the full rows of the rest. One query doing both ran the first
 * part once per source: 1.9x slower for a thousand candidates at 10M spans.
 */
export async function summariseFromRollup(
  storage: Storage,
  range: { projectId: string; from: Date; to: Date },
  traceIds: string[],
  conditions: RollupConditions,
  params: Record<string, unknown> = {},
): Promise<SummaryRow[]> {
  if (!traceIds.length) return [];
  const whole = wholeHours(range.from, range.to);
  const partialHours = [...new Set([range.from, range.to].filter((t) => t.getTime() % HOUR_MS !== 0).map((t) => Math.floor(t.getTime() / HOUR_MS) * HOUR_MS))]
    // The hour the range ends in is partial only if the range reaches into it.
    .filter((hour) => hour < range.to.getTime())
    .map((hour) => clickhouseParamTime(new Date(hour)).slice(0, 19));
  const common = { ...params, project: range.projectId, from: clickhouseParamTime(range.from), to: clickhouseParamTime(range.to) };

  // Traces whose rows in the range's hours all lie inside it, and those whose partial hours need their spans.
  let rollupOnly = traceIds;
  let needSpans: string[] = [];
  if (conditions.prefilter.length || partialHours.length) {
    // A trace needs its spans read only when a row of a partial hour may hold spans outside the range:
    // one starting before `from` in the first hour, or one not yet over at `to` in the last (a span
    // ends after it starts). For a range ending now, the last hour's rows almost never do.
    const rows = await select<{ traceId: string; needSpans: number }>(
      storage,
      `SELECT traceId, needSpans FROM (
         SELECT trace_id AS traceId, sum(errors) AS errorCount, groupUniqArrayArray(models) AS models, ${MERGED_VALUES},
                max(has({partialHours:Array(DateTime('UTC'))}, hour)
                    AND NOT (first_start >= {from:DateTime64(3, 'UTC')} AND last_end < {to:DateTime64(3, 'UTC')})) AS needSpans
         FROM {db}.trace_summaries WHERE project_id = {project:String} AND trace_id IN {traceIds:Array(FixedString(32))}
         GROUP BY trace_id
       ) ${conditions.prefilter.length ? `WHERE ${conditions.prefilter.join(' AND ')}` : ''}`,
      { ...common, traceIds, partialHours },
    );
    rollupOnly = rows.filter((r) => !r.needSpans).map((r) => r.traceId);
    needSpans = rows.filter((r) => r.needSpans).map((r) => r.traceId);
  }

  const parts: string[] = [];
  if (rollupOnly.length) {
    // Every row of these traces in the range's hours, partial ones included: they lie inside the range.
    parts.push(`SELECT ${COLUMNS} FROM {db}.trace_summaries
      WHERE project_id = {project:String} AND trace_id IN {rollupOnly:Array(FixedString(32))}
        AND hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}`);
  }
  if (whole && needSpans.length) {
    parts.push(`SELECT ${COLUMNS} FROM {db}.trace_summaries
      WHERE project_id = {project:String} AND trace_id IN {needSpans:Array(FixedString(32))}
        AND hour >= {wholeFrom:DateTime64(3, 'UTC')} AND hour < {wholeTo:DateTime64(3, 'UTC')}`);
  }
  if (needSpans.length) {
    // The partial hours: the whole range when it has no whole hour, else what lies outside them.
    const inRange = whole
      ? "(start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {wholeFrom:DateTime64(3, 'UTC')}) OR (start_time >= {wholeTo:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')})"
      : "start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}";
    parts.push(`${ROWS_OF_SPANS} FROM {db}.spans
      WHERE project_id = {project:String} AND trace_id IN {needSpans:Array(FixedString(32))} AND (${inRange})
      GROUP BY ${KEY}`);
  }
  if (!parts.length) return [];
  return select<SummaryRow>(
    storage,
    `SELECT ${SUMMARY_NAMES} FROM (
       SELECT ${MERGED_SUMMARY}, ${MERGED_VALUES} FROM (${parts.join(' UNION ALL ')}) GROUP BY trace_id
     ) ${conditions.exact.length ? `WHERE ${conditions.exact.join(' AND ')}` : ''}`,
    {
      ...common,
      rollupOnly,
      needSpans,
      ...(whole ? { wholeFrom: clickhouseParamTime(whole.start), wholeTo: clickhouseParamTime(whole.end) } : {}),
    },
  );
}
