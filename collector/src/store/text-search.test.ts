import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceListResponse } from '../api/contract.ts';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import { INDEXED_SEARCH_FROM_MS, textCondition } from './text-search.ts';

let collector: TestCollector;
/** Trace ids by what their one chat call said. */
const traces = new Map<string, string>();
const HOUR = 3_600_000;
/** Three days ago: the newest-first walk reaches them only with a window wide enough for the indexed form. */
const at = Date.now() - 72 * HOUR;

const messages: Record<string, { input: string; output: string }> = {
  refunded: { input: 'Where is my money?', output: 'Your order was REFUNDED on Monday.' },
  percent: { input: 'Are you sure?', output: 'I am 100% sure.' },
  tenApples: { input: 'Count them', output: 'There are 10 apples.' },
  underscore: { input: 'Which key?', output: 'Set max_tokens to 100.' },
  noUnderscore: { input: 'Which key again?', output: 'Set maxXtokens to 100.' },
  accents: { input: 'Où est l’ÉCOLE ?', output: 'Près de la gare.' },
  order: { input: 'Where is order ORD-4471?', output: 'It shipped.' },
};

beforeAll(async () => {
  collector = await startTestCollector();
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    Object.entries(messages).forEach(([key, { input, output }], i) => {
      const span = tracer.startSpan('chat gpt-4o-mini', {
        kind: SpanKind.CLIENT,
        startTime: at + i * 1_000,
        attributes: chatAttributes({ model: 'gpt-4o-mini', inputTokens: 10, outputTokens: 5, input, output }),
      });
      traces.set(key, span.spanContext().traceId);
      span.end(at + i * 1_000 + 500);
    });
  });
});
afterAll(async () => {
  await collector?.close();
});

/**
 * What a search lists, the same three ways: newest first over two hours around the calls (the
 * messages are read) and over a week (the walk widens past INDEXED_SEARCH_FROM_MS: the text indexes
 * answer), and by cost over the week (every span of the range tested, through the indexes).
 */
async function search(words: string): Promise<string[]> {
  const names = new Map([...traces].map(([key, id]) => [id, key]));
  const lists = [
    [at - HOUR, at + HOUR, ''],
    [Date.now() - 7 * 24 * HOUR, Date.now(), ''],
    [Date.now() - 7 * 24 * HOUR, Date.now(), '&sort=cost&order=desc'],
  ] as const;
  const found = await Promise.all(
    lists.map(async ([from, to, sort]) => {
      const range = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
      const { status, body } = await collector.api<TraceListResponse>(`/api/v1/traces?${range}&q=${encodeURIComponent(words)}${sort}`);
      expect(status).toBe(200);
      return body.traces.map((t) => names.get(t.traceId) ?? t.traceId).sort();
    }),
  );
  expect(found[1]).toEqual(found[0]);
  expect(found[2]).toEqual(found[0]);
  return found[0]!;
}

describe('message search', () => {
  it('finds the words in any letter case, also inside a longer word, in narrow and wide windows alike', async () => {
    expect(await search('refunded')).toEqual(['refunded']);
    expect(await search('FUND')).toEqual(['refunded']);
    expect(await search('école')).toEqual(['accents']);
    expect(await search('was refunded on')).toEqual(['refunded']);
    expect(await search('nothing like this')).toEqual([]);
    expect(await search('ord-4471')).toEqual(['order']);
    expect(await search('ORD-4472')).toEqual([]);
    expect(await search('order ORD')).toEqual(['order']);
  });

  it('takes % and _ in the words literally, not as patterns', async () => {
    expect(await search('0%')).toEqual(['percent']);
    expect(await search('max_tokens')).toEqual(['underscore']);
  });

  it('answers a wide window from the text index of every searched column, without reading the messages', async () => {
    expect(INDEXED_SEARCH_FROM_MS).toBeLessThan(7 * 24 * HOUR);
    const condition = textCondition('refunded');
    // ClickHouse names what it reads from a text index `__text_index_<index>_…` in the query plan.
    const result = await collector.storage.client.query({
      query: `EXPLAIN SELECT count() FROM parallax.spans WHERE ${condition.wide}`,
      query_params: condition.params,
      format: 'JSONEachRow',
    });
    const plan = (await result.json<{ explain: string }>()).map((line) => line.explain).join('\n');
    for (const column of ['input_messages', 'output_messages', 'system_instructions', 'name']) expect(plan).toContain(`__text_index_idx_text_${column}_ilike`);
  });
});
