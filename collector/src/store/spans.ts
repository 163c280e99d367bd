import type { SpanRow } from '../ingest/normalize.ts';
import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';

/** Storage could not take the write; the client should retry the same batch later. */
export class StorageUnavailableError extends Error {}

/**
 * Inserts one export request's rows as one ClickHouse insert. The deduplication token (a hash of
 * the project and the request body) makes a retried export a no-op instead of a double count.
 * Returns when ClickHouse has committed the rows.
 */
export async function insertSpans(storage: Storage, rows: SpanRow[], deduplicationToken: string): Promise<void> {
  if (rows.length === 0) return;
  try {
    await storage.client.insert({
      table: `${quoteIdentifier(storage.database)}.spans`,
      values: rows,
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: deduplicationToken, async_insert: 0 },
    });
  } catch (error) {
    throw new StorageUnavailableError(`ClickHouse did not accept ${rows.length} spans: ${(error as Error).message}`);
  }
}
