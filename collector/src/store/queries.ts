import type { ClickHouseSettings } from '@clickhouse/client';
import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';

/** Runs one parameterised read. Values only ever travel as query parameters, never spliced into SQL. */
export async function select<T>(storage: Storage, query: string, params: Record<string, unknown>, settings: ClickHouseSettings = {}): Promise<T[]> {
  const result = await storage.client.query({
    query: query.replaceAll('{db}', quoteIdentifier(storage.database)),
    query_params: params,
    format: 'JSONEachRow',
    // Result names like `provider` or `name` must not shadow the columns inside aggregates.
    clickhouse_settings: { prefer_column_name_to_alias: 1, ...settings },
  });
  return result.json<T>();
}
