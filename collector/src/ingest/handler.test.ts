import { gzipSync } from 'node:zlib';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceResponse } from '../api/contract.ts';
import { quoteIdentifier } from '../store/clickhouse.ts';
import { DEFAULT_PROJECT_ID } from '../store/projects.ts';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector.close();
});

let idCounter = 1;
/** A fresh, valid trace id per call so tests never collide in the shared store. */
function newTraceId(): string {
  return `f${(idCounter++).toString(16).padStart(31, '0')}`;
}

function jsonRequest(traceId: string, spanOverrides: Record<string, unknown> = {}) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-service' } }] },
        scopeSpans: [
          {
            scope: { name: 'hand-written' },
            spans: [
              {
                traceId,
                spanId: '00f067aa0ba902b7',
                name: 'chat gpt-4o-mini',
                kind: 3,
                startTimeUnixNano: '1764000000000000000',
                endTimeUnixNano: '1764000000250000000',
                attributes: [
                  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                  { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
                  { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
                  { key: 'gen_ai.usage.input_tokens', value: { intValue: '2000' } },
                  { key: 'gen_ai.usage.output_tokens', value: { intValue: 100 } },
                ],
                ...spanOverrides,
              },
            ],
          },
        ],
      },
    ],
  };
}

function post(body: RequestInit["body"], headers: Record<string, string>, key: string | null = collector.apiKey) {
  return fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
  });
}

async function spansOfTrace(traceId: string): Promise<number> {
  const result = await collector.storage.client.query({
    query: `SELECT count() AS n FROM ${quoteIdentifier(collector.storage.database)}.spans WHERE trace_id = {t:String}`,
    query_params: { t: traceId },
    format: 'JSONEachRow',
  });
  return (await result.json<{ n: number }>())[0]!.n;
}

describe('POST /v1/traces', () => {
  it('stores spans sent by the official OTLP protobuf exporter, with GenAI columns and cost', async () => {
    let traceId = '';
    await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
      const root = tracer.startSpan('handle request', { kind: SpanKind.SERVER });
      traceId = root.spanContext().traceId;
      const llm = tracer.startSpan(
        'chat gpt-4o',
        {
          kind: SpanKind.CLIENT,
          attributes: {
            ...chatAttributes({ model: 'gpt-4o', inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 400_000, input: 'What is 2+2?', output: 'Four.' }),
            'session.id': 'session-7',
            'user.id': 'user-42',
            'gen_ai.response.time_to_first_chunk': 0.2,
          },
        },
        trace.setSpan(context.active(), root),
      );
      llm.addEvent('retry', { attempt: 1 });
      llm.end();
      root.end();
    });
    const { status, body } = await collector.api<TraceResponse>(`/api/v1/traces/${traceId}`);
    expect(status).toBe(200);
    const spans = body.trace.spans;
    expect(spans).toHaveLength(2);
    const root = spans.find((s) => s.name === 'handle request')!;
    const llm = spans.find((s) => s.name === 'chat gpt-4o')!;
    expect(root.parentSpanId).toBeNull();
    expect(root.llm).toBeNull();
    expect(root.serviceName).toBe('test-service');
    expect(llm.parentSpanId).toBe(root.spanId);
    expect(llm.kind).toBe('CLIENT');
    expect(llm.events.map((e) => e.name)).toEqual(['retry']);
    expect(llm.attributes['session.id']).toBe('session-7');
    // The conversation is stored once, in the message columns, not again among the attributes.
    expect(llm.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(llm.attributes['gen_ai.request.model']).toBe('gpt-4o');
    expect(llm.llm).toMatchObject({
      operation: 'chat',
      provider: 'openai',
      requestModel: 'gpt-4o',
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      cacheReadTokens: 400_000,
      finishReasons: ['stop'],
      ttftMs: 200,
      inputMessages: [{ role: 'user', parts: [{ type: 'text', content: 'What is 2+2?' }] }],
      outputMessages: [{ role: 'assistant', parts: [{ type: 'text', content: 'Four.' }], finish_reason: 'stop' }],
    });
    // gpt-4o: $2.50/M input, $1.25/M cached input, $10/M output. 600k uncached + 400k cached + 100k out.
    expect(llm.llm!.cost!.input).toBeCloseTo(0.6 * 2.5 + 0.4 * 1.25, 9);
    expect(llm.llm!.cost!.output).toBeCloseTo(1.0, 9);
    expect(llm.llm!.cost!.total).toBeCloseTo(3.0, 9);
  });

  it('accepts gzipped OTLP/JSON and answers in JSON', async () => {
    const traceId = newTraceId();
    const response = await post(gzipSync(JSON.stringify(jsonRequest(traceId))), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    expect(await spansOfTrace(traceId)).toBe(1);
  });

  it('stores a retried batch once (an exporter that timed out and sent it again)', async () => {
    const traceId = newTraceId();
    const body = JSON.stringify(jsonRequest(traceId));
    for (let i = 0; i < 3; i++) {
      expect((await post(body, { 'content-type': 'application/json' })).status).toBe(200);
    }
    expect(await spansOfTrace(traceId)).toBe(1);
  });

  it('keeps up with many small concurrent exports by sharing inserts, storing each span once', async () => {
    const before = (await (await fetch(`${collector.url}/health`)).json()) as { ingest: { batches: number; requests: number } };
    const traceIds = Array.from({ length: 200 }, () => newTraceId());
    const responses = await Promise.all(traceIds.map((id) => post(JSON.stringify(jsonRequest(id)), { 'content-type': 'application/json' })));
    expect(responses.map((r) => r.status)).toEqual(traceIds.map(() => 200));
    const after = (await (await fetch(`${collector.url}/health`)).json()) as { ingest: { batches: number; requests: number } };
    expect(after.ingest.requests - before.ingest.requests).toBe(200);
    expect(after.ingest.batches - before.ingest.batches).toBeLessThan(200);
    for (const id of traceIds.slice(0, 5)) expect(await spansOfTrace(id)).toBe(1);
    const result = await collector.storage.client.query({
      query: `SELECT count() AS n, uniqExact(trace_id) AS u FROM ${quoteIdentifier(collector.storage.database)}.spans WHERE trace_id IN {ids:Array(String)}`,
      query_params: { ids: traceIds },
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([{ n: 200, u: 200 }]);
  });

  it('stores a retry once even when it arrives while the first attempt is still in flight', async () => {
    const traceId = newTraceId();
    const body = JSON.stringify(jsonRequest(traceId));
    const statuses = await Promise.all([1, 2, 3].map(() => post(body, { 'content-type': 'application/json' }).then((r) => r.status)));
    expect(statuses).toEqual([200, 200, 200]);
    expect(await spansOfTrace(traceId)).toBe(1);
  });

  it('refuses malformed protobuf with 400 naming the problem, and stores nothing', async () => {
    const before = await collector.storedSpans();
    const response = await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-protobuf');
    const text = new TextDecoder().decode(new Uint8Array(await response.arrayBuffer()));
    expect(text).toContain('invalid OTLP protobuf');
    expect(await collector.storedSpans()).toBe(before);
  });

  it('refuses malformed JSON and schema violations with 400 naming the field, and stores nothing', async () => {
    const before = await collector.storedSpans();
    const broken = await post('{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toMatch(/^invalid OTLP JSON/);

    const traceId = newTraceId();
    const wrongType = jsonRequest(traceId, { startTimeUnixNano: 'yesterday' });
    const response = await post(JSON.stringify(wrongType), { 'content-type': 'application/json' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('malformed_payload');
    expect(body.error.message).toContain('resourceSpans.0.scopeSpans.0.spans.0.startTimeUnixNano');
    expect(await collector.storedSpans()).toBe(before);
  });

  it('refuses spans with invalid ids one by one (partial success) and keeps the rest', async () => {
    const good = newTraceId();
    const request = jsonRequest(good);
    const spans = request.resourceSpans[0]!.scopeSpans[0]!.spans as Record<string, unknown>[];
    spans.push({ ...spans[0], traceId: 'not-hex', spanId: '1111111111111111' });
    const response = await post(JSON.stringify(request), { 'content-type': 'application/json' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    expect(body.partialSuccess.rejectedSpans).toBe(1);
    expect(body.partialSuccess.errorMessage).toContain('spans[1]: traceId must be 16 non-zero bytes');
    expect(await spansOfTrace(good)).toBe(1);
  });

  it('refuses a missing or wrong key with 401 and stores nothing', async () => {
    const before = await collector.storedSpans();
    const body = JSON.stringify(jsonRequest(newTraceId()));
    const missing = await post(body, { 'content-type': 'application/json' }, null);
    expect(missing.status).toBe(401);
    const wrong = await post(body, { 'content-type': 'application/json' }, 'px_not-a-real-key');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toContain('unknown or revoked API key');
    expect(await collector.storedSpans()).toBe(before);
  });

  it('refuses a body over the limit with 413, also when only the gunzipped size is over, and stores nothing', async () => {
    const before = await collector.storedSpans();
    const traceId = newTraceId();
    const huge = jsonRequest(traceId, { name: 'x'.repeat(5 * 1024 * 1024) });
    const plain = await post(JSON.stringify(huge), { 'content-type': 'application/json' });
    expect(plain.status).toBe(413);
    const zipped = gzipSync(JSON.stringify(huge));
    expect(zipped.byteLength).toBeLessThan(4 * 1024 * 1024);
    const bomb = await post(zipped, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
    expect(((await bomb.json()) as { error: { message: string } }).error.message).toContain('limit');
    expect(await collector.storedSpans()).toBe(before);
  });

  it('answers 415 for a content type OTLP does not define', async () => {
    const response = await post('hello', { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
  });

  it('answers 503 with Retry-After while storage is down, stores nothing, and takes the retry once it is back', async () => {
    const db = quoteIdentifier(collector.storage.database);
    const traceId = newTraceId();
    const body = JSON.stringify(jsonRequest(traceId));
    await collector.storage.client.command({ query: `DETACH TABLE ${db}.spans` });
    try {
      const down = await post(body, { 'content-type': 'application/json' });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('1');
      const error = ((await down.json()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('storage_unavailable');
      expect(error.message).toContain('retry');
    } finally {
      await collector.storage.client.command({ query: `ATTACH TABLE ${db}.spans` });
    }
    expect(await spansOfTrace(traceId)).toBe(0);
    expect((await post(body, { 'content-type': 'application/json' })).status).toBe(200);
    expect(await spansOfTrace(traceId)).toBe(1);
  });

  it('stores spans under the project of the key that sent them', async () => {
    const traceId = newTraceId();
    await post(JSON.stringify(jsonRequest(traceId)), { 'content-type': 'application/json' });
    const result = await collector.storage.client.query({
      query: `SELECT DISTINCT project_id FROM ${quoteIdentifier(collector.storage.database)}.spans WHERE trace_id = {t:String}`,
      query_params: { t: traceId },
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([{ project_id: DEFAULT_PROJECT_ID }]);
  });

  it('keeps an unknown model unpriced (NULL cost), not free', async () => {
    const traceId = newTraceId();
    const request = jsonRequest(traceId);
    const attributes = request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes as { key: string; value: unknown }[];
    attributes.find((a) => a.key === 'gen_ai.request.model')!.value = { stringValue: 'our-finetune-v3' };
    expect((await post(JSON.stringify(request), { 'content-type': 'application/json' })).status).toBe(200);
    const { body } = await collector.api<TraceResponse>(`/api/v1/traces/${traceId}`);
    expect(body.trace.spans[0]!.llm!.requestModel).toBe('our-finetune-v3');
    expect(body.trace.spans[0]!.llm!.cost).toBeNull();
  });
});
