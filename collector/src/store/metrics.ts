import type { BreakdownDimension, BreakdownRow, ModelMetrics, TimeseriesPoint } from '../api/contract.ts';
import type { Storage } from './clickhouse.ts';
import { filterClause, type SpanFilter } from './filters.ts';
import { MERGED_METRICS, ROLLUP_DIMENSIONS, rollupServes, rollupSource, wholeHours, type RollupDimension } from './llm-hours.ts';
import { select } from './queries.ts';

// A sum of costs is only a cost when at least one call was priced; otherwise it is unknown (null).
const COST_SUM = 'if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total))';

/** The metrics every row carries, over the LLM spans of its group. */
const METRICS = `
  count() AS calls,
  countIf(status_code = 'ERROR') AS errors,
  sum(input_tokens) AS inputTokens,
  sum(output_tokens) AS outputTokens,
  sum(cache_read_tokens) AS cacheReadTokens,
  sum(reasoning_tokens) AS reasoningTokens,
  ${COST_SUM} AS cost,
  countIf(cost_total IS NULL) AS unpricedCalls,
  round(quantile(0.5)(duration_ms), 3) AS latencyP50Ms,
  round(quantile(0.95)(duration_ms), 3) AS latencyP95Ms,
  round(quantile(0.99)(duration_ms), 3) AS latencyP99Ms,
  if(countIf(ttft_ms IS NOT NULL) = 0, NULL, round(quantileIf(0.5)(ttft_ms, ttft_ms IS NOT NULL), 3)) AS ttftP50Ms,
  if(countIf(ttft_ms IS NOT NULL) = 0, NULL, round(quantileIf(0.95)(ttft_ms, ttft_ms IS NOT NULL), 3)) AS ttftP95Ms,
  if(countIf(output_tokens > 0 AND duration_ms > 0) = 0, NULL,
     round(quantileIf(0.5)(output_tokens * 1000 / duration_ms, output_tokens > 0 AND duration_ms > 0), 2)) AS tokensPerSecond`;

/** Group expressions by dimension: fixed SQL, chosen from this list only. */
const GROUP_EXPRESSIONS: Record<BreakdownDimension, string> = {
  model: 'model',
  provider: 'provider',
  service: 'service_name',
  environment: 'environment',
  user: 'user_id',
  session: 'session_id',
  // A call with several tags counts once under each.
  tag: "arrayJoin(if(empty(tags), [''], tags))",
};

/**
 * The rollup-shaped rows to read when the question can be answered from llm_hours (whole hours in
 * the range, narrowed and grouped only by its dimensions), else null: then the spans answer.
 */
async function fromRollup(storage: Storage, filter: SpanFilter, groupBy: BreakdownDimension, bucketSeconds?: number): Promise<Awaited<ReturnType<typeof rollupSource>> | null> {
  const hours = wholeHours(filter.from, filter.to);
  if (!hours || !rollupServes(filter) || !(groupBy in ROLLUP_DIMENSIONS)) return null;
  return rollupSource(storage, filter, hours, { bucketSeconds });
}

export async function metricsBreakdown(storage: Storage, filter: SpanFilter, groupBy: BreakdownDimension, limit = 200): Promise<BreakdownRow[]> {
  const rollup = await fromRollup(storage, filter, groupBy);
  if (rollup) {
    return select<BreakdownRow>(
      storage,
      `SELECT ${ROLLUP_DIMENSIONS[groupBy as RollupDimension]} AS key, ${MERGED_METRICS}
       FROM (${rollup.sql})
       GROUP BY key
       HAVING calls > 0
       ORDER BY coalesce(cost, 0) DESC, calls DESC
       LIMIT {limit:UInt32}`,
      { ...rollup.params, limit },
    );
  }
  const where = filterClause(filter);
  return select<BreakdownRow>(
    storage,
    `SELECT ${GROUP_EXPRESSIONS[groupBy]} AS key, ${METRICS}
     FROM {db}.spans
     WHERE ${where.sql} AND operation != ''
     GROUP BY key
     ORDER BY coalesce(cost, 0) DESC, calls DESC
     LIMIT {limit:UInt32}`,
    { ...where.params, limit },
  );
}

export async function modelMetrics(storage: Storage, filter: SpanFilter): Promise<ModelMetrics[]> {
  const rollup = await fromRollup(storage, filter, 'model');
  if (rollup) {
    return select<ModelMetrics>(
      storage,
      `SELECT model, anyLast(provider) AS provider, ${MERGED_METRICS}
       FROM (${rollup.sql})
       GROUP BY model
       HAVING calls > 0
       ORDER BY coalesce(cost, 0) DESC, calls DESC`,
      rollup.params,
    );
  }
  const where = filterClause(filter);
  return select<ModelMetrics>(
    storage,
    `SELECT model, anyLast(provider) AS provider, ${METRICS}
     FROM {db}.spans
     WHERE ${where.sql} AND operation != ''
     GROUP BY model
     ORDER BY coalesce(cost, 0) DESC, calls DESC`,
    where.params,
  );
}

/** Buckets sized so a range shows at most 90 points, on round boundaries (1 min … 1 day). */
export function bucketSecondsFor(from: Date, to: Date): number {
  const span = Math.max(1, (to.getTime() - from.getTime()) / 1000);
  const steps = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400];
  return steps.find((s) => span / s <= 90) ?? 86400;
}

export async function timeseries(storage: Storage, filter: SpanFilter, bucketSeconds: number, groupBy: BreakdownDimension = 'model'): Promise<TimeseriesPoint[]> {
  // Hourly rows fit a bucket only when it is a whole number of hours (buckets start on multiples of
  // their width since the epoch, so every hour then falls in exactly one).
  const rollup = bucketSeconds % 3600 === 0 ? await fromRollup(storage, filter, groupBy, bucketSeconds) : null;
  if (rollup) {
    const rows = await select<Omit<TimeseriesPoint, 'model'>>(
      storage,
      `SELECT
         formatDateTime(toStartOfInterval(hour, toIntervalSecond({bucket:UInt32})), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS time,
         ${ROLLUP_DIMENSIONS[groupBy as RollupDimension]} AS key,
         sum(call_count) AS calls,
         sum(error_count) AS errors,
         if(sum(priced_calls) = 0, NULL, sum(cost_sum)) AS cost,
         sum(input_tokens) AS inputTokens,
         sum(output_tokens) AS outputTokens,
         round(quantilesMerge(0.5, 0.95, 0.99)(latency)[1], 3) AS latencyP50Ms,
         round(quantilesMerge(0.5, 0.95, 0.99)(latency)[2], 3) AS latencyP95Ms,
         if(sum(ttft_calls) = 0, NULL, round(quantilesMerge(0.5, 0.95)(ttft)[1], 3)) AS ttftP50Ms
       FROM (${rollup.sql})
       GROUP BY time, key
       HAVING calls > 0
       ORDER BY time, key`,
      { ...rollup.params, bucket: bucketSeconds },
    );
    return rows.map((row) => ({ ...row, model: row.key }));
  }
  const where = filterClause(filter);
  const rows = await select<Omit<TimeseriesPoint, 'model'>>(
    storage,
    `SELECT
       formatDateTime(toStartOfInterval(start_time, toIntervalSecond({bucket:UInt32})), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS time,
       ${GROUP_EXPRESSIONS[groupBy]} AS key,
       count() AS calls,
       countIf(status_code = 'ERROR') AS errors,
       ${COST_SUM} AS cost,
       sum(input_tokens) AS inputTokens,
       sum(output_tokens) AS outputTokens,
       round(quantile(0.5)(duration_ms), 3) AS latencyP50Ms,
       round(quantile(0.95)(duration_ms), 3) AS latencyP95Ms,
       if(countIf(ttft_ms IS NOT NULL) = 0, NULL, round(quantileIf(0.5)(ttft_ms, ttft_ms IS NOT NULL), 3)) AS ttftP50Ms
     FROM {db}.spans
     WHERE ${where.sql} AND operation != ''
     GROUP BY time, key
     ORDER BY time, key`,
    { ...where.params, bucket: bucketSeconds },
  );
  return rows.map((row) => ({ ...row, model: row.key }));
}
