import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';

/** Runs one parameterised read. Values only ever travel as query parameters, never spliced into SQL. */
export async function select<T>(storage: Storage, query: string, params: Record<string, unknown>, settings: QuerySettings = {}): Promise<T[]> {
  const result = await storage.client.query({
    // Result names like `provider` or `name` must not shadow the columns inside aggregates.
    query: `${query.replaceAll('{db}', quoteIdentifier(storage.database))}\n${settingsClause({ prefer_column_name_to_alias: 1, ...settings })}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  return result.json<T>();
}

type QuerySettings = Record<string, number>;

/**
 * A query's own ClickHouse settings, written into its SQL: scoped to that query on a server and in
 * chDB alike (chDB keeps request settings for its whole session; see refusingRequestSettings).
 */
function settingsClause(settings: QuerySettings): string {
  const assignments = Object.entries(settings).map(([name, value]) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name) || !Number.isFinite(value)) throw new Error(`invalid ClickHouse setting ${name} = ${value}`);
    return `${name} = ${value}`;
  });
  return `SETTINGS ${assignments.join(', ')}`;
}
