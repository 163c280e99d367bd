import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { backfillByDay } from './backfill.ts';
import { clickhouseParamTime, type SpanFilter } from './filters.ts';
import { select } from './queries.ts';

/**
 * The llm_hours rollup: the LLM spans of each project, hour, model, provider, service and
 * environment, pre-aggregated (counts, token and cost sums, latency/TTFT/throughput quantile states).
 * Metrics over long ranges read it for the whole hours of the range and the spans table only for
 * the partial hours at either end, so a 30-day overview merges ~10^5 rows instead of scanning
 * every span. Quantiles are kept as the states of the same `quantile` (reservoir) function the raw
 * queries use, so the answers are the same numbers. Merging every duration of a busy month costs as
 * much as scanning them, so above SAMPLE_FROM_CALLS the quantile states come from one call in 16
 * instead (llm_hours_sample, and llm_days_sample for whole days); counts and sums stay exact.
 */

/** Dimensions the rollup is keyed by, as the column that holds each. */
export const ROLLUP_DIMENSIONS = {
  model: 'model',
  provider: 'provider',
  service: 'service_name',
  environment: 'environment',
} as const;
export type RollupDimension = keyof typeof ROLLUP_DIMENSIONS;

/**
 * The rollup's columns computed from spans, for one group of them; the quantile states only over
 * the spans that meet `statesOf` (all, or the sample). Aliases reuse the column names (the
 * materialized view matches its output to the rollup by name), so inside the aggregates the spans'
 * own output_tokens is named through the table.
 */
function rollupAggregates(statesOf = '1'): string {
  return `
  count() AS calls,
  countIf(status_code = 'ERROR') AS errors,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(reasoning_tokens) AS reasoning_tokens,
  toInt64(countIf(cost_total IS NOT NULL)) AS priced_calls,
  sum(ifNull(cost_total, 0)) AS cost,
  ${LATENCY_STATE(statesOf)} AS latency,
  countIf(ttft_ms IS NOT NULL) AS ttft_calls,
  ${TTFT_STATE(statesOf)} AS ttft,
  countIf(spans.output_tokens > 0 AND duration_ms > 0) AS throughput_calls,
  ${THROUGHPUT_STATE(statesOf)} AS throughput`;
}

const LATENCY_STATE = (statesOf: string) => `quantilesStateIf(0.5, 0.95, 0.99)(duration_ms, ${statesOf})`;
const TTFT_STATE = (statesOf: string) => `quantilesStateIf(0.5, 0.95)(assumeNotNull(ttft_ms), ttft_ms IS NOT NULL AND ${statesOf})`;
const THROUGHPUT_STATE = (statesOf: string) =>
  `quantileStateIf(0.5)(spans.output_tokens * 1000 / duration_ms, spans.output_tokens > 0 AND duration_ms > 0 AND ${statesOf})`;

const MERGE_SAMPLE_STATES =
  'quantilesMergeState(0.5, 0.95, 0.99)(latency) AS latency, quantilesMergeState(0.5, 0.95)(ttft) AS ttft, quantileMergeState(0.5)(throughput) AS throughput';

/**
 * Spans whose durations also go into llm_hours_sample: one in 16, by span id. Quantiles over a
 * long, busy range are estimated from these, as `quantile` itself estimates from a sample of 8192
 * once a group has more values than that.
 */
const IN_SAMPLE = 'cityHash64(span_id) % 16 = 0';
/** Whole-hour calls from which a query estimates its quantiles from the sample: merging every
 * duration costs ~30 ms per million calls and quantile state, the sample a sixteenth of that. */
const SAMPLE_FROM_CALLS = 500_000;

const KEY = 'project_id, hour, model, provider, service_name, environment';
const ROLLUP_COLUMNS = `${KEY}, calls, errors, input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, priced_calls, cost, latency, ttft_calls, ttft, throughput_calls, throughput`;

/** The dimensions every metrics rollup is keyed by, after its project and time columns. */
const DIMENSION_COLUMNS = `model LowCardinality(String),
    provider LowCardinality(String),
    service_name LowCardinality(String),
    environment LowCardinality(String),`;
/** The sampled rollups' quantile states (see IN_SAMPLE). */
const SAMPLE_STATE_COLUMNS = `latency AggregateFunction(quantiles(0.5, 0.95, 0.99), Float64),
    ttft AggregateFunction(quantiles(0.5, 0.95), Float64),
    throughput AggregateFunction(quantile(0.5), Float64)`;

/** DDL of the rollup and the materialized view that feeds it from every insert into spans. */
export const LLM_HOURS_DDL = [
  `CREATE TABLE IF NOT EXISTS {db}.llm_hours (
    project_id LowCardinality(String),
    hour DateTime('UTC'),
    ${DIMENSION_COLUMNS}
    calls SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    cache_read_tokens SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens SimpleAggregateFunction(sum, UInt64),
    priced_calls SimpleAggregateFunction(sum, Int64),
    cost SimpleAggregateFunction(sum, Float64),
    latency AggregateFunction(quantiles(0.5, 0.95, 0.99), Float64),
    ttft_calls SimpleAggregateFunction(sum, UInt64),
    ttft AggregateFunction(quantiles(0.5, 0.95), Float64),
    throughput_calls SimpleAggregateFunction(sum, UInt64),
    throughput AggregateFunction(quantile(0.5), Float64)
  ) ENGINE = AggregatingMergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (${KEY})`,
  `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.llm_hours_mv TO {db}.llm_hours AS
    SELECT project_id, toStartOfHour(start_time) AS hour, model, provider, service_name, environment, ${rollupAggregates()}
    FROM {db}.spans
    WHERE operation != ''
    GROUP BY ${KEY}`,
];

/** DDL of the sampled quantile states (see IN_SAMPLE) and the materialized view that feeds them. */
export const LLM_HOURS_SAMPLE_DDL = [
  `CREATE TABLE IF NOT EXISTS {db}.llm_hours_sample (
    project_id LowCardinality(String),
    hour DateTime('UTC'),
    ${DIMENSION_COLUMNS}
    ${SAMPLE_STATE_COLUMNS}
  ) ENGINE = AggregatingMergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (${KEY})`,
  `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.llm_hours_sample_mv TO {db}.llm_hours_sample AS
    SELECT project_id, toStartOfHour(start_time) AS hour, model, provider, service_name, environment,
           ${LATENCY_STATE('1')} AS latency, ${TTFT_STATE('1')} AS ttft, ${THROUGHPUT_STATE('1')} AS throughput
    FROM {db}.spans
    WHERE operation != '' AND ${IN_SAMPLE}
    GROUP BY ${KEY}`,
];

/**
 * The hourly sample merged per day: a 30-day overview merges ~4k daily rows instead of ~60k hourly
 * ones (the per-row cost of merging states is what remains once the values are sampled). Fed from
 * the hourly sample, so it holds the same calls.
 */
export const LLM_DAYS_SAMPLE_DDL = [
  `CREATE TABLE IF NOT EXISTS {db}.llm_days_sample (
    project_id LowCardinality(String),
    day Date,
    ${DIMENSION_COLUMNS}
    ${SAMPLE_STATE_COLUMNS}
  ) ENGINE = AggregatingMergeTree
  PARTITION BY toYYYYMM(day)
  ORDER BY (project_id, day, model, provider, service_name, environment)`,
  `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.llm_days_sample_mv TO {db}.llm_days_sample AS
    SELECT project_id, toDate(hour) AS day, model, provider, service_name, environment, ${MERGE_SAMPLE_STATES}
    FROM {db}.llm_hours_sample
    GROUP BY project_id, day, model, provider, service_name, environment`,
];

/** Fills the daily sample from the hourly one (which migration 8 filled from the spans). */
export async function backfillLlmDaysSample(storage: Storage): Promise<void> {
  const db = quoteIdentifier(storage.database);
  await storage.client.command({ query: `TRUNCATE TABLE ${db}.llm_days_sample` });
  await storage.client.command({
    query: `INSERT INTO ${db}.llm_days_sample (project_id, day, model, provider, service_name, environment, latency, ttft, throughput)
      SELECT project_id, toDate(hour) AS day, model, provider, service_name, environment, ${MERGE_SAMPLE_STATES}
      FROM ${db}.llm_hours_sample
      GROUP BY project_id, day, model, provider, service_name, environment`,
  });
}

/** Fills an llm_hours-shaped rollup from the spans already stored (backfill.ts). */
function backfill(storage: Storage, table: string, columns: string, aggregates: string, where: string): Promise<void> {
  return backfillByDay(
    storage,
    table,
    `INSERT INTO {db}.${table} (${columns})
      SELECT project_id, toStartOfHour(start_time) AS hour, model, provider, service_name, environment, ${aggregates}
      FROM {db}.spans
      WHERE ${where} AND toDate(start_time) = {day:Date}
      GROUP BY ${KEY}`,
    where,
  );
}

export function backfillLlmHours(storage: Storage): Promise<void> {
  return backfill(storage, 'llm_hours', ROLLUP_COLUMNS, rollupAggregates(), "operation != ''");
}

export function backfillLlmHoursSample(storage: Storage): Promise<void> {
  return backfill(
    storage,
    'llm_hours_sample',
    `${KEY}, latency, ttft, throughput`,
    `${LATENCY_STATE('1')} AS latency, ${TTFT_STATE('1')} AS ttft, ${THROUGHPUT_STATE('1')} AS throughput`,
    `operation != '' AND ${IN_SAMPLE}`,
  );
}

/** The whole hours inside [from, to), or null when the range holds none. */
export function wholeHours(from: Date, to: Date): { start: Date; end: Date } | null {
  const hour = 3_600_000;
  const start = Math.ceil(from.getTime() / hour) * hour;
  const end = Math.floor(to.getTime() / hour) * hour;
  return end > start ? { start: new Date(start), end: new Date(end) } : null;
}

/** The whole UTC days inside [from, to), or null when the range holds none. */
export function wholeDays(from: Date, to: Date): { start: Date; end: Date } | null {
  const day = 86_400_000;
  const start = Math.ceil(from.getTime() / day) * day;
  const end = Math.floor(to.getTime() / day) * day;
  return end > start ? { start: new Date(start), end: new Date(end) } : null;
}

/** Whether a filter can be answered from the rollup: it narrows only by the rollup's dimensions. */
export function rollupServes(filter: SpanFilter): boolean {
  return !filter.userId && !filter.sessionId && !filter.tag;
}

/**
 * A subquery of rollup-shaped rows (hour, the four dimensions, partial aggregates) covering the
 * LLM spans of `filter`: rollup rows for the whole hours, spans grouped by hour for the partial
 * hours at the ends. Callers merge them with MERGED_METRICS. Only for filters `rollupServes`.
 * calls, errors and cost come out as call_count, error_count and cost_sum, so they cannot be
 * mistaken for the merged results of the same name (queries prefer column names to aliases).
 * Counts and sums always cover every call; over SAMPLE_FROM_CALLS whole-hour calls the quantile
 * states come from the sample (llm_hours_sample, and the sampled spans of the partial hours).
 */
export async function rollupSource(
  storage: Storage,
  filter: SpanFilter,
  hours: { start: Date; end: Date },
  { sampleFromCalls = SAMPLE_FROM_CALLS, bucketSeconds }: { sampleFromCalls?: number; bucketSeconds?: number } = {},
): Promise<{ sql: string; params: Record<string, unknown> }> {
  const params: Record<string, unknown> = {
    project: filter.projectId,
    from: clickhouseParamTime(filter.from),
    to: clickhouseParamTime(filter.to),
    hoursStart: clickhouseParamTime(hours.start),
    hoursEnd: clickhouseParamTime(hours.end),
  };
  const dimensions: string[] = [];
  const narrowing: [string | undefined, string, string][] = [
    [filter.model, 'model', 'model'],
    [filter.provider, 'provider', 'provider'],
    [filter.service, 'service_name', 'service'],
    [filter.environment, 'environment', 'environment'],
  ];
  for (const [value, column, param] of narrowing) {
    if (!value) continue;
    dimensions.push(`${column} = {${param}:String}`);
    params[param] = value;
  }
  const and = dimensions.map((d) => ` AND ${d}`).join('');
  const project = 'project_id = {project:String}';
  const inHours = `${project} AND hour >= {hoursStart:DateTime64(3, 'UTC')} AND hour < {hoursEnd:DateTime64(3, 'UTC')}${and}`;
  const [whole] = await select<{ calls: number }>(storage, `SELECT sum(calls) AS calls FROM {db}.llm_hours WHERE ${inHours}`, params);
  const sampled = (whole?.calls ?? 0) >= sampleFromCalls;
  const counts = `calls AS call_count, errors AS error_count, input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, priced_calls, cost AS cost_sum`;
  let rollupRows = `SELECT hour, model, provider, service_name, environment, ${counts}, latency, ttft_calls, ttft, throughput_calls, throughput
       FROM {db}.llm_hours WHERE ${inHours}`;
  if (sampled) {
    const statesOnly = 'model, provider, service_name, environment, 0, 0, 0, 0, 0, 0, 0, 0, latency, 0, ttft, 0, throughput';
    // Whole days from the daily sample when the answer is not cut finer than days.
    const days = bucketSeconds === undefined || bucketSeconds % 86_400 === 0 ? wholeDays(hours.start, hours.end) : null;
    let sampleHours = inHours;
    let daily = '';
    if (days) {
      params.daysStart = clickhouseParamTime(days.start);
      params.daysEnd = clickhouseParamTime(days.end);
      sampleHours = `${inHours} AND (hour < {daysStart:DateTime64(3, 'UTC')} OR hour >= {daysEnd:DateTime64(3, 'UTC')})`;
      daily = `UNION ALL
       SELECT toDateTime(day, 'UTC') AS hour, ${statesOnly} FROM {db}.llm_days_sample
       WHERE ${project} AND day >= toDate({daysStart:DateTime64(3, 'UTC')}) AND day < toDate({daysEnd:DateTime64(3, 'UTC')})${and}`;
    }
    rollupRows = `SELECT hour, model, provider, service_name, environment, ${counts},
              ${EMPTY_STATES.latency} AS latency, ttft_calls, ${EMPTY_STATES.ttft} AS ttft, throughput_calls, ${EMPTY_STATES.throughput} AS throughput
       FROM {db}.llm_hours WHERE ${inHours}
       UNION ALL
       SELECT hour, ${statesOnly} FROM {db}.llm_hours_sample WHERE ${sampleHours}
       ${daily}`;
  }
  const sql = `
    ${rollupRows}
    UNION ALL
    SELECT toStartOfHour(start_time) AS hour, model, provider, service_name, environment, ${rollupAggregates(sampled ? IN_SAMPLE : '1')}
    FROM {db}.spans
    WHERE ${project} AND operation != ''${and}
      AND ((start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {hoursStart:DateTime64(3, 'UTC')})
        OR (start_time >= {hoursEnd:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}))
    GROUP BY hour, model, provider, service_name, environment`;
  return { sql, params };
}

/** Quantile states of no values, standing in for the states of rows whose durations the sample holds. */
const EMPTY_STATES = {
  latency: "arrayReduce('quantilesState(0.5, 0.95, 0.99)', CAST([], 'Array(Float64)'))",
  ttft: "arrayReduce('quantilesState(0.5, 0.95)', CAST([], 'Array(Float64)'))",
  throughput: "arrayReduce('quantileState(0.5)', CAST([], 'Array(Float64)'))",
};

/** The metrics of metrics.ts's METRICS, merged from rollup-shaped rows. */
export const MERGED_METRICS = `
  sum(call_count) AS calls,
  sum(error_count) AS errors,
  sum(input_tokens) AS inputTokens,
  sum(output_tokens) AS outputTokens,
  sum(cache_read_tokens) AS cacheReadTokens,
  sum(reasoning_tokens) AS reasoningTokens,
  if(sum(priced_calls) = 0, NULL, sum(cost_sum)) AS cost,
  sum(call_count) - sum(priced_calls) AS unpricedCalls,
  round(quantilesMerge(0.5, 0.95, 0.99)(latency)[1], 3) AS latencyP50Ms,
  round(quantilesMerge(0.5, 0.95, 0.99)(latency)[2], 3) AS latencyP95Ms,
  round(quantilesMerge(0.5, 0.95, 0.99)(latency)[3], 3) AS latencyP99Ms,
  if(sum(ttft_calls) = 0, NULL, round(quantilesMerge(0.5, 0.95)(ttft)[1], 3)) AS ttftP50Ms,
  if(sum(ttft_calls) = 0, NULL, round(quantilesMerge(0.5, 0.95)(ttft)[2], 3)) AS ttftP95Ms,
  if(sum(throughput_calls) = 0, NULL, round(quantileMerge(0.5)(throughput), 2)) AS tokensPerSecond`;
