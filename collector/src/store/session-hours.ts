import type { Storage } from './clickhouse.ts';
import { backfillByDay } from './backfill.ts';
import { clickhouseParamTime, type SpanFilter } from './filters.ts';
import { CALL_TOTAL_TYPES, SPAN_TOTAL_COLUMNS, SPAN_TOTALS } from './span-totals.ts';

/**
 * The session_hours rollup: each session's spans per project, hour and user, pre-aggregated (first
 * start, last end, distinct traces, calls, errors, tokens, cost). The sessions list reads it for the
 * whole hours of its range and the spans only for the partial hours at either end, so it groups one
 * row per session and hour instead of every span (0.5 s for a day at 10M spans, 10 s for 30 days).
 */

const KEY = 'project_id, hour, session_id, user_id';

/** This rollup's columns computed from a group of spans, in the order of COLUMNS after the key. */
const SESSION_AGGREGATES = `${SPAN_TOTALS}, uniqExactState(trace_id) AS traces`;
const COLUMNS = `${KEY}, ${SPAN_TOTAL_COLUMNS}, traces`;

export const SESSION_HOURS_DDL = [
  `CREATE TABLE IF NOT EXISTS {db}.session_hours (
    project_id LowCardinality(String),
    hour DateTime('UTC'),
    session_id String,
    user_id String,
    first_start SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    last_end SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    traces AggregateFunction(uniqExact, FixedString(32)),
    ${CALL_TOTAL_TYPES}
  ) ENGINE = AggregatingMergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (${KEY})`,
  `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.session_hours_mv TO {db}.session_hours AS
    SELECT project_id, toStartOfHour(start_time) AS hour, session_id, user_id, ${SESSION_AGGREGATES}
    FROM {db}.spans
    WHERE session_id != ''
    GROUP BY ${KEY}`,
];

export function backfillSessionHours(storage: Storage): Promise<void> {
  return backfillByDay(
    storage,
    'session_hours',
    `INSERT INTO {db}.session_hours (${COLUMNS})
      SELECT project_id, toStartOfHour(start_time) AS hour, session_id, user_id, ${SESSION_AGGREGATES}
      FROM {db}.spans
      WHERE session_id != '' AND toDate(start_time) = {day:Date}
      GROUP BY ${KEY}`,
    "session_id != ''",
  );
}

/** Whether the rollup can answer for this filter: narrowed at most by user. One session is found in
 * the spans through their session_id skip index; its own page reads session_traces instead. */
export function sessionRollupServes(filter: SpanFilter): boolean {
  return !filter.sessionId && !filter.service && !filter.environment && !filter.provider && !filter.model && !filter.tag;
}

/**
 * Rows of (session, user, partial aggregates) covering the session spans of `filter` (of these
 * sessions only, when given): rollup rows for the whole hours, spans grouped by hour for the partial
 * hours at the ends.
 */
export function sessionSource(filter: SpanFilter, hours: { start: Date; end: Date }, sessionIds?: string[]): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {
    project: filter.projectId,
    from: clickhouseParamTime(filter.from),
    to: clickhouseParamTime(filter.to),
    hoursStart: clickhouseParamTime(hours.start),
    hoursEnd: clickhouseParamTime(hours.end),
  };
  let user = '';
  if (filter.userId) {
    user = ' AND user_id = {userId:String}';
    params.userId = filter.userId;
  }
  if (sessionIds) {
    user += ' AND session_id IN {sessionIds:Array(String)}';
    params.sessionIds = sessionIds;
  }
  const sql = `
    SELECT session_id, user_id, first_start, last_end, llm_calls, errors AS error_count, input_tokens, output_tokens, priced_calls, cost AS cost_sum, traces
    FROM {db}.session_hours
    WHERE project_id = {project:String} AND hour >= {hoursStart:DateTime64(3, 'UTC')} AND hour < {hoursEnd:DateTime64(3, 'UTC')}${user}
    UNION ALL
    SELECT session_id, user_id, ${SESSION_AGGREGATES}
    FROM {db}.spans
    WHERE project_id = {project:String} AND session_id != ''${user}
      AND ((start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {hoursStart:DateTime64(3, 'UTC')})
        OR (start_time >= {hoursEnd:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}))
    GROUP BY toStartOfHour(start_time), session_id, user_id`;
  return { sql, params };
}
