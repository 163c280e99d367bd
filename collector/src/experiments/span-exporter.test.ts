import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelMetricsResponse, TraceListResponse, TraceResponse } from '../api/contract.ts';
import { IngestBatcher } from '../ingest/batcher.ts';
import { PriceOverrideStore } from '../store/price-overrides.ts';
import { chatAttributes, startTestCollector, type TestCollector } from '../test-support.ts';
import { IngestSpanExporter } from './span-exporter.ts';

let collector: TestCollector;
let traceId: string;

beforeAll(async () => {
  collector = await startTestCollector();
  const exporter = new IngestSpanExporter({
    batcher: new IngestBatcher(collector.storage),
    priceOverrides: new PriceOverrideStore(collector.storage),
    projectId: 'default',
    experimentId: 'exp_test1',
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'parallax-experiments' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@parallax/sdk');
  const root = tracer.startSpan('experiment item', { kind: SpanKind.INTERNAL });
  traceId = root.spanContext().traceId;
  const llm = tracer.startSpan(
    'chat gpt-4o-mini',
    { kind: SpanKind.CLIENT, attributes: { ...chatAttributes({ model: 'gpt-4o-mini', inputTokens: 1000, outputTokens: 200, input: 'What is 2+2?', output: '4' }), 'parallax.tags': ['eval'] } },
    trace.setSpan(context.active(), root),
  );
  llm.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited once' });
  llm.end();
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
});

afterAll(async () => {
  await collector?.close();
});

describe('IngestSpanExporter', () => {
  it('stores SDK spans in-process like ingested ones: priced, parented, tagged with the experiment', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const list = await collector.api<TraceListResponse>(`/api/v1/traces?from=${from}&to=${to}&tag=experiment:exp_test1`);
    expect(list.body.traces.map((t) => t.traceId)).toEqual([traceId]);
    expect(list.body.traces[0]!.cost).toBeCloseTo((1000 * 0.15 + 200 * 0.6) / 1e6, 12);

    const detail = await collector.api<TraceResponse>(`/api/v1/traces/${traceId}`);
    const spans = detail.body.trace.spans;
    const root = spans.find((s) => s.name === 'experiment item')!;
    const llm = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
    expect(llm.parentSpanId).toBe(root.spanId);
    expect(llm.kind).toBe('CLIENT');
    expect(root.kind).toBe('INTERNAL');
    expect(llm.statusCode).toBe('ERROR');
    expect(llm.serviceName).toBe('parallax-experiments');
    expect(llm.attributes['parallax.experiment.id']).toBe('exp_test1');
    expect(JSON.parse(llm.attributes['parallax.tags']!)).toEqual(['eval', 'experiment:exp_test1']);
    expect(llm.llm?.inputMessages?.[0]?.parts[0]).toEqual({ type: 'text', content: 'What is 2+2?' });

    const models = await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?from=${from}&to=${to}`);
    expect(models.body.models.map((m) => [m.model, m.calls, m.errors])).toEqual([['gpt-4o-mini', 1, 1]]);
  });
});
