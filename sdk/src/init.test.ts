import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { flush, init, shutdown, withContext, wrap } from './index.ts';
import { tracesEndpoint } from './init.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A stand-in collector: records what the OTLP exporter sends and answers 200 like the real one. */
async function startCollector(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

let llm: OpenAIServer;
beforeAll(async () => {
  llm = await startOpenAIServer();
});
afterAll(async () => {
  await llm.close();
});
afterEach(async () => {
  await shutdown();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.PARALLAX_API_KEY;
  delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
  delete process.env.OTEL_SERVICE_NAME;
  delete process.env.OTEL_RESOURCE_ATTRIBUTES;
  delete process.env.OTEL_SDK_DISABLED;
});

describe('init', () => {
  it('exports through the OTLP protobuf exporter to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces with the API key', async () => {
    const collector = await startCollector();
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `${collector.url}/`;
      process.env.PARALLAX_API_KEY = 'px-secret';
      process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-team=search%20team';
      process.env.OTEL_SERVICE_NAME = 'checkout-api';
      process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment.name=staging';
      const first = init();
      expect(first.ownsProvider).toBe(true);
      expect(init()).toEqual(first);
      const client = wrap(new OpenAI({ baseURL: llm.url, apiKey: 'test', maxRetries: 0 }));
      await withContext({ sessionId: 'sess-42' }, () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
      expect(collector.received).toHaveLength(0);
      await flush();

      expect(collector.received).toHaveLength(1);
      const [request] = collector.received;
      expect(request!.path).toBe('/v1/traces');
      expect(request!.headers['content-type']).toBe('application/x-protobuf');
      expect(request!.headers.authorization).toBe('Bearer px-secret');
      expect(request!.headers['x-team']).toBe('search team');
      const body = request!.body.toString('latin1');
      for (const text of ['chat gpt-4o-mini', 'gen_ai.provider.name', 'sess-42', 'checkout-api', 'staging', 'telemetry.sdk.language']) {
        expect(body).toContain(text);
      }
    } finally {
      collector.server.close();
    }
  });

  it('uses an explicit endpoint and apiKey over the environment', async () => {
    const collector = await startCollector();
    try {
      process.env.PARALLAX_API_KEY = 'from-env';
      init({ endpoint: `${collector.url}/custom/v1/traces`, apiKey: 'from-option' });
      const client = wrap(new OpenAI({ baseURL: llm.url, apiKey: 'test', maxRetries: 0 }));
      await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
      await flush();
      expect(collector.received.map((r) => [r.path, r.headers.authorization])).toEqual([['/custom/v1/traces', 'Bearer from-option']]);
    } finally {
      collector.server.close();
    }
  });

  it("joins the app's own global tracer provider instead of registering one", async () => {
    const exporter = new InMemorySpanExporter();
    const appProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    expect(trace.setGlobalTracerProvider(appProvider)).toBe(true);
    try {
      const result = init({ endpoint: 'http://127.0.0.1:9/v1/traces' });
      expect(result.ownsProvider).toBe(false);
      expect(result.tracerProvider).toBe(appProvider);
      const client = wrap(new OpenAI({ baseURL: llm.url, apiKey: 'test', maxRetries: 0 }));
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['chat gpt-4o-mini']);
      await shutdown();
      // shutdown() leaves what the app registered alone.
      trace.getTracer('app').startSpan('app-span').end();
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['chat gpt-4o-mini', 'app-span']);
    } finally {
      trace.disable();
    }
  });

  it('does nothing under OTEL_SDK_DISABLED=true', () => {
    process.env.OTEL_SDK_DISABLED = 'true';
    expect(init().ownsProvider).toBe(false);
    expect(trace.getTracer('x').startSpan('s').isRecording()).toBe(false);
  });

  it('derives the traces URL as the OTLP specification says', () => {
    expect(tracesEndpoint()).toBe('http://localhost:4318/v1/traces');
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'https://collector.example.com:4318';
    expect(tracesEndpoint()).toBe('https://collector.example.com:4318/v1/traces');
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'https://traces.example.com/ingest';
    expect(tracesEndpoint()).toBe('https://traces.example.com/ingest');
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  });
});
