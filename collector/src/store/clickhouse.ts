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

const REQUEST_TIMEOUT_MS = 60_000;
/** JSON numbers for UInt64 columns: counts never reach 2^53 here, and clients get numbers. */
const NUMBERS_AS_NUMBERS = 'output_format_json_quote_64bit_integers';

/**
 * Opens ClickHouse through @clickhouse/client: a server when a URL is given, otherwise the
 * in-process chDB engine plugged in as the client's connection, so every query below is the
 * same SQL in both modes.
 */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  let client: ClickHouseClient;
  let mode: Storage['mode'];
  if (options.url) {
    mode = 'server';
    const server = {
      url: options.url,
      username: options.username ?? 'default',
      password: options.password ?? '',
      request_timeout: REQUEST_TIMEOUT_MS,
      clickhouse_settings: { [NUMBERS_AS_NUMBERS]: 0 as const },
    };
    const bootstrap = createClient(server);
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(options.database)}` });
    await bootstrap.close();
    client = createClient({ ...server, database: options.database });
  } else {
    mode = 'embedded';
    const path = resolve(options.dataDir, 'clickhouse');
    mkdirSync(path, { recursive: true });
    // chDB's connection has no notion of a default database: every statement names it.
    client = createClient({
      request_timeout: REQUEST_TIMEOUT_MS,
      connection: refusingRequestSettings(createChdbConnection({ path })),
    } as Parameters<typeof createClient>[0]);
    // Set once for the session, which keeps it (see refusingRequestSettings).
    await client.command({ query: `SET ${NUMBERS_AS_NUMBERS} = 0` });
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(options.database)}` });
  }
  return {
    client,
    database: options.database,
    mode,
    close: () => client.close(),
  };
}

type ChdbConnection = ReturnType<typeof createChdbConnection>;

/**
 * chDB turns a request's clickhouse_settings into `SET` statements on its one session, so they stay
 * for every later query (a server scopes them to the request): one trace read that turned projections
 * off once left the switch simulator reading spans for ~480 ms instead of its projection for ~25 ms.
 * A query's own settings therefore go in its SQL (`SETTINGS …`, scoped to that query in both modes;
 * see settingsClause), and this connection refuses request settings outright so none slips back in.
 * Stating defaults on every request instead cost ~0.2 ms per setting per query.
 */
function refusingRequestSettings(connection: ChdbConnection): ChdbConnection {
  for (const method of ['query', 'exec', 'command', 'insert'] as const) {
    const send = connection[method].bind(connection) as (params: { clickhouse_settings?: object }) => unknown;
    Object.assign(connection, {
      [method]: (params: { clickhouse_settings?: object }) => {
        const names = Object.keys(params.clickhouse_settings ?? {});
        if (names.length) {
          throw new Error(`embedded ClickHouse keeps request settings for the whole session; state ${names.join(', ')} in the query's SETTINGS clause instead`);
        }
        return send(params);
      },
    });
  }
  return connection;
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
