import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../store/projects.ts';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import type {
  ApiError,
  DatasetItem,
  DatasetItemsCreatedResponse,
  DatasetItemsFromMatchingTracesResponse,
  DatasetListResponse,
  DatasetResponse,
  DatasetSummary,
  PromotionListResponse,
  TraceListResponse,
} from './contract.ts';

let collector: TestCollector;
const llmCalls: { traceId: string; spanId: string }[] = [];
let plainSpan: { traceId: string; spanId: string };

beforeAll(async () => {
  collector = await startTestCollector();
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    for (const question of ['Where is my parcel?', 'Can I get a refund?']) {
      const span = tracer.startSpan('chat gpt-4o-mini', {
        attributes: {
          ...chatAttributes({ model: 'gpt-4o-mini', inputTokens: 10, outputTokens: 5, input: question, output: `Answer to: ${question}` }),
          'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be brief.' }]),
          'gen_ai.request.temperature': 0.2,
        },
      });
      llmCalls.push({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
      span.end();
    }
    const plain = tracer.startSpan('load user');
    plainSpan = { traceId: plain.spanContext().traceId, spanId: plain.spanContext().spanId };
    plain.end();
  });
});
afterAll(async () => {
  await collector.close();
});

async function send<T>(method: string, path: string, body?: unknown, key = collector.apiKey): Promise<{ status: number; body: T }> {
  const response = await fetch(`${collector.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as T };
}

async function newDataset(name: string): Promise<DatasetSummary> {
  return (await send<{ dataset: DatasetSummary }>('POST', '/api/v1/datasets', { name })).body.dataset;
}

const userMessage = (text: string) => ({ role: 'user', parts: [{ type: 'text', content: text }] });
const content = (items: DatasetItem[]) => items.map(({ id: _, createdAt: __, updatedAt: ___, ...rest }) => rest);

describe('datasets', () => {
  it('promotes an LLM span to a test case with an edited expected output, and the trace shows it', async () => {
    const dataset = await newDataset('support answers');
    const { traceId, spanId } = llmCalls[0]!;
    const created = await send<DatasetItemsCreatedResponse>('POST', `/api/v1/datasets/${dataset.id}/items/from-spans`, {
      spans: [{ traceId, spanId, expectedOutput: 'It arrives on Friday.', assertions: [{ type: 'contains', value: 'Friday' }] }],
    });
    expect(created.status).toBe(201);
    expect(created.body.version).toBe(1);
    expect(created.body.items[0]).toMatchObject({
      input: {
        systemInstructions: [{ type: 'text', content: 'Be brief.' }],
        messages: [userMessage('Where is my parcel?')],
        params: { temperature: 0.2 },
      },
      expectedOutput: 'It arrives on Friday.',
      assertions: [{ type: 'contains', value: 'Friday' }],
      metadata: { model: 'gpt-4o-mini', provider: 'openai' },
      source: { traceId, spanId },
    });
    const promotions = await send<PromotionListResponse>('GET', `/api/v1/traces/${traceId}/promotions`);
    expect(promotions.body.promotions).toEqual([{ datasetId: dataset.id, datasetName: 'support answers', itemId: created.body.items[0]!.id, spanId }]);
  });

  it("uses the model's answer as the expected output when none is given, and promotes whole traces in bulk", async () => {
    const dataset = await newDataset('bulk');
    const bulk = await send<DatasetItemsCreatedResponse>('POST', `/api/v1/datasets/${dataset.id}/items/from-traces`, {
      traceIds: llmCalls.map((c) => c.traceId),
    });
    expect(bulk.status).toBe(201);
    expect(bulk.body.items.map((i) => i.expectedOutput)).toEqual(['Answer to: Where is my parcel?', 'Answer to: Can I get a refund?']);
    const list = await send<DatasetListResponse>('GET', '/api/v1/datasets');
    expect(list.body.datasets.find((d) => d.id === dataset.id)).toMatchObject({ itemCount: 2, version: 1 });
  });

  it('refuses to promote a span that is not an LLM call', async () => {
    const dataset = await newDataset('nope');
    const response = await send<ApiError>('POST', `/api/v1/datasets/${dataset.id}/items/from-spans`, { spans: [plainSpan] });
    expect(response.status).toBe(422);
    expect(response.body.error.message).toContain('not an LLM call');
  });

  it('keeps every version readable: edits and deletes make new versions', async () => {
    const dataset = await newDataset('versioned');
    const added = await send<DatasetItemsCreatedResponse>('POST', `/api/v1/datasets/${dataset.id}/items`, {
      items: [
        { input: { messages: [userMessage('2+2?')] }, expectedOutput: '4' },
        { input: { messages: [userMessage('capital of France?')] }, expectedOutput: 'Paris', assertions: [{ type: 'regex', pattern: '^Paris', flags: 'i' }] },
      ],
    });
    const [math, geo] = added.body.items;
    const edited = await send<{ version: number }>('PATCH', `/api/v1/datasets/${dataset.id}/items/${math!.id}`, { expectedOutput: 'four' });
    expect(edited.body.version).toBe(2);
    const removed = await send<{ version: number }>('DELETE', `/api/v1/datasets/${dataset.id}/items/${geo!.id}`);
    expect(removed.body.version).toBe(3);

    const at = async (version?: number) =>
      (await send<DatasetResponse>('GET', `/api/v1/datasets/${dataset.id}${version ? `?version=${version}` : ''}`)).body;
    expect((await at()).items.map((i) => i.expectedOutput)).toEqual(['four']);
    expect((await at(2)).items.map((i) => i.expectedOutput)).toEqual(['four', 'Paris']);
    expect((await at(1)).items.map((i) => i.expectedOutput)).toEqual(['4', 'Paris']);
    expect((await at()).dataset).toMatchObject({ version: 3, itemCount: 1 });
    expect((await send('GET', `/api/v1/datasets/${dataset.id}?version=9`)).status).toBe(404);
  });

  it('exports JSONL and CSV that import back unchanged', async () => {
    const source = await newDataset('round trip');
    await send('POST', `/api/v1/datasets/${source.id}/items/from-spans`, {
      spans: [{ ...llmCalls[1]!, assertions: [{ type: 'json_schema', schema: { type: 'object' } }, { type: 'rubric', rubric: 'polite, "quoted", and\nmultiline' }] }],
    });
    await send('POST', `/api/v1/datasets/${source.id}/items`, {
      items: [{ input: { messages: [userMessage('commas, "quotes" and\nnewlines')] }, expectedOutput: null, metadata: { team: 'a,b' } }],
    });
    const original = (await send<DatasetResponse>('GET', `/api/v1/datasets/${source.id}`)).body.items;
    for (const format of ['jsonl', 'csv'] as const) {
      const exported = await fetch(`${collector.url}/api/v1/datasets/${source.id}/export?format=${format}`, {
        headers: { authorization: `Bearer ${collector.apiKey}` },
      });
      expect(exported.headers.get('content-disposition')).toContain(`round-trip-v2.${format}`);
      const target = await newDataset(`imported ${format}`);
      const imported = await send<DatasetItemsCreatedResponse>('POST', `/api/v1/datasets/${target.id}/import?format=${format}`, await exported.text());
      expect(imported.status).toBe(201);
      const copy = (await send<DatasetResponse>('GET', `/api/v1/datasets/${target.id}`)).body.items;
      expect(content(copy)).toEqual(content(original));
    }
  });

  it('imports a hand-written CSV with prompt, system and expected columns', async () => {
    const dataset = await newDataset('sheet');
    const csv = 'prompt,system,expected\n"Translate ""hi"" to French",You translate.,salut\n';
    const imported = await send<DatasetItemsCreatedResponse>('POST', `/api/v1/datasets/${dataset.id}/import?format=csv`, csv);
    expect(imported.body.items[0]).toMatchObject({
      input: { systemInstructions: [{ type: 'text', content: 'You translate.' }], messages: [userMessage('Translate "hi" to French')] },
      expectedOutput: 'salut',
    });
  });

  it('refuses a bad file whole, naming the line, and stores nothing', async () => {
    const dataset = await newDataset('strict');
    const file = `${JSON.stringify({ input: { messages: [userMessage('ok')] } })}\n{"input": {"messages": []}}\n`;
    const response = await send<ApiError>('POST', `/api/v1/datasets/${dataset.id}/import?format=jsonl`, file);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('line 2');
    expect(response.body.error.message).toContain('at least one message');
    expect((await send<DatasetResponse>('GET', `/api/v1/datasets/${dataset.id}`)).body).toMatchObject({ version: 0, items: [] });
  });

  it('validates assertions', async () => {
    const dataset = await newDataset('assertions');
    const badRegex = await send<ApiError>('POST', `/api/v1/datasets/${dataset.id}/items`, {
      items: [{ input: { messages: [userMessage('x')] }, assertions: [{ type: 'regex', pattern: '(' }] }],
    });
    expect(badRegex.status).toBe(400);
    expect(badRegex.body.error.message).toContain('not a valid regular expression');
    const unknown = await send<ApiError>('POST', `/api/v1/datasets/${dataset.id}/items`, {
      items: [{ input: { messages: [userMessage('x')] }, assertions: [{ type: 'vibes' }] }],
    });
    expect(unknown.status).toBe(400);
  });

  it("keeps another project's datasets out of reach", async () => {
    const dataset = await newDataset('private');
    const other = await collector.projects.createProject('Other');
    const key = generateKey();
    await collector.projects.addKey(other.id, key, { name: 'k', scope: 'full' });
    expect((await send('GET', `/api/v1/datasets/${dataset.id}`, undefined, key)).status).toBe(404);
    expect((await send<DatasetListResponse>('GET', '/api/v1/datasets', undefined, key)).body.datasets).toEqual([]);
    expect((await send('POST', `/api/v1/datasets/${dataset.id}/items/from-spans`, { spans: [llmCalls[0]] }, key)).status).toBe(404);
  });
});

describe('promoting every trace that matches a trace-list query', () => {
  // More traces than one page of the trace list (500), all on a model no other test uses.
  const MANY = 520;
  beforeAll(async () => {
    // Batched, as an app's exporter sends them: one request per span would hit the exporter's concurrency limit.
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'test-service' }),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${collector.url}/v1/traces`, headers: { authorization: `Bearer ${collector.apiKey}` } }) })],
    });
    const tracer = provider.getTracer('parallax-test');
    const start = Date.now() - 120_000;
    for (let i = 0; i < MANY; i++) {
      tracer
        .startSpan('chat gpt-4.1-nano', {
          startTime: start + i * 10,
          attributes: {
            ...chatAttributes({ model: 'gpt-4.1-nano', inputTokens: 3, outputTokens: 1, input: `question ${i}`, output: `answer ${i}` }),
            'parallax.metadata.batch': i % 2 === 0 ? 'even' : 'odd',
          },
        })
        .end(start + i * 10 + 5);
    }
    await provider.forceFlush();
    await provider.shutdown();
  });

  const promote = (datasetId: string, body: unknown, key?: string) =>
    send<DatasetItemsFromMatchingTracesResponse & ApiError>('POST', `/api/v1/datasets/${datasetId}/items/from-matching-traces`, body, key);

  it('adds one test case per LLM call of every matching trace, past the first page of the list', async () => {
    const dataset = await newDataset('all nano');
    const response = await promote(dataset.id, { filters: { model: 'gpt-4.1-nano' } });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ traces: MANY, capped: false, llmCalls: MANY, added: MANY, version: 1 });
    const { items } = (await send<DatasetResponse>('GET', `/api/v1/datasets/${dataset.id}`)).body;
    expect(items).toHaveLength(MANY);
    const questions = new Set(items.map((i) => (i.input.messages[0]!.parts[0] as { content: string }).content));
    expect(questions.size).toBe(MANY);
    expect(items.every((i) => i.expectedOutput === `answer ${(i.input.messages[0]!.parts[0] as { content: string }).content.slice(9)}`)).toBe(true);
  });

  it('takes the first traces in the order the filters sort by, and says when more matched than the cap', async () => {
    const dataset = await newDataset('oldest odd nano');
    const filters = { model: 'gpt-4.1-nano', 'meta.batch': 'odd', sort: 'time', order: 'asc' };
    const response = await promote(dataset.id, { filters, maxTraces: 7 });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ traces: 7, capped: true, added: 7 });
    const list = await send<TraceListResponse>('GET', `/api/v1/traces?model=gpt-4.1-nano&meta.batch=odd&sort=time&order=asc&limit=7`);
    const { items } = (await send<DatasetResponse>('GET', `/api/v1/datasets/${dataset.id}`)).body;
    expect(items.map((i) => i.source!.traceId)).toEqual(list.body.traces.map((t) => t.traceId));
    expect(items.map((i) => (i.input.messages[0]!.parts[0] as { content: string }).content)).toEqual(
      ['question 1', 'question 3', 'question 5', 'question 7', 'question 9', 'question 11', 'question 13'],
    );
  });

  it('searches message text like the trace list, and skips calls without recorded input', async () => {
    const dataset = await newDataset('parcels');
    const response = await promote(dataset.id, { filters: { q: 'PARCEL' } });
    expect(response.body).toMatchObject({ traces: 1, capped: false, added: 1 });
    const traces = await promote(dataset.id, { filters: { q: 'load user' } });
    expect(traces.status).toBe(422);
    expect(traces.body.error.message).toContain('none of the matching traces has an LLM call with recorded input messages');
  });

  it('refuses bad filters naming them, an empty selection, and a cap over 1000, storing nothing', async () => {
    const dataset = await newDataset('refusals');
    const badTime = await promote(dataset.id, { filters: { from: 'yesterday' } });
    expect(badTime.status).toBe(400);
    expect(badTime.body.error.message).toMatch(/filters.*"from"/);
    const badSort = await promote(dataset.id, { filters: { sort: 'vibes' } });
    expect(badSort.status).toBe(400);
    expect(badSort.body.error.message).toContain('"sort"');
    const tooMany = await promote(dataset.id, { filters: {}, maxTraces: 1001 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain('"maxTraces"');
    const none = await promote(dataset.id, { filters: { model: 'no-such-model' } });
    expect(none.status).toBe(422);
    expect(none.body.error.message).toContain('no trace matches');
    expect((await send<DatasetResponse>('GET', `/api/v1/datasets/${dataset.id}`)).body).toMatchObject({ version: 0, items: [] });
  });

  it("answers 404 for a dataset that is not the key's project's", async () => {
    const dataset = await newDataset('mine only');
    const other = await collector.projects.createProject('Elsewhere');
    const key = generateKey();
    await collector.projects.addKey(other.id, key, { name: 'k', scope: 'full' });
    expect((await promote(dataset.id, { filters: { model: 'gpt-4.1-nano' } }, key)).status).toBe(404);
    expect((await promote('ds_missing', { filters: { model: 'gpt-4.1-nano' } })).status).toBe(404);
  });
});
