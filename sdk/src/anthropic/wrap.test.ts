import Anthropic from '@anthropic-ai/sdk';
import { SpanKind, SpanStatusCode, type TracerProvider as ApiTracerProvider } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startAnthropicServer, type AnthropicServer } from '@parallax/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectGarbageUntil } from '../testing/spans.ts';
import { wrapAnthropic } from './wrap.ts';

let server: AnthropicServer;
let exporter: InMemorySpanExporter;
let client: Anthropic;

beforeEach(async () => {
  server = await startAnthropicServer();
  exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  client = wrapAnthropic(new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 }), { tracerProvider, captureContent: true });
});
afterEach(async () => {
  await server.close();
});

const base = { model: 'claude-sonnet-4-6', max_tokens: 256 } as const;
const weatherTool = { name: 'get_weather', description: 'Weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } };

function onlySpan(): ReadableSpan {
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

function json(span: ReadableSpan, attribute: string): unknown {
  const value = span.attributes[attribute];
  expect(typeof value).toBe('string');
  return JSON.parse(value as string);
}

async function waitForSpans(count: number): Promise<ReadableSpan[]> {
  for (let i = 0; i < 100 && exporter.getFinishedSpans().length < count; i++) await new Promise((r) => setTimeout(r, 10));
  return exporter.getFinishedSpans();
}

describe('wrapAnthropic: messages.create', () => {
  it('returns the same client and records a chat span with usage totals including cache tokens', async () => {
    server.enqueue({ text: 'Bonjour !', usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 } });
    const message = await client.messages.create({ ...base, system: 'Answer in French.', messages: [{ role: 'user', content: 'Hello' }], stop_sequences: ['END'] });

    expect(message.content).toEqual([{ type: 'text', text: 'Bonjour !', citations: null }]);
    expect(message._request_id).toMatch(/^req_standin_/);
    const span = onlySpan();
    expect(span.name).toBe('chat claude-sonnet-4-6');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-6',
      'gen_ai.request.max_tokens': 256,
      'gen_ai.request.stop_sequences': ['END'],
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(server.url).port),
      'gen_ai.response.id': message.id,
      'gen_ai.response.model': 'claude-sonnet-4-6',
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': 130,
      'gen_ai.usage.output_tokens': 4,
      'gen_ai.usage.cache_read.input_tokens': 100,
      'gen_ai.usage.cache_creation.input_tokens': 20,
    });
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
    expect(json(span, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'Answer in French.' }]);
    expect(json(span, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hello' }] }]);
    expect(json(span, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Bonjour !' }], finish_reason: 'stop' }]);
  });

  it('records tools, thinking and tool calls', async () => {
    server.enqueue({
      content: [
        { type: 'thinking', thinking: 'Need the weather.', signature: 'sig1' },
        { type: 'tool_use', id: 'toolu_7', name: 'get_weather', input: { city: 'Paris' } },
      ],
      usage: { input_tokens: 50, output_tokens: 30, thinking_tokens: 12 },
    });
    const message = await client.messages.create({
      ...base,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    expect(message.stop_reason).toBe('tool_use');
    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['tool_use'],
      'gen_ai.usage.reasoning.output_tokens': 12,
      'anthropic.thinking.type': 'enabled',
      'anthropic.thinking.budget_tokens': 1024,
    });
    expect(json(span, 'gen_ai.tool.definitions')).toEqual([{ type: 'function', name: 'get_weather', description: 'Weather', parameters: weatherTool.input_schema }]);
    expect(json(span, 'gen_ai.output.messages')).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Need the weather.', signature: 'sig1' },
          { type: 'tool_call', id: 'toolu_7', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it('keeps withResponse() and asResponse() working', async () => {
    server.enqueue({ text: 'one' }, { text: 'two' });
    const { data, response, request_id } = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'a' }] }).withResponse();
    expect(data.content[0]).toMatchObject({ text: 'one' });
    expect(response.status).toBe(200);
    expect(request_id).toBe(response.headers.get('request-id'));
    expect((await waitForSpans(1))[0]!.attributes['gen_ai.response.id']).toBe(data.id);

    const raw = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'b' }] }).asResponse();
    expect(((await raw.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe('two');
    const spans = await waitForSpans(2);
    expect(spans).toHaveLength(2);
    expect(spans[1]!.attributes['gen_ai.request.model']).toBe('claude-sonnet-4-6');
  });

  it('passes a 4xx error through unchanged and records it', async () => {
    server.enqueue({ status: 401, error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    const error = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).status).toBe(401);
    expect((error as Error).message).toContain('invalid x-api-key');
    const span = (await waitForSpans(1))[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('AuthenticationError');
    expect(span.events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('a 200 whose body is not JSON reaches the caller as the SDK error and ends the span as an error', async () => {
    server.enqueue({ raw: '<html>502 Bad Gateway</html>', contentType: 'application/json' }, { raw: '{"id":"msg_1","content":[' });
    const first = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    const second = await client.messages.parse({ ...base, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    expect(second).toBeInstanceOf(Error);
    const spans = await waitForSpans(2);
    expect(spans).toHaveLength(2);
    expect(spans.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR]);
    expect(spans[0]!.attributes['error.type']).toBe((first as Error).constructor.name);
  });

  it('passes a 5xx and a network error through unchanged and records them', async () => {
    server.enqueue({ status: 529, error: { type: 'overloaded_error', message: 'Overloaded' } }, { disconnect: true });
    const overloaded = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    const network = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(network).toBeInstanceOf(Anthropic.APIConnectionError);
    const spans = await waitForSpans(2);
    expect(spans.map((s) => s.attributes['error.type'])).toEqual(['OverloadedError', 'APIConnectionError']);
    expect(spans.every((s) => s.status.code === SpanStatusCode.ERROR)).toBe(true);
  });
});

describe('wrapAnthropic: streams', () => {
  it('create({ stream: true }) yields the same events and records the rebuilt message and time to first chunk', async () => {
    server.enqueue({
      content: [{ type: 'text', text: 'Hello there, streaming.' }, { type: 'tool_use', id: 'toolu_s', name: 'get_weather', input: { city: 'Rome' } }],
      usage: { input_tokens: 9, output_tokens: 21, cache_read_input_tokens: 1 },
      chunkDelayMs: 5,
    });
    const stream = await client.messages.create({ ...base, stream: true, tools: [weatherTool], messages: [{ role: 'user', content: 'Hi' }] });
    expect(stream).toBeInstanceOf(Object.getPrototypeOf(stream).constructor);
    expect(stream.controller).toBeInstanceOf(AbortController);
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(server.lastStreamEvents().map(([e]) => e).filter((e) => e !== 'ping'));

    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': 'msg_standin_1',
      'gen_ai.response.finish_reasons': ['tool_use'],
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 21,
      'gen_ai.usage.cache_read.input_tokens': 1,
    });
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(span.attributes['parallax.stream.cancelled']).toBeUndefined();
    expect(json(span, 'gen_ai.output.messages')).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Hello there, streaming.' },
          { type: 'tool_call', id: 'toolu_s', name: 'get_weather', arguments: { city: 'Rome' } },
        ],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it('messages.stream() keeps its events, helpers and finalMessage(), with one span', async () => {
    server.enqueue({
      content: [{ type: 'thinking', thinking: 'Pondering', signature: 'sg' }, { type: 'text', text: 'Forty-two' }],
      usage: { input_tokens: 3, output_tokens: 5, cache_creation_input_tokens: 7 },
    });
    const texts: string[] = [];
    const thoughts: string[] = [];
    const stream = client.messages
      .stream({ ...base, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'Meaning of life?' }] })
      .on('text', (delta) => texts.push(delta))
      .on('thinking', (delta) => thoughts.push(delta));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('Forty-two');
    expect(thoughts.join('')).toBe('Pondering');
    expect(await stream.finalText()).toBe('Forty-two');
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'Pondering', signature: 'sg' },
      { type: 'text', text: 'Forty-two', citations: null },
    ]);
    expect(final.usage).toMatchObject({ input_tokens: 3, output_tokens: 5, cache_creation_input_tokens: 7 });

    const span = (await waitForSpans(1))[0]!;
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.cache_creation.input_tokens': 7, 'gen_ai.response.finish_reasons': ['end_turn'] });
    expect(json(span, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'Pondering', signature: 'sg' }, { type: 'text', content: 'Forty-two' }], finish_reason: 'stop' },
    ]);
  });

  it('an early break ends the span once, as cancelled, with what arrived', async () => {
    server.enqueue({ text: 'abcdefghij', piecesPerBlock: 5, chunkDelayMs: 5 });
    const stream = await client.messages.create({ ...base, stream: true, messages: [{ role: 'user', content: 'Hi' }] });
    let text = '';
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        text += event.delta.text;
        if (text.length >= 4) break;
      }
    }
    const span = (await waitForSpans(1))[0]!;
    await new Promise((r) => setTimeout(r, 30));
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span.attributes['parallax.stream.cancelled']).toBe(true);
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(json(span, 'gen_ai.output.messages')).toMatchObject([{ parts: [{ type: 'text', content: text }] }]);
  });

  it('abort() on a stalled MessageStream ends the span once, as cancelled, and the caller sees the abort', async () => {
    server.enqueue({ text: 'abcdefghij', stallAfterEvents: 4 });
    const stream = client.messages.stream({ ...base, messages: [{ role: 'user', content: 'Hi' }] });
    const aborted = new Promise((resolve) => stream.on('abort', resolve));
    await new Promise<void>((resolve) => stream.on('text', () => resolve()));
    stream.abort();
    expect(await aborted).toBeInstanceOf(Anthropic.APIUserAbortError);
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
    const span = (await waitForSpans(1))[0]!;
    expect(span.attributes['parallax.stream.cancelled']).toBe(true);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('an error event mid-stream reaches the caller unchanged and fails the span with the partial output', async () => {
    server.enqueue({ text: 'partial answer', streamErrorAfterEvents: 4, streamError: { type: 'overloaded_error', message: 'Overloaded' } });
    const stream = await client.messages.create({ ...base, stream: true, messages: [{ role: 'user', content: 'Hi' }] });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain('Overloaded');
    expect(seen).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
    const span = onlySpan();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(json(span, 'gen_ai.output.messages')).toMatchObject([{ parts: [{ type: 'text', content: 'partial' }] }]);
  });

  it('a dropped connection mid-stream fails the span once', async () => {
    server.enqueue({ text: 'abcdefgh', piecesPerBlock: 4, disconnectAfterEvents: 4 });
    const stream = client.messages.stream({ ...base, messages: [{ role: 'user', content: 'Hi' }] });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const span = (await waitForSpans(1))[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });
});

describe('wrapAnthropic: beta, parse and countTokens', () => {
  it('traces beta.messages.create, beta.messages.stream() and messages.parse() like messages.create', async () => {
    server.enqueue({ text: 'beta', usage: { input_tokens: 2, output_tokens: 1 } }, { text: 'streamed beta', usage: { input_tokens: 4, output_tokens: 3 } }, { text: '{"ok":true}' });
    const message = await client.beta.messages.create({ ...base, messages: [{ role: 'user', content: 'a' }] }, { headers: { 'anthropic-beta': 'context-management-2025-06-27' } });
    expect(message.content[0]).toMatchObject({ text: 'beta' });
    expect(server.requests.at(-1)!.headers['anthropic-beta']).toBe('context-management-2025-06-27');
    expect(await client.beta.messages.stream({ ...base, messages: [{ role: 'user', content: 'b' }] }).finalText()).toBe('streamed beta');
    await client.messages.parse({ ...base, messages: [{ role: 'user', content: 'c' }] });
    const spans = await waitForSpans(3);
    expect(spans).toHaveLength(3);
    expect(spans.map((s) => s.attributes['gen_ai.usage.output_tokens'])).toEqual([1, 3, expect.any(Number)]);
    expect(json(spans[1]!, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'streamed beta' }], finish_reason: 'stop' }]);
    expect(json(spans[2]!, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'c' }] }]);
  });

  it('countTokens is not a model call: it works and makes no span', async () => {
    const counted = await client.messages.countTokens({ model: base.model, messages: [{ role: 'user', content: 'How many tokens is this?' }] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const beta = await client.beta.messages.countTokens({ model: base.model, messages: [{ role: 'user', content: 'And this?' }] });
    expect(beta.input_tokens).toBeGreaterThan(0);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('traces clients made with withOptions()', async () => {
    const copy = client.withOptions({ timeout: 5_000 });
    await copy.messages.create({ ...base, messages: [{ role: 'user', content: 'a' }] });
    expect(await waitForSpans(1)).toHaveLength(1);
  });

  it('a stream that is never read ends its span as abandoned once it is garbage-collected', async () => {
    server.enqueue({ text: 'Never read' });
    await (async () => {
      await client.messages.create({ ...base, messages: [{ role: 'user', content: 'x' }], stream: true });
    })();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(await collectGarbageUntil(() => exporter.getFinishedSpans().length > 0)).toBe(true);
    const span = onlySpan();
    expect(span.attributes['parallax.stream.abandoned']).toBe(true);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });
});

describe('wrapAnthropic: never in the way', () => {
  it('a broken tracer provider breaks neither wrap() nor the call', async () => {
    const noTracer = { getTracer: () => { throw new Error('tracer exploded'); } } as unknown as ApiTracerProvider;
    const noSpan = { getTracer: () => ({ startSpan: () => { throw new Error('span exploded'); } }) } as unknown as ApiTracerProvider;
    for (const tracerProvider of [noTracer, noSpan]) {
      const wrapped = wrapAnthropic(new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 }), { tracerProvider });
      server.enqueue({ text: 'still fine' }, { text: 'streamed fine' });
      const message = await wrapped.messages.create({ ...base, messages: [{ role: 'user', content: 'x' }] });
      expect(message.content[0]).toMatchObject({ text: 'still fine' });
      expect(await wrapped.messages.stream({ ...base, messages: [{ role: 'user', content: 'x' }] }).finalText()).toBe('streamed fine');
    }
  });

  it('wrapping twice records one span, and content capture off leaves content out', async () => {
    const exporter2 = new InMemorySpanExporter();
    const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: exporter2 })] });
    const twice = wrapAnthropic(wrapAnthropic(new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 }), { tracerProvider, captureContent: false }), { tracerProvider });
    await twice.messages.create({ ...base, messages: [{ role: 'user', content: 'secret' }] });
    const spans = exporter2.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(spans[0]!.attributes['gen_ai.output.messages']).toBeUndefined();
    expect(spans[0]!.attributes['gen_ai.usage.output_tokens']).toBe(8);
  });
});
