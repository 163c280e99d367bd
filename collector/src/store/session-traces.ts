import type { SessionModelUsage, SessionSummary } from '../api/contract.ts';
import type { Storage } from './clickhouse.ts';
import { backfillByDay } from './backfill.ts';
import { toIso } from './projects.ts';
import { select } from './queries.ts';
import { CALL_TOTAL_TYPES, SPAN_TOTAL_COLUMNS, SPAN_TOTALS } from './span-totals.ts';

/**
 * The session_traces rollup: each session's spans per project, trace, hour, model and provider,
 * pre-aggregated. One session's page (totals, calls and cost per model, its traces oldest first)
 * reads a few rows per trace here, ordered by session, instead of the session's spans among all the
 * others: for a session active all month at 10M spans, ~1 s from the spans. The hour is in the key
 * so retention deletes exactly the hours the spans lose.
 */

const KEY = 'project_id, session_id, trace_id, hour, model, provider';

const COLUMNS = `${KEY}, ${SPAN_TOTAL_COLUMNS}, user_id`;
/** This rollup's rows computed from spans, in the order of COLUMNS. */
const ROWS_OF_SPANS = `SELECT project_id, session_id, trace_id, toStartOfHour(start_time) AS hour, model, provider, ${SPAN_TOTALS}, max(user_id) AS user_id`;

export const SESSION_TRACES_DDL = [
  `CREATE TABLE IF NOT EXISTS {db}.session_traces (
    project_id LowCardinality(String),
    session_id String,
    trace_id FixedString(32),
    hour DateTime('UTC'),
    model LowCardinality(String),
    provider LowCardinality(String),
    first_start SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    last_end SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    user_id SimpleAggregateFunction(max, String),
    ${CALL_TOTAL_TYPES}
  ) ENGINE = AggregatingMergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (${KEY})`,
  `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.session_traces_mv TO {db}.session_traces AS
    ${ROWS_OF_SPANS} FROM {db}.spans WHERE session_id != '' GROUP BY ${KEY}`,
];

export function backfillSessionTraces(storage: Storage): Promise<void> {
  return backfillByDay(
    storage,
    'session_traces',
    `INSERT INTO {db}.session_traces (${COLUMNS})
      ${ROWS_OF_SPANS} FROM {db}.spans WHERE session_id != '' AND toDate(start_time) = {day:Date} GROUP BY ${KEY}`,
    "session_id != ''",
  );
}

const ONE_SESSION = 'project_id = {project:String} AND session_id = {session:String}';

/** A session's totals over all its spans, whenever they were sent; null when the project has no such session. */
export async function sessionTotals(storage: Storage, projectId: string, sessionId: string): Promise<SessionSummary | null> {
  const [row] = await select<SessionSummary>(
    storage,
    `SELECT
       session_id AS sessionId,
       max(user_id) AS userId,
       toString(min(first_start)) AS firstSeen,
       toString(max(last_end)) AS lastSeen,
       uniqExact(trace_id) AS traces,
       sum(llm_calls) AS llmCalls,
       sum(errors) AS errors,
       sum(input_tokens) AS inputTokens,
       sum(output_tokens) AS outputTokens,
       if(sum(priced_calls) = 0, NULL, sum(cost)) AS cost
     FROM {db}.session_traces
     WHERE ${ONE_SESSION}
     GROUP BY session_id`,
    { project: projectId, session: sessionId },
  );
  return row ? { ...row, firstSeen: toIso(row.firstSeen.slice(0, 23)), lastSeen: toIso(row.lastSeen.slice(0, 23)) } : null;
}

/** A session's LLM calls and their cost per model, the costliest first. */
export async function sessionModels(storage: Storage, projectId: string, sessionId: string): Promise<SessionModelUsage[]> {
  return select<SessionModelUsage>(
    storage,
    `SELECT model, anyLast(provider) AS provider, sum(llm_calls) AS calls, if(sum(priced_calls) = 0, NULL, sum(cost)) AS cost
     FROM {db}.session_traces
     WHERE ${ONE_SESSION}
     GROUP BY model
     HAVING sum(llm_calls) > 0
     ORDER BY sum(cost) DESC, sum(llm_calls) DESC, model`,
    { project: projectId, session: sessionId },
  );
}

/** A position in a session's traces: the start of the trace's first span in the session, then its id. */
export interface SessionTraceCursor {
  start: string;
  traceId: string;
}

/** The next `limit` of a session's traces after `cursor`, ordered by their first span in the session. */
export async function sessionTracePage(
  storage: Storage,
  projectId: string,
  sessionId: string,
  limit: number,
  cursor?: SessionTraceCursor,
): Promise<{ traceIds: string[]; next: SessionTraceCursor | null }> {
  const rows = await select<SessionTraceCursor>(
    storage,
    `SELECT trace_id AS traceId, toString(min(first_start)) AS start
     FROM {db}.session_traces
     WHERE ${ONE_SESSION}
     GROUP BY trace_id
     ${cursor ? "HAVING (min(first_start), trace_id) > ({cursorStart:DateTime64(9, 'UTC')}, {cursorTrace:String})" : ''}
     ORDER BY min(first_start), trace_id
     LIMIT {limit:UInt32}`,
    { project: projectId, session: sessionId, limit: limit + 1, ...(cursor ? { cursorStart: cursor.start, cursorTrace: cursor.traceId } : {}) },
  );
  const page = rows.slice(0, limit);
  return { traceIds: page.map((r) => r.traceId), next: rows.length > limit ? page[page.length - 1]! : null };
}
