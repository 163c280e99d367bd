import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdentifier } from '../store/clickhouse.ts';
import { storageOutage } from '../store/storage-errors.ts';
import { startTestCollector, type TestCollector } from '../test-support.ts';
import type { ApiError } from './contract.ts';

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector?.close();
});

const range = () => `from=${new Date(Date.now() - 3600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`;

describe('reads while ClickHouse cannot answer', () => {
  it('answer 503 with Retry-After and a message to retry, then work again once storage is back', async () => {
    const db = quoteIdentifier(collector.storage.database);
    const paths = [`/api/v1/metrics/models?${range()}`, `/api/v1/traces?${range()}`, `/api/v1/sessions?${range()}`];
    await collector.storage.client.command({ query: `DETACH TABLE ${db}.spans` });
    try {
      for (const path of paths) {
        const response = await fetch(`${collector.url}${path}`, { headers: { authorization: `Bearer ${collector.apiKey}` } });
        expect(response.status, path).toBe(503);
        expect(response.headers.get('retry-after'), path).toBe('1');
        const { error } = (await response.json()) as ApiError;
        expect(error.code).toBe('storage_unavailable');
        expect(error.message).toMatch(/UNKNOWN_TABLE.*retry/);
      }
    } finally {
      await collector.storage.client.command({ query: `ATTACH TABLE ${db}.spans` });
    }
    for (const path of paths) expect((await collector.api(path)).status, path).toBe(200);
  });

  it('treat an unreachable ClickHouse server as an outage and a wrong query as the collector’s own failure', async () => {
    const unreachable = createClient({ url: 'http://127.0.0.1:1', request_timeout: 2_000 });
    const refused = await unreachable.query({ query: 'SELECT 1' }).catch((error: unknown) => error);
    await unreachable.close();
    expect(storageOutage(refused)).toBe('ECONNREFUSED reaching ClickHouse');

    const wrongQuery = await collector.storage.client.query({ query: 'SELEC 1' }).catch((error: unknown) => error);
    expect(wrongQuery).toBeInstanceOf(Error);
    expect(storageOutage(wrongQuery)).toBeUndefined();
  });
});
