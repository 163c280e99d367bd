import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export interface StorageOptions {
  /** ClickHouse server URL; unset means embedded chDB under `dataDir`. */
  url?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** Database that holds Parallax's tables; created when missing. */
  database: string;
  /** Embedded mode only: where chDB keeps its data. One process owns it. */
  dataDir: string;
}

export interface Storage {
  client: ClickHouseClient;
  database: string;
  mode: 'embedded' | 'server';
  close(): Promise<void>;
}

/**
 * chDB applies the settings a query states to its session, and they stay for every query after it
 * (a server scopes them to the query): one getTraces call (optimize_use_projections = 0) left every
 * later query without projections, so the switch simulator read spans for ~480 ms instead of its
 * projection for ~25 ms. So in embedded mode every request states each setting some query here
 * changes, at chDB's default; a query that changes one overrides it. A setting newly set per query
 * anywhere in the collector belongs here (clickhouse.test.ts checks these are the defaults). Each costs
 * chDB ~0.2 ms a query (SELECT 1: 1.5-1.7 ms bare, 2.6-3.2 ms with these five).
 */
export const EMBEDDED_SCOPED_SETTINGS = {
  optimize_use_projections: 1,
  prefer_column_name_to_alias: 0,
  mutations_sync: '1',
  join_use_nulls: 0,
  async_insert: 1,
} as const;

/**
 * Opens ClickHouse through @clickhouse/client: a server when a URL is given, otherwise the
 * in-process chDB engine plugged in as the client's connection, so every query below is the
 * same SQL in both modes.
 */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const common = {
    // JSON numbers for UInt64 columns: counts never reach 2^53 here, and clients get numbers.
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 as const },
    request_timeout: 60_000,
  };
  let client: ClickHouseClient;
  let mode: Storage['mode'];
  if (options.url) {
    mode = 'server';
    const bootstrap = createClient({
      ...common,
      url: options.url,
      username: options.username ?? 'default',
      password: options.password ?? '',
    });
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(options.database)}` });
    await bootstrap.close();
    client = createClient({
      ...common,
      url: options.url,
      username: options.username ?? 'default',
      password: options.password ?? '',
      database: options.database,
    });
  } else {
    mode = 'embedded';
    const path = resolve(options.dataDir, 'clickhouse');
    mkdirSync(path, { recursive: true });
    // chDB's connection has no notion of a default database: every statement names it.
    client = createClient({
      ...common,
      clickhouse_settings: { ...common.clickhouse_settings, ...EMBEDDED_SCOPED_SETTINGS },
      connection: createChdbConnection({ path }),
    } as Parameters<typeof createClient>[0]);
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(options.database)}` });
  }
  return {
    client,
    database: options.database,
    mode,
    close: () => client.close(),
  };
}

/** Database names come from configuration, never from requests; still, quote them. */
export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`invalid ClickHouse identifier ${JSON.stringify(name)}: use letters, digits and _`);
  }
  return `\`${name}\``;
}

/** Storage could not take a write; the client should retry the same request later. */
export class StorageUnavailableError extends Error {}
