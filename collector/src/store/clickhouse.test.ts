import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_SCOPED_SETTINGS, openStorage, type Storage } from './clickhouse.ts';
import { select } from './queries.ts';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ database: 'parallax', dataDir: mkdtempSync(join(tmpdir(), 'parallax-collector-')) });
});
afterAll(async () => {
  await storage?.close();
});

const names = Object.keys(EMBEDDED_SCOPED_SETTINGS);

async function current(): Promise<Record<string, string>> {
  const rows = await storage.client.query({ query: 'SELECT name, value FROM system.settings WHERE name IN {names:Array(String)}', query_params: { names }, format: 'JSONEachRow' });
  return Object.fromEntries((await rows.json<{ name: string; value: string }>()).map((r) => [r.name, r.value]));
}

describe('embedded ClickHouse settings', () => {
  it("states chDB's own defaults for the settings that queries change", async () => {
    const rows = await storage.client.query({ query: 'SELECT name, default FROM system.settings WHERE name IN {names:Array(String)}', query_params: { names }, format: 'JSONEachRow' });
    const defaults = Object.fromEntries((await rows.json<{ name: string; default: string }>()).map((r) => [r.name, r.default]));
    expect(defaults).toEqual(Object.fromEntries(Object.entries(EMBEDDED_SCOPED_SETTINGS).map(([name, value]) => [name, String(value)])));
  });

  it('runs each query with the settings it states, not those of the query before', async () => {
    const before = await current();
    await select(storage, 'SELECT 1', {}, { optimize_use_projections: 0, mutations_sync: '2', join_use_nulls: 1, async_insert: 0 });
    expect(await current()).toEqual(before);
  });
});
