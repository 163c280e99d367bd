import type { SessionSummary } from '../api/contract.ts';
import type { Storage } from './clickhouse.ts';
import { filterClause, type SpanFilter } from './filters.ts';
import { wholeHours } from './llm-hours.ts';
import { toIso } from './projects.ts';
import { select } from './queries.ts';
import { sessionRollupServes, sessionSource } from './session-hours.ts';

/** Sessions (spans sharing a session id) active in the range, most recent first. */
export async function listSessions(storage: Storage, filter: SpanFilter, limit: number): Promise<SessionSummary[]> {
  const hours = wholeHours(filter.from, filter.to);
  const rows = hours && sessionRollupServes(filter) ? await fromRollup(storage, filter, hours, limit) : await fromSpans(storage, filter, limit);
  return rows.map((r) => ({ ...r, firstSeen: toIso(r.firstSeen.slice(0, 23)), lastSeen: toIso(r.lastSeen.slice(0, 23)) }));
}

/**
 * Two passes over the rollup rows: the newest sessions by their last span's end, then the full
 * totals of just those. Aggregating every session's totals first took 0.9-1.1 s for 30 days at 10M
 * spans (124k sessions); the two passes 0.15-0.2 s.
 */
async function fromRollup(storage: Storage, filter: SpanFilter, hours: { start: Date; end: Date }, limit: number): Promise<SessionSummary[]> {
  const sessionIds = await newestSessions(storage, filter, hours, limit);
  if (!sessionIds.length) return [];
  const source = sessionSource(filter, hours, sessionIds);
  return select<SessionSummary>(
    storage,
    `SELECT
       session_id AS sessionId,
       anyIf(user_id, user_id != '') AS userId,
       toString(min(first_start)) AS firstSeen,
       toString(max(last_end)) AS lastSeen,
       uniqExactMerge(traces) AS traces,
       sum(llm_calls) AS llmCalls,
       sum(error_count) AS errors,
       sum(input_tokens) AS inputTokens,
       sum(output_tokens) AS outputTokens,
       if(sum(priced_calls) = 0, NULL, sum(cost_sum)) AS cost
     FROM (${source.sql})
     GROUP BY session_id
     ORDER BY max(last_end) DESC, session_id
     LIMIT {limit:UInt32}`,
    { ...source.params, limit },
  );
}

const DAY_MS = 86_400_000;

/**
 * The `limit` sessions whose spans ended last in the range. Over a long range, the last day's rows
 * alone settle it when `limit` sessions there ended after every earlier row did: no session seen
 * only earlier can end later. (30 days at 10M spans: ~100 ms over every row, ~40 ms this way.)
 */
async function newestSessions(storage: Storage, filter: SpanFilter, hours: { start: Date; end: Date }, limit: number): Promise<string[]> {
  const dayBefore = new Date(hours.end.getTime() - DAY_MS);
  if (dayBefore > hours.start) {
    const recent = await newestIn(storage, sessionSource({ ...filter, from: dayBefore }, { start: dayBefore, end: hours.end }), limit);
    const earlier = sessionSource({ ...filter, to: dayBefore }, { start: hours.start, end: dayBefore });
    const [bound] = await select<{ lastEnd: string }>(storage, `SELECT toString(max(last_end)) AS lastEnd FROM (${earlier.sql})`, earlier.params);
    if (recent.length === limit && recent[limit - 1]!.lastEnd > (bound?.lastEnd ?? '')) return recent.map((r) => r.sessionId);
  }
  return (await newestIn(storage, sessionSource(filter, hours), limit)).map((r) => r.sessionId);
}

/** The sessions of these rows by their last span's end, newest first; ends as `YYYY-MM-DD hh:mm:ss.nnnnnnnnn`. */
async function newestIn(storage: Storage, source: { sql: string; params: Record<string, unknown> }, limit: number) {
  return select<{ sessionId: string; lastEnd: string }>(
    storage,
    `SELECT session_id AS sessionId, toString(max(last_end)) AS lastEnd FROM (${source.sql})
     GROUP BY session_id ORDER BY max(last_end) DESC, session_id LIMIT {limit:UInt32}`,
    { ...source.params, limit },
  );
}

async function fromSpans(storage: Storage, filter: SpanFilter, limit: number): Promise<SessionSummary[]> {
  const where = filterClause(filter);
  return select<SessionSummary>(
    storage,
    `SELECT
       session_id AS sessionId,
       anyIf(user_id, user_id != '') AS userId,
       toString(min(start_time)) AS firstSeen,
       toString(max(end_time)) AS lastSeen,
       uniqExact(trace_id) AS traces,
       countIf(operation != '') AS llmCalls,
       countIf(status_code = 'ERROR') AS errors,
       sum(input_tokens) AS inputTokens,
       sum(output_tokens) AS outputTokens,
       if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost
     FROM {db}.spans
     WHERE ${where.sql} AND session_id != ''
     GROUP BY session_id
     ORDER BY max(end_time) DESC, session_id
     LIMIT {limit:UInt32}`,
    { ...where.params, limit },
  );
}
