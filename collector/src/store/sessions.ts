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
 * Two passes over the rollup rows: the newest sessions by their last span's end (two columns of
 * every row), then the full totals of just those. Aggregating every session's totals first took
 * 0.9-1.1 s for 30 days at 10M spans (124k sessions); the two passes 0.2-0.3 s.
 */
async function fromRollup(storage: Storage, filter: SpanFilter, hours: { start: Date; end: Date }, limit: number): Promise<SessionSummary[]> {
  const source = sessionSource(filter, hours);
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
     WHERE session_id IN (
       SELECT session_id FROM (${source.sql}) GROUP BY session_id ORDER BY max(last_end) DESC, session_id LIMIT {limit:UInt32}
     )
     GROUP BY session_id
     ORDER BY max(last_end) DESC, session_id
     LIMIT {limit:UInt32}`,
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
