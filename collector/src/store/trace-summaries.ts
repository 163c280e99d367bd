import type { Storage } from './clickhouse.ts';
import { backfillByDay } from './backfill.ts';
import { clickhouseParamTime, withSpanMeeting } from './filters.ts';
import { wholeHours } from './llm-hours.ts';
import { select } from './queries.ts';
import { CALL_TOTAL_TYPES, SPAN_TOTAL_COLUMNS, SPAN_TOTALS } from './span-totals.ts';
import { sealedUpTo, settledInRange, traceIdOf, traceKey, UNSETTLED_IN_RANGE } from './trace-totals.ts';
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

/**
 * The dimensions whose values trace_summaries keeps (columns of those names, plural), and a column
 * of 64-bit hashes of them all (migration 17). A filtered list tests its candidates on the hashes
 * first: one array of numbers per row instead of arrays of strings and the row's times. For 1,700
 * traces not read before at 10M spans, 143 instead of 214 ms (111 of it finding their rows). A hash
 * collision only lets a trace through to the exact test.
 */
const VALUE_COLUMNS = { model: 'models', provider: 'providers', service: 'services', environment: 'environments', user: 'users', tag: 'tags' } as const;
export type ValueDimension = keyof typeof VALUE_COLUMNS;
const valueHash = (dimension: ValueDimension, value: string) => `sipHash64('${dimension}', ${value})`;

/** The value hashes of a row, from its value sets: the column's expression, and how rows summed from spans get theirs. */
const VALUE_HASHES = `arrayConcat(${Object.entries(VALUE_COLUMNS)
  .map(([dimension, column]) => `arrayMap(v -> ${valueHash(dimension as ValueDimension, 'v')}, ${column})`)
  .join(', ')})`;

export const TRACE_SUMMARY_HASHES_DDL = [
  `ALTER TABLE {db}.trace_summaries ADD COLUMN IF NOT EXISTS value_hashes
    SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64))
    MATERIALIZED ${VALUE_HASHES}`,
  'ALTER TABLE {db}.trace_summaries MATERIALIZE COLUMN value_hashes SETTINGS mutations_sync = 2',
];

/** That a trace_totals row holds this value (`param` names a String query parameter). */
export function storedValueTest(dimension: ValueDimension, param: string): string {
  return `has(${VALUE_COLUMNS[dimension]}, {${param}:String})`;
}

/**
 * A prefilter that a trace has this value, as an aggregate over its rows (a HAVING condition of
 * prefilterFromRollup and rankFromRollup): `param` names a String query parameter. Testing each
 * row's hashes costs less than collecting them per trace first (a 30-day list by cost of one
 * model's traces at 10M spans: ~0.6 instead of ~1 s).
 */
export function hasValueHash(dimension: ValueDimension, param: string): string {
  return `max(has(value_hashes, ${valueHash(dimension, `{${param}:String}`)}))`;
}

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

/** The project and time range a trace list covers. */
export type ListRange = { projectId: string; from: Date; to: Date };

/** The range as the query parameters every read here names: project, from, to. */
function rangeParams(range: ListRange): Record<string, unknown> {
  return { project: range.projectId, from: clickhouseParamTime(range.from), to: clickhouseParamTime(range.to) };
}

/**
 * A trace that passed a prefilter, with a start no later than its first span in the range: the minimum
 * over its rows in the range's hours, which may hold spans from before `from` in the first one.
 */
export interface Screened {
  traceId: string;
  startNs: string;
}

/**
 * The traces that pass the prefilter on their rows in the range's hours: aggregates over them
 * (hasValueHash) and `errorCount`. A prefilter must not drop a trace that the exact conditions keep
 * (values a trace has, errors): those rows hold every span in the range. One array of hashes per row
 * is read, not the value sets: most candidates of a sparse filter fail here at a fraction of a full
 * row's cost, so their rows are read (summariseFromRollup) only for the traces a page shows.
 */
export async function prefilterFromRollup(storage: Storage, range: ListRange, traceIds: string[], prefilter: string[], params: Record<string, unknown> = {}): Promise<Screened[]> {
  if (!traceIds.length) return [];
  return select<Screened>(
    storage,
    `SELECT trace_id AS traceId, sum(errors) AS errorCount, toString(toUnixTimestamp64Nano(min(first_start))) AS startNs
     FROM {db}.trace_summaries
     WHERE project_id = {project:String} AND trace_id IN {traceIds:Array(FixedString(32))}
       AND hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}
     GROUP BY trace_id
     ${prefilter.length ? `HAVING ${prefilter.join(' AND ')}` : ''}`,
    { ...params, ...rangeParams(range), traceIds },
  );
}

/**
 * The list rows of these traces over their spans in [from, to) that meet the conditions (written on
 * the names of MERGED_SUMMARY and MERGED_VALUES). The range's whole hours are read from the rollup,
 * and so are its partial first and last hours when a trace's rows there lie inside the range;
 * otherwise (a flag in the first read says so) those traces are read again with those hours from
 * their spans. Both are aggregate states of the same kind, merged per trace, so a row is what
 * summing the trace's spans in the range gives.
 */
export async function summariseFromRollup(storage: Storage, range: ListRange, traceIds: string[], exact: string[], params: Record<string, unknown> = {}): Promise<SummaryRow[]> {
  if (!traceIds.length) return [];
  const common = { ...params, ...rangeParams(range) };
  // The hours `from` and `to` fall inside (not on their starts); a range within one hour has one.
  const partialHours = [...new Set([range.from, range.to].filter((t) => t.getTime() % HOUR_MS !== 0).map((t) => Math.floor(t.getTime() / HOUR_MS) * HOUR_MS))].map(
    (hour) => clickhouseParamTime(new Date(hour)).slice(0, 19),
  );
  // A partial hour's row may hold spans outside the range: one starting before `from` in the first
  // hour, or one not over at `to` in the last (a span ends after it starts). For a range ending now,
  // the last hour's rows almost never do.
  const outside = partialHours.length
    ? `max(has({partialHours:Array(DateTime('UTC'))}, hour) AND NOT (first_start >= {from:DateTime64(3, 'UTC')} AND last_end < {to:DateTime64(3, 'UTC')}))`
    : '0';
  const rows = await select<SummaryRow & { outside: number }>(
    storage,
    `SELECT ${SUMMARY_NAMES}, outside FROM (
       SELECT ${MERGED_SUMMARY}, ${MERGED_VALUES}, ${outside} AS outside FROM {db}.trace_summaries
       WHERE project_id = {project:String} AND trace_id IN {traceIds:Array(FixedString(32))}
         AND hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}
       GROUP BY trace_id
     ) ${exact.length ? `WHERE outside OR (${exact.join(' AND ')})` : ''}`,
    { ...common, traceIds, partialHours },
  );
  const settled: SummaryRow[] = rows.filter((r) => !r.outside).map(({ outside: _, ...row }) => row);
  const reachingOut = rows.filter((r) => r.outside).map((r) => r.traceId);
  if (reachingOut.length) settled.push(...(await summariseWithSpans(storage, range, reachingOut, exact, common)));
  return settled;
}

/**
 * A range split where the rollup can stand for it: its whole hours, read from trace_summaries, and the
 * spans of its partial first and last hours (all of it when it has no whole hour), read from spans.
 * `spans` is a condition on spans' start_time; the parameters name the whole hours.
 */
function splitRange(range: { from: Date; to: Date }): { whole: string | null; spans: string; params: Record<string, unknown> } {
  const whole = wholeHours(range.from, range.to);
  if (!whole) return { whole: null, spans: "start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}", params: {} };
  return {
    whole: "hour >= {wholeFrom:DateTime64(3, 'UTC')} AND hour < {wholeTo:DateTime64(3, 'UTC')}",
    spans:
      "(start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {wholeFrom:DateTime64(3, 'UTC')}) OR (start_time >= {wholeTo:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')})",
    params: { wholeFrom: clickhouseParamTime(whole.start), wholeTo: clickhouseParamTime(whole.end) },
  };
}

/** Rows of traces whose partial-hour rows reach outside the range: whole hours from the rollup, partial ones from spans. */
async function summariseWithSpans(
  storage: Storage,
  range: { from: Date; to: Date },
  traceIds: string[],
  exact: string[],
  params: Record<string, unknown>,
): Promise<SummaryRow[]> {
  const split = splitRange(range);
  const ofTraces = 'project_id = {project:String} AND trace_id IN {traceIds:Array(FixedString(32))}';
  const parts = [
    ...(split.whole ? [`SELECT ${COLUMNS} FROM {db}.trace_summaries WHERE ${ofTraces} AND ${split.whole}`] : []),
    `${ROWS_OF_SPANS} FROM {db}.spans WHERE ${ofTraces} AND (${split.spans}) GROUP BY ${KEY}`,
  ];
  return select<SummaryRow>(
    storage,
    `SELECT ${SUMMARY_NAMES} FROM (
       SELECT ${MERGED_SUMMARY}, ${MERGED_VALUES} FROM (${parts.join(' UNION ALL ')}) GROUP BY trace_id
     ) ${exact.length ? `WHERE ${exact.join(' AND ')}` : ''}`,
    { ...params, traceIds, ...split.params },
  );
}

/**
 * How a trace list in any order but newest first ranks its traces: by `sortBy` and then the trace id,
 * both in `direction`. `sortBy` and `conditions` are written on rankedTotals' names; `prefilters` are
 * conditions on values a trace has, as aggregates over its rollup rows (hasValueHash, `errorCount`),
 * over its spans, or on its trace_totals row (storedValueTest, `errorCount`); each of `spanConditions`
 * is SQL that some span of a listed trace in the range meets.
 */
export interface Ranking {
  sortBy: string;
  direction: 'ASC' | 'DESC';
  prefilters: { rollup: string; spans: string; stored: string }[];
  conditions: string[];
  spanConditions: string[];
  limit: number;
}

/** A ranked trace, with its value in the ranking's order. */
export type Ranked = { traceId: string; sortValue: string };

const RANKED_TRACE_ID = `${traceIdOf('traceKey')} AS traceId`;

/**
 * A trace's totals as rankings name them (what a list is sorted and its totals conditions test), from
 * aggregates of its rows: rollup rows or spans. Tokens are `input_tokens` and `output_tokens` in both.
 * A trace with no priced call costs -1, so it sorts below every priced one (as in trace_totals).
 */
function rankedTotals(of: { start: string; end: string; errors: string; pricedCalls: string; cost: string }): string {
  return `${traceKey('trace_id')} AS traceKey,
  ${of.start} AS traceStart,
  (toUnixTimestamp64Nano(${of.end}) - toUnixTimestamp64Nano(${of.start})) / 1e6 AS durationMs,
  ${of.errors} AS errorCount,
  sum(input_tokens) AS inputTokens,
  sum(output_tokens) AS outputTokens,
  if(${of.pricedCalls} = 0, -1, ${of.cost}) AS cost`;
}

/**
 * The first `limit` traces of `source` (a FROM source with rankedTotals' names) in the ranking's order
 * that meet its conditions and `where`, with their value in it as `rankValue`.
 */
function rankedPart(ranking: Ranking, source: string, where: string[] = []): string {
  const conditions = [...where, ...ranking.conditions];
  return `SELECT traceKey, ${ranking.sortBy} AS rankValue FROM ${source}
     ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
     ORDER BY rankValue ${ranking.direction}, traceKey ${ranking.direction}
     LIMIT {rankLimit:UInt32}`;
}

/** `rows` (FROM and WHERE) summed per trace as rankedTotals, as a source for rankedPart. */
function grouped(totals: string, rows: string, having: string[]): string {
  return `(SELECT ${totals} ${rows} GROUP BY traceKey ${having.length ? `HAVING ${having.join(' AND ')}` : ''})`;
}

/** The first `limit` traces in the ranking's order over the parts (rankedPart queries of disjoint sets of traces). */
function rankingQuery(ranking: Ranking, parts: string[]): string {
  return `SELECT ${RANKED_TRACE_ID}, toString(rankValue) AS sortValue FROM (${parts.map((part) => `(${part})`).join(' UNION ALL ')})
     ORDER BY rankValue ${ranking.direction}, traceKey ${ranking.direction}
     LIMIT {rankLimit:UInt32}`;
}

const RANKED_COLUMNS = 'trace_id, first_start, last_end, errors, input_tokens, output_tokens, priced_calls, cost, value_hashes';

/**
 * The first `limit` traces in the ranking's order with their value in it (`sortValue`), over every
 * trace in the range: the whole hours' rows from trace_summaries, the partial hours summed from their
 * spans. Only the columns a ranking needs are read, not a list row's, which is read for the page's
 * traces alone (summariseFromRollup). Value conditions are tested on hashes: a collision may rank a
 * trace that the exact test then drops.
 *
 * Once traces have been sealed (trace-totals.ts), the settled traces wholly inside the whole hours are
 * ranked on their stored rows, and only the others are summed (open traces, and those with spans
 * outside the whole hours). A 30-day list by cost at 10M spans then answers in 115/176 ms p50/p95
 * instead of 393-495/488-908, one model's in 142/169 instead of 508-604/644-805. Not with span
 * conditions (text, session, metadata), which stored rows cannot test.
 */
export async function rankFromRollup(storage: Storage, range: ListRange, ranking: Ranking, params: Record<string, unknown> = {}): Promise<Ranked[]> {
  const split = splitRange(range);
  const sealed = split.whole && !ranking.spanConditions.length ? await sealedUpTo(storage) : null;
  const picked = ranking.spanConditions.map(withSpanMeeting).join('');
  const unsettled = sealed === null ? '' : ` AND trace_id IN (${UNSETTLED_IN_RANGE})`;
  const rows = [
    ...(split.whole ? [`SELECT ${RANKED_COLUMNS} FROM {db}.trace_summaries WHERE project_id = {project:String} AND ${split.whole}${picked}${unsettled}`] : []),
    `SELECT ${RANKED_COLUMNS.replace('value_hashes', `${VALUE_HASHES} AS value_hashes`)} FROM (
       ${ROWS_OF_SPANS} FROM {db}.spans WHERE project_id = {project:String} AND (${split.spans})${picked} GROUP BY ${KEY})`,
  ];
  const totals = rankedTotals({ start: 'min(first_start)', end: 'max(last_end)', errors: 'sum(errors)', pricedCalls: 'sum(priced_calls)', cost: 'sum(cost)' });
  const parts = [rankedPart(ranking, grouped(totals, `FROM (${rows.join(' UNION ALL ')})`, ranking.prefilters.map((p) => p.rollup)))];
  if (sealed !== null) parts.push(rankedPart(ranking, '{db}.trace_totals', settledInRange(ranking.prefilters.map((p) => p.stored))));
  return select<Ranked>(storage, rankingQuery(ranking, parts), {
    ...params,
    ...rangeParams(range),
    ...split.params,
    ...(sealed === null ? {} : { sealedUpTo: sealed }),
    rankLimit: ranking.limit,
  });
}

/**
 * rankFromRollup's ranking summed straight from the range's spans, under the same names, so the same
 * conditions and order; prefilters are tested on the spans. Quicker for a short range: trace_summaries
 * is ordered by trace and reads its months' rows whole, spans are ordered by hour.
 */
export function rankFromSpans(storage: Storage, range: ListRange, ranking: Ranking, params: Record<string, unknown> = {}): Promise<Ranked[]> {
  const totals = rankedTotals({
    start: 'min(start_time)',
    end: 'max(end_time)',
    errors: "countIf(status_code = 'ERROR')",
    pricedCalls: 'countIf(cost_total IS NOT NULL)',
    cost: 'sum(cost_total)',
  });
  const rows = `FROM {db}.spans
       WHERE project_id = {project:String} AND start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}
         ${ranking.spanConditions.map(withSpanMeeting).join('')}`;
  return select<Ranked>(storage, rankingQuery(ranking, [rankedPart(ranking, grouped(totals, rows, ranking.prefilters.map((p) => p.spans)))]), {
    ...params,
    ...rangeParams(range),
    rankLimit: ranking.limit,
  });
}
