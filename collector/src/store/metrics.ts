import type { ModelMetrics, TimeseriesPoint } from '../api/contract.ts';
import type { Storage } from './clickhouse.ts';
import { filterClause, type SpanFilter } from './filters.ts';
import { select } from './queries.ts';

// A sum of costs is only a cost when at least one call was priced; otherwise it is unknown (null).
const COST_SUM = 'if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total))';

export async function modelMetrics(storage: Storage, filter: SpanFilter): Promise<ModelMetrics[]> {
  const where = filterClause(filter);
  return select<ModelMetrics>(
    storage,
    `SELECT
       model,
       anyLast(provider) AS provider,
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
       if(countIf(ttft_ms IS NOT NULL) = 0, NULL, round(quantileIf(0.5)(ttft_ms, ttft_ms IS NOT NULL), 3)) AS ttftP50Ms
     FROM {db}.spans
     WHERE ${where.sql} AND operation != ''
     GROUP BY model
     ORDER BY coalesce(cost, 0) DESC, calls DESC`,
    where.params,
  );
}

/** Buckets sized so a range shows roughly 60 points, on round boundaries (1 min … 1 day). */
export function bucketSecondsFor(from: Date, to: Date): number {
  const span = Math.max(1, (to.getTime() - from.getTime()) / 1000);
  const steps = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400];
  return steps.find((s) => span / s <= 90) ?? 86400;
}

export async function modelTimeseries(storage: Storage, filter: SpanFilter, bucketSeconds: number): Promise<TimeseriesPoint[]> {
  const where = filterClause(filter);
  const rows = await select<TimeseriesPoint>(
    storage,
    `SELECT
       formatDateTime(toStartOfInterval(start_time, toIntervalSecond({bucket:UInt32})), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS time,
       model,
       count() AS calls,
       countIf(status_code = 'ERROR') AS errors,
       ${COST_SUM} AS cost,
       sum(input_tokens) AS inputTokens,
       sum(output_tokens) AS outputTokens,
       round(quantile(0.5)(duration_ms), 3) AS latencyP50Ms,
       round(quantile(0.95)(duration_ms), 3) AS latencyP95Ms
     FROM {db}.spans
     WHERE ${where.sql} AND operation != ''
     GROUP BY time, model
     ORDER BY time, model`,
    { ...where.params, bucket: bucketSeconds },
  );
  return rows;
}
