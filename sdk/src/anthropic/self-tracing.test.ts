// @anthropic-ai/sdk 1.x traces itself whenever a tracer provider is registered globally, as in an app with its own
// OpenTelemetry set-up. A wrapped call must still be one LLM span, or the collector counts its tokens and cost twice.
import Anthropic from '@anthropic-ai/sdk';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startAnthropicServer, type AnthropicServer } from '@parallax/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traced, withContext } from '../context.ts';
import { wrapAnthropic } from './wrap.ts';

let server: AnthropicServer;
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(async () => {
  server = await startAnthropicServer();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  propagation.disable();
  context.disable();
  await server.close();
});
beforeEach(() => exporter.reset());

const base = { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hi' }] };
const usage = { input_tokens: 11, output_tokens: 5 };

function newClient(): Anthropic {
  return new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 });
}

/** Spans that carry token usage: each one is a call the collector prices. */
function usageSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => Object.keys(s.attributes).some((k) => k.startsWith('gen_ai.usage.')));
}

async function settled(): Promise<void> {
  // The SDK ends its own spans a tick after the caller gets the message; let that happen before counting.
  await new Promise((resolve) => setImmediate(resolve));
}

describe('Anthropic SDK self-tracing under a global tracer provider', () => {
  it('an unwrapped client traces itself (what would double the count)', async () => {
    server.enqueue({ text: 'Hello', usage });
    await newClient().messages.create(base);
    await settled();
    expect(usageSpans().map((s) => s.name)).toEqual(['anthropic.messages.create']);
  });

  it('one wrapped create() is exactly one span with usage: ours', async () => {
    server.enqueue({ text: 'Hello', usage });
    const message = await wrapAnthropic(newClient()).messages.create(base);
    expect(message.content[0]).toMatchObject({ text: 'Hello' });
    await settled();
    const spans = usageSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.name).toBe('chat claude-haiku-4-5');
    expect(spans[0]!.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 11, 'gen_ai.usage.output_tokens': 5 });
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('streams, messages.stream(), parse() and the beta resource are one span each', async () => {
    const client = wrapAnthropic(newClient());
    server.enqueue({ text: 'a', usage }, { text: 'b', usage }, { text: '{"x":1}', usage }, { text: 'c', usage }, { text: 'd', usage });

    for await (const _ of await client.messages.create({ ...base, stream: true })) {
      // read to the end
    }
    expect(await client.messages.stream(base).finalText()).toBe('b');
    const parsed = await client.messages.parse(base);
    expect(parsed.content[0]).toMatchObject({ text: '{"x":1}' });
    expect((await client.beta.messages.create(base)).content[0]).toMatchObject({ text: 'c' });
    expect(await client.beta.messages.stream(base).finalText()).toBe('d');
    await settled();

    expect(usageSpans().map((s) => s.name)).toEqual(Array(5).fill('chat claude-haiku-4-5'));
    expect(exporter.getFinishedSpans()).toHaveLength(5);
  });

  it('our spans started from a MessageStream event handler are still recorded (the helper runs suppressed)', async () => {
    server.enqueue({ text: 'first', usage }, { text: 'second', usage });
    const client = wrapAnthropic(newClient());
    let followUp: Promise<unknown> | undefined;
    await traced('request', () =>
      client.messages
        .stream(base)
        .on('message', () => {
          followUp = withContext({ sessionId: 's-1' }, () => traced('handle-message', () => client.messages.create(base)));
        })
        .finalMessage(),
    );
    await followUp;
    await settled();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['chat claude-haiku-4-5', 'chat claude-haiku-4-5', 'handle-message', 'request']);
    const request = spans.find((s) => s.name === 'request')!;
    const handler = spans.find((s) => s.name === 'handle-message')!;
    expect(handler.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(usageSpans()).toHaveLength(2);
    expect(usageSpans().map((s) => s.attributes['session.id'])).toContain('s-1');
  });

  it('keeps trace context propagation: the request carries our span as its parent', async () => {
    server.enqueue({ text: 'Hello', usage });
    const client = wrapAnthropic(newClient());
    await traced('handle-request', () => client.messages.create(base));
    const llm = exporter.getFinishedSpans().find((s) => s.name.startsWith('chat '))!;
    const traceparent = server.requests.at(-1)!.headers.traceparent;
    expect(traceparent).toBe(`00-${llm.spanContext().traceId}-${llm.spanContext().spanId}-01`);
  });

  it('a client constructed with openTelemetry: false is left unsuppressed and still traced once', async () => {
    server.enqueue({ text: 'Hello', usage });
    const client = wrapAnthropic(new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0, openTelemetry: false }));
    await client.messages.create(base);
    await settled();
    expect(usageSpans().map((s) => s.name)).toEqual(['chat claude-haiku-4-5']);
  });
});
