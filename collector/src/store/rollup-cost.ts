import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { clickhouseParamTime } from './filters.ts';

/**
 * The hourly rollups that sum cost: each with its key (besides project and hour), the spans it
 * covers, and columns a correction row must repeat so it changes nothing but cost (a min or max
 * column would otherwise take the default).
 */
const COST_ROLLUPS = [
  { table: 'llm_hours', keys: ['model', 'provider', 'service_name', 'environment'], spans: "operation != ''", repeat: [] },
  {
    table: 'session_hours',
    keys: ['session_id', 'user_id'],
    spans: "session_id != ''",
    repeat: [
      ['first_start', 'min(start_time)'],
      ['last_end', 'max(end_time)'],
    ],
  },
  {
    table: 'session_traces',
    keys: ['session_id', 'trace_id', 'model', 'provider'],
    spans: "session_id != ''",
    repeat: [
      ['first_start', 'min(start_time)'],
      ['last_end', 'max(end_time)'],
    ],
  },
  {
    table: 'trace_summaries',
    keys: ['trace_id'],
    spans: '1',
    repeat: [
      ['first_start', 'min(start_time)'],
      ['last_end', 'max(end_time)'],
    ],
  },
];

/**
 * Makes the rollups' cost columns match the spans again in the hours of [from, to) after spans were
 * re-priced in place (ALTER UPDATE does not go through materialized views). Inserts the difference
 * per key of the spans, so running it again changes nothing.
 */
export async function reconcileRollupCost(storage: Storage, projectId: string, from: Date, to: Date): Promise<void> {
  const db = quoteIdentifier(storage.database);
  for (const { table, keys, spans, repeat } of COST_ROLLUPS) {
    const key = ['hour', ...keys].join(', ');
    const repeated = repeat.map(([column]) => `, ${column}`).join('');
    await storage.client.command({
      query: `INSERT INTO ${db}.${table} (project_id, ${key}${repeated}, priced_calls, cost)
        SELECT {project:String}, ${key}${repeat.map(([column]) => `, stored.${column}`).join('')},
               stored.priced_calls - rolled.priced_calls, stored.cost - rolled.cost
        FROM (
          SELECT toDateTime(toStartOfHour(start_time), 'UTC') AS hour, ${keys.join(', ')}${repeat.map(([column, expression]) => `, ${expression} AS ${column}`).join('')},
                 toInt64(countIf(cost_total IS NOT NULL)) AS priced_calls, sum(ifNull(cost_total, 0)) AS cost
          FROM ${db}.spans
          WHERE project_id = {project:String} AND ${spans}
            AND start_time >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND toStartOfHour(start_time) < {to:DateTime64(3, 'UTC')}
          GROUP BY ${key}
        ) AS stored
        LEFT JOIN (
          SELECT ${key}, sum(priced_calls) AS priced_calls, sum(cost) AS cost
          FROM ${db}.${table}
          WHERE project_id = {project:String} AND hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}
          GROUP BY ${key}
        ) AS rolled USING (${key})
        WHERE stored.priced_calls != rolled.priced_calls OR abs(stored.cost - rolled.cost) > 1e-12
        SETTINGS join_use_nulls = 0`,
      query_params: { project: projectId, from: clickhouseParamTime(from), to: clickhouseParamTime(to) },
    });
  }
}
