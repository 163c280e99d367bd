import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';

/**
 * Fills a rollup from the spans already stored, one day at a time so memory stays bounded on a big
 * data directory. `insert` is one day's INSERT … SELECT; it names the database `{db}` and keeps to
 * the spans of `toDate(start_time) = {day:Date}`. `spans` narrows the days to those with such spans.
 * Starts from an empty table, so a backfill cut short by a crash simply runs again (nothing ingests
 * while migrations run).
 */
export async function backfillByDay(storage: Storage, table: string, insert: string, spans = '1'): Promise<void> {
  const db = quoteIdentifier(storage.database);
  await storage.client.command({ query: `TRUNCATE TABLE ${db}.${table}` });
  const result = await storage.client.query({
    query: `SELECT DISTINCT toString(toDate(start_time)) AS day FROM ${db}.spans WHERE ${spans} ORDER BY day`,
    format: 'JSONEachRow',
  });
  for (const { day } of await result.json<{ day: string }>()) {
    await storage.client.command({ query: insert.replaceAll('{db}', db), query_params: { day } });
  }
}
