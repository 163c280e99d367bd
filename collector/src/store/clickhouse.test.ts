import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from './clickhouse.ts';
import { select } from './queries.ts';

let storage: Storage;
beforeAll(async () => {
  storage = await openStorage({ database: 'parallax', dataDir: mkdtempSync(join(tmpdir(), 'parallax-collector-')) });
});
afterAll(async () => {
  await storage?.close();
});

interface Setting {
  name: string;
  value: string;
}

const SETTING = "SELECT name, value FROM system.settings WHERE name IN ('optimize_use_projections', 'prefer_column_name_to_alias')";

describe('embedded ClickHouse settings', () => {
  it('scopes the settings a query states to that query', async () => {
    const before = await select<Setting>(storage, `${SETTING} ORDER BY name`, {}, { prefer_column_name_to_alias: 0 });
    expect(before).toEqual([
      { name: 'optimize_use_projections', value: '1' },
      { name: 'prefer_column_name_to_alias', value: '0' },
    ]);
    // What the query itself sees: its own settings.
    expect(await select<Setting>(storage, `${SETTING} ORDER BY name`, {}, { optimize_use_projections: 0 })).toEqual([
      { name: 'optimize_use_projections', value: '0' },
      { name: 'prefer_column_name_to_alias', value: '1' },
    ]);
    expect(await select<Setting>(storage, `${SETTING} ORDER BY name`, {}, { prefer_column_name_to_alias: 0 })).toEqual(before);
  });

  it('refuses request settings, which chDB would keep for every later query', async () => {
    await expect(storage.client.query({ query: 'SELECT 1', clickhouse_settings: { optimize_use_projections: 0 } })).rejects.toThrow(
      /state optimize_use_projections in the query's SETTINGS clause/,
    );
    expect(await select<Setting>(storage, `${SETTING} AND name = 'optimize_use_projections'`, {})).toEqual([{ name: 'optimize_use_projections', value: '1' }]);
  });

  it('answers 64-bit integers as JSON numbers', async () => {
    expect(await select(storage, 'SELECT toUInt64(3) AS n, count() AS rows FROM numbers(5)', {})).toEqual([{ n: 3, rows: 5 }]);
  });
});
