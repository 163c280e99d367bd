import type { ClickHouseClient } from '@clickhouse/client';

export async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

export interface PartStats {
  rows: number;
  parts: number;
  bytesOnDisk: number;
  uncompressed: number;
}

/** Active parts of one table, from system.parts (what the table takes on disk now). */
export async function partStats(client: ClickHouseClient, database: string, table: string): Promise<PartStats> {
  const [stats] = await rows<PartStats>(
    client,
    `SELECT sum(rows) AS rows, count() AS parts, sum(bytes_on_disk) AS bytesOnDisk, sum(data_uncompressed_bytes) AS uncompressed
     FROM system.parts WHERE database = {db:String} AND table = {table:String} AND active`,
    { db: database, table },
  );
  return stats!;
}

/**
 * Waits until no merge runs (or `timeoutMs` passes), so a measurement does not pay for the
 * previous phase's background work. Returns the milliseconds waited.
 */
export async function waitForMerges(client: ClickHouseClient, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const [m] = await rows<{ n: number }>(client, 'SELECT count() AS n FROM system.merges');
    if (!m || m.n === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return performance.now() - started;
}
