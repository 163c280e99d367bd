import { SpanKind } from '@opentelemetry/api';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { TraceListResponse } from '../api/contract.ts';
import { configFromEnv } from '../config.ts';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import type { Storage } from './clickhouse.ts';
import { select } from './queries.ts';
import { syncTextIndexes } from './text-search.ts';

// The text indexes come and go with PARALLAX_TEXT_INDEXES at any start (syncTextIndexes). One data
// directory, started three times: chDB allows one per process, hence a file of its own.

const HOUR = 3_600_000;
/** Three days ago: a 7-day search reaches it through its wide form (the indexes, when there are any). */
const at = Date.now() - 72 * HOUR;
const dataDir = mkdtempSync(join(tmpdir(), 'parallax-collector-'));

describe('PARALLAX_TEXT_INDEXES', () => {
  const INDEXES = ['idx_text_input_messages', 'idx_text_name', 'idx_text_output_messages', 'idx_text_system_instructions'];

  /** The text indexes spans has, and how many of its parts with rows hold no text index files (chDB keeps parts on local disk). */
  async function textIndexes(c: TestCollector): Promise<{ names: string[]; partsWithout: number }> {
    const params = { database: c.storage.database };
    const names = await select<{ name: string }>(
      c.storage,
      `SELECT name FROM system.data_skipping_indices WHERE database = {database:String} AND table = 'spans' AND startsWith(name, 'idx_text_') ORDER BY name`,
      params,
    );
    const parts = await select<{ path: string }>(c.storage, `SELECT path FROM system.parts WHERE database = {database:String} AND table = 'spans' AND active AND rows > 0`, params);
    const partsWithout = parts.filter((part) => !readdirSync(part.path).some((file) => file.startsWith('skp_idx_idx_text_'))).length;
    return { names: names.map((row) => row.name), partsWithout };
  }

  /** The traces a 7-day search lists (the wide form: through the indexes when there are any). */
  async function weekSearch(c: TestCollector, words: string): Promise<string[]> {
    const range = `from=${new Date(Date.now() - 7 * 24 * HOUR).toISOString()}&to=${new Date().toISOString()}`;
    const { body } = await c.api<TraceListResponse>(`/api/v1/traces?${range}&q=${encodeURIComponent(words)}`);
    return body.traces.map((t) => t.traceId);
  }

  let traceId = '';

  it('builds the indexes for stored spans when turned on, drops them when turned off, and search finds the same', async () => {
    const off = await startTestCollector({ dataDir, textIndexes: false });
    try {
      expect(await textIndexes(off)).toEqual({ names: [], partsWithout: 0 });
      await exportThroughOtlp(off.url, off.apiKey, (tracer) => {
        const span = tracer.startSpan('chat gpt-4o-mini', {
          kind: SpanKind.CLIENT,
          startTime: at,
          attributes: chatAttributes({ model: 'gpt-4o-mini', inputTokens: 10, outputTokens: 5, input: 'Where is my parcel?', output: 'It was REROUTED.' }),
        });
        traceId = span.spanContext().traceId;
        span.end(at + 500);
      });
      expect(await textIndexes(off)).toEqual({ names: [], partsWithout: 1 });
      expect(await weekSearch(off, 'rerouted')).toEqual([traceId]);
    } finally {
      await off.close();
    }

    const on = await startTestCollector({ dataDir, textIndexes: true });
    try {
      // Built for the span stored before, not only for spans to come.
      expect(await textIndexes(on)).toEqual({ names: INDEXES, partsWithout: 0 });
      expect(await weekSearch(on, 'rerouted')).toEqual([traceId]);
      expect(await weekSearch(on, 'redirected')).toEqual([]);
    } finally {
      await on.close();
    }

    const offAgain = await startTestCollector({ dataDir, textIndexes: false });
    try {
      expect((await textIndexes(offAgain)).names).toEqual([]);
      expect(await weekSearch(offAgain, 'rerouted')).toEqual([traceId]);
    } finally {
      await offAgain.close();
    }
  });

  it('goes on without them, saying why, when ClickHouse refuses them', async () => {
    const c = await startTestCollector({ dataDir, textIndexes: false });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      // What a server with text indexes turned off by a setting answers (ClickHouse's own message).
      const refusing: Storage = {
        ...c.storage,
        client: new Proxy(c.storage.client, {
          get(client, name) {
            if (name === 'command') {
              return (params: { query: string }) =>
                /ADD INDEX/.test(params.query)
                  ? Promise.reject(new Error('Code: 344. DB::Exception: The text index feature is disabled. (SUPPORT_IS_DISABLED)\nStack trace: ...'))
                  : client.command(params);
            }
            const value = Reflect.get(client, name);
            return typeof value === 'function' ? value.bind(client) : value;
          },
        }),
      };
      await syncTextIndexes(refusing, true);
      expect(logged).toHaveBeenCalledWith(
        'parallax collector: could not add the text indexes, message search reads the messages (slower over days): ' +
          'Code: 344. DB::Exception: The text index feature is disabled. (SUPPORT_IS_DISABLED). Set PARALLAX_TEXT_INDEXES=off to stop trying at start.',
      );
      expect((await textIndexes(c)).names).toEqual([]);
      expect(await weekSearch(c, 'rerouted')).toEqual([traceId]);
    } finally {
      logged.mockRestore();
      await c.close();
    }
  });

  it('is on unless set to off, and refuses anything but on or off', () => {
    expect(configFromEnv({}).textIndexes).toBe(true);
    expect(configFromEnv({ PARALLAX_TEXT_INDEXES: 'off' }).textIndexes).toBe(false);
    expect(configFromEnv({ PARALLAX_TEXT_INDEXES: 'on' }).textIndexes).toBe(true);
    expect(() => configFromEnv({ PARALLAX_TEXT_INDEXES: 'false' })).toThrow('PARALLAX_TEXT_INDEXES must be on or off, got "false"');
  });
});
