import type { Storage } from './clickhouse.ts';
import { clickhouseParamTime } from './filters.ts';
import { select } from './queries.ts';

/**
 * One model's LLM calls summed per quarter hour and per set of calls that any price prices at the same
 * rates (the switch simulator's input, experiments/switch-simulator.ts). Whole quarter hours come from
 * usage_quarters, an aggregate projection of spans (migration 19) that ClickHouse keeps in step with
 * every insert, merge, re-pricing mutation and retention delete; the rest of a range from the spans.
 * At 10M spans, 30 days of the busiest model (1.2M calls): ~25 ms from the projection, ~400 ms from
 * the spans. A projection is only used when the query's grouping and filters are its own expressions,
 * so those are written once, here.
 */

/**
 * The price data's tier starts (input tokens) the projection splits calls at. A target model with a
 * tier starting elsewhere is re-priced from the spans, split at its own starts.
 */
export const PROJECTED_TIER_STARTS = [128_000, 200_000, 272_000];

const QUARTER = 'toStartOfFifteenMinutes(start_time)';
const GROUP_KEYS = [
  QUARTER,
  PROJECTED_TIER_STARTS.map((start) => `(input_tokens > ${start})`).join(' + '),
  // The simulator's difference compares only calls priced both ways.
  'cost_total IS NULL',
  // More cache tokens than input: prices clamp the uncached part at 0, so such a call is priced alone.
  'if(input_tokens >= cache_read_tokens + cache_write_tokens, tuple(0, 0, 0, 0), tuple(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens))',
].join(', ');
const SUMS = `count(), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(duration_ms), sum(cost_total), count(cost_total), min(start_time)`;
const FILTER_KEYS = "project_id, model, service_name, operation != ''";

export const USAGE_QUARTERS_DDL = [
  `ALTER TABLE {db}.spans ADD PROJECTION IF NOT EXISTS usage_quarters (SELECT ${FILTER_KEYS}, ${GROUP_KEYS}, ${SUMS} GROUP BY ${FILTER_KEYS}, ${GROUP_KEYS})`,
  'ALTER TABLE {db}.spans MATERIALIZE PROJECTION usage_quarters SETTINGS mutations_sync = 2',
];

/** Calls on the same rates, their usage summed. */
export interface UsageGroup {
  /** Epoch milliseconds of the group's first call, the time its price is taken at. */
  first_call_ms: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  calls: number;
  duration_ms: number;
  actual_cost: number | null;
  priced_calls: number;
}

export interface UsageQuery {
  projectId: string;
  from: Date;
  to: Date;
  model: string;
  /** Calls of this service are left out (the experiment runner's). */
  exceptService: string;
  /** Input-token counts at which the target's price changes rate. */
  tierStarts: readonly number[];
  /** Times at which the target's price changes (overrides starting): groups never straddle one. */
  priceChanges: readonly Date[];
}

const COLUMNS = `toString(toUnixTimestamp64Milli(min(start_time))) AS first_call_ms,
  sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
  count() AS calls, sum(duration_ms) AS duration_ms,
  if(count(cost_total) = 0, NULL, sum(cost_total)) AS actual_cost, count(cost_total) AS priced_calls`;
const CALLS = "project_id = {project:String} AND model = {model:String} AND service_name != {exceptService:String} AND operation != ''";

/** The whole quarter hours [start, end) but those in `inside`, as the projection answers them. */
export const PROJECTED_GROUPS = `SELECT ${COLUMNS} FROM {db}.spans
  WHERE ${CALLS} AND ${QUARTER} >= {start:DateTime('UTC')} AND ${QUARTER} < {end:DateTime('UTC')}
    AND ${QUARTER} NOT IN {inside:Array(DateTime('UTC'))}
  GROUP BY ${GROUP_KEYS}`;
const QUARTER_MS = 900_000;

/** A quarter hour as PROJECTED_GROUPS takes it: whole seconds, a DateTime like the projection's key. */
export function quarterParam(ms: number): string {
  return clickhouseParamTime(new Date(ms)).slice(0, 19);
}

/** `model`'s calls in [from, to), grouped so that every call of a group costs the same per token at any price. */
export async function usageGroups(storage: Storage, query: UsageQuery): Promise<UsageGroup[]> {
  const params: Record<string, unknown> = { project: query.projectId, model: query.model, exceptService: query.exceptService };
  const start = Math.ceil(query.from.getTime() / QUARTER_MS) * QUARTER_MS;
  const end = Math.floor(query.to.getTime() / QUARTER_MS) * QUARTER_MS;
  const projected = end > start && query.tierStarts.every((tier) => PROJECTED_TIER_STARTS.includes(tier));
  // The quarter hours a price change falls inside (not on their edge): the spans answer them, split there.
  const inside = projected
    ? [...new Set(query.priceChanges.map((c) => c.getTime()).filter((t) => t > start && t < end && t % QUARTER_MS !== 0).map((t) => t - (t % QUARTER_MS)))]
    : [];
  // What the spans answer: the range's partial quarter hours at either end and those split quarter hours;
  // or, when the projection cannot serve, the whole range.
  const pieces: Array<[number, number]> = projected
    ? [[query.from.getTime(), start], [end, query.to.getTime()], ...inside.map((quarter): [number, number] => [quarter, quarter + QUARTER_MS])]
    : [[query.from.getTime(), query.to.getTime()]];
  const ranges = pieces
    .filter(([from, to]) => to > from)
    .map(([from, to], i) => {
      params[`from${i}`] = clickhouseParamTime(new Date(from));
      params[`to${i}`] = clickhouseParamTime(new Date(to));
      return `(start_time >= {from${i}:DateTime64(3, 'UTC')} AND start_time < {to${i}:DateTime64(3, 'UTC')})`;
    });
  params.tierStarts = query.tierStarts;
  params.priceChanges = query.priceChanges.map(clickhouseParamTime);
  const groups: UsageGroup[] = [];
  if (ranges.length) {
    groups.push(
      ...(await select<UsageGroup>(
        storage,
        // Besides GROUP_KEYS' tier classes, the target's own tier starts and its price changes split the groups.
        `SELECT ${COLUMNS} FROM {db}.spans WHERE ${CALLS} AND (${ranges.join(' OR ')})
         GROUP BY ${GROUP_KEYS}, arrayCount(tier -> input_tokens > tier, {tierStarts:Array(UInt64)}),
                  arrayCount(change -> change <= start_time, {priceChanges:Array(DateTime64(3, 'UTC'))})`,
        params,
      )),
    );
  }
  if (projected) {
    params.start = quarterParam(start);
    params.end = quarterParam(end);
    params.inside = inside.map(quarterParam);
    groups.push(...(await select<UsageGroup>(storage, PROJECTED_GROUPS, params)));
  }
  return groups;
}
