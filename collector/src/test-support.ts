// Helpers for the collector's own tests: a real collector on embedded ClickHouse in a temp
// directory, and spans sent to it through the official OpenTelemetry OTLP protobuf exporter.
import type { Attributes, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CollectorConfig } from './config.ts';
import { startCollector, type RunningCollector } from './index.ts';
import { quoteIdentifier, type Storage } from './store/clickhouse.ts';
import { generateKey } from './store/projects.ts';
import { sealTraces } from './store/trace-totals.ts';

export interface TestCollector extends RunningCollector {
  apiKey: string;
  /** GET a JSON API path with the default key (or another). */
  api<T = unknown>(path: string, key?: string): Promise<{ status: number; body: T }>;
  /** Rows stored in the spans table, for one project or all. */
  storedSpans(projectId?: string): Promise<number>;
}

export async function startTestCollector(overrides: Partial<CollectorConfig> = {}): Promise<TestCollector> {
  const apiKey = generateKey();
  const collector = await startCollector({
    port: 0,
    host: '127.0.0.1',
    dataDir: mkdtempSync(join(tmpdir(), 'parallax-collector-')),
    clickhouse: { database: 'parallax' },
    apiKey,
    maxBodyBytes: 4 * 1024 * 1024,
    retryAfterSeconds: 1,
    retentionIntervalSeconds: 0,
    publicUrl: 'http://localhost:4318',
    ...overrides,
  });
  return {
    ...collector,
    apiKey,
    async api<T>(path: string, key = apiKey) {
      const response = await fetch(`${collector.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: response.status, body: (await response.json()) as T };
    },
    async storedSpans(projectId?: string) {
      const result = await collector.storage.client.query({
        query: `SELECT count() AS n FROM ${quoteIdentifier(collector.storage.database)}.spans ${projectId ? 'WHERE project_id = {p:String}' : ''}`,
        query_params: { p: projectId },
        format: 'JSONEachRow',
      });
      return ((await result.json<{ n: number }>())[0]?.n ?? 0);
    },
  };
}

/**
 * Runs `emit` with a tracer whose spans go through the official OTLP protobuf exporter to the
 * collector, and waits until the exporter has delivered them.
 */
export async function exportThroughOtlp(
  collectorUrl: string,
  apiKey: string,
  emit: (tracer: Tracer) => void | Promise<void>,
  resource: Attributes = { 'service.name': 'test-service' },
): Promise<void> {
  const exporter = new OTLPTraceExporter({ url: `${collectorUrl}/v1/traces`, headers: { authorization: `Bearer ${apiKey}` } });
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  await emit(provider.getTracer('parallax-test'));
  await provider.forceFlush();
  await provider.shutdown();
}

/** GenAI attributes of one chat call, in the conventions' v1.41 names. */
export function chatAttributes(options: {
  provider?: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  input?: string;
  output?: string;
}): Attributes {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': options.provider ?? 'openai',
    'gen_ai.request.model': options.model,
    'gen_ai.response.model': options.model,
    'gen_ai.usage.input_tokens': options.inputTokens,
    'gen_ai.usage.output_tokens': options.outputTokens,
    ...(options.cacheReadTokens ? { 'gen_ai.usage.cache_read.input_tokens': options.cacheReadTokens } : {}),
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: options.input ?? 'Hello' }] }]),
    'gen_ai.output.messages': JSON.stringify([
      { role: 'assistant', parts: [{ type: 'text', content: options.output ?? 'Hi there' }], finish_reason: 'stop' },
    ]),
  };
}

/**
 * Seals every trace stored so far (trace-totals.ts), without the collector's settle time. A row carries
 * its insert's second and a seal vouches up to the second before its own, so this waits two seconds.
 */
export async function sealEverything(storage: Storage): Promise<void> {
  await new Promise((done) => setTimeout(done, 2_000));
  await sealTraces(storage, 0);
}
