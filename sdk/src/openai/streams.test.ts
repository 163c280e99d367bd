import { SpanStatusCode } from '@opentelemetry/api';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import OpenAI, { APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureSpans, collectGarbageUntil, eventually, jsonAttribute } from '../testing/spans.ts';
import { wrap } from '../wrap.ts';

const capture = captureSpans();
let server: OpenAIServer;
let raw: OpenAI;
let client: OpenAI;

beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  capture.reset();
  raw = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
  client = wrap(new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), { tracerProvider: capture.tracerProvider });
});

const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Tell me' }], stream: true as const };

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('chat streams', () => {
  it('gives the caller the same chunks as the raw client, hides the usage chunk it added, records usage', async () => {
    const reply = { text: 'One two three', pieces: 3, usage: { input_tokens: 9, output_tokens: 4, cached_tokens: 2 } };
    server.enqueue(reply, reply);
    const expected = await collect(await raw.chat.completions.create(ask));
    const chunks = await collect(await client.chat.completions.create(ask));

    expect(server.lastRequest().body.stream_options).toEqual({ include_usage: true });
    expect(server.requests.at(-2)!.body.stream_options).toBeUndefined();
    expect(chunks.map((c) => c.choices)).toEqual(expected.map((c) => c.choices));
    expect(chunks.some((c) => c.choices.length === 0)).toBe(false);

    const span = capture.only();
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 4,
      'gen_ai.usage.cache_read.input_tokens': 2,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.response.id': chunks[0]!.id,
    });
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeTypeOf('number');
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(jsonAttribute(span, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'One two three' }], finish_reason: 'stop' },
    ]);
  });

  it('measures time to first chunk from the call, not from the end of the stream', async () => {
    server.enqueue({ text: 'slow stream', delayMs: 60, chunkDelayMs: 30, pieces: 4 });
    const started = performance.now();
    await collect(await client.chat.completions.create(ask));
    const elapsed = (performance.now() - started) / 1000;
    const ttfc = capture.only().attributes['gen_ai.response.time_to_first_chunk'] as number;
    expect(ttfc).toBeGreaterThanOrEqual(0.055);
    expect(ttfc).toBeLessThan(elapsed - 0.1);
  });

  it('shows the usage chunk when the caller asked for it', async () => {
    server.enqueue({ usage: { input_tokens: 5, output_tokens: 6 } });
    const chunks = await collect(await client.chat.completions.create({ ...ask, stream_options: { include_usage: true } }));
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 6 });
    expect(capture.only().attributes['gen_ai.usage.output_tokens']).toBe(6);
  });

  it('assembles streamed tool-call argument deltas', async () => {
    server.enqueue({ toolCalls: [{ id: 'call_7', name: 'get_weather', arguments: { city: 'Paris', unit: 'C' } }], pieces: 5 });
    await collect(await client.chat.completions.create({ ...ask, tools: [{ type: 'function', function: { name: 'get_weather' } }] }));
    const span = capture.only();
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    expect(jsonAttribute(span, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_7', name: 'get_weather', arguments: { city: 'Paris', unit: 'C' } }], finish_reason: 'tool_call' },
    ]);
  });

  it('ends the span once, as cancelled, on break', async () => {
    server.enqueue({ text: 'a b c d e f g h', pieces: 8 });
    const stream = await client.chat.completions.create(ask);
    let seen = 0;
    for await (const _ of stream) {
      if (++seen === 2) break;
    }
    await eventually(() => expect(capture.spans()).toHaveLength(1));
    const span = capture.only();
    expect(span.attributes['parallax.stream.cancelled']).toBe(true);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(jsonAttribute(span, 'gen_ai.output.messages')[0].parts[0].content).toBe('a ');
    expect(stream.controller.signal.aborted).toBe(true);
  });

  it('ends the span on abort of a stalled stream, and the caller sees the SDK behaviour unchanged', async () => {
    server.enqueue({ text: 'abcdef', stallAfterEvents: 2 }, { text: 'abcdef', stallAfterEvents: 2 });
    const rawStream = await raw.chat.completions.create(ask);
    const stream = await client.chat.completions.create(ask);
    const consume = async (s: typeof stream) => {
      const got: string[] = [];
      try {
        for await (const chunk of s) {
          got.push(chunk.choices[0]?.delta.content ?? '');
          if (got.length === 2) setTimeout(() => s.controller.abort(), 20);
        }
        return { got, error: undefined };
      } catch (error) {
        return { got, error };
      }
    };
    const [rawOutcome, outcome] = await Promise.all([consume(rawStream), consume(stream)]);
    expect(outcome.got).toEqual(rawOutcome.got);
    expect(outcome.error?.constructor).toBe(rawOutcome.error?.constructor);
    await eventually(() => expect(capture.spans()).toHaveLength(1));
    expect(capture.only().attributes['parallax.stream.cancelled']).toBe(true);
  });

  it('passes an error event mid-stream through as the SDK error and marks the span', async () => {
    server.enqueue({ text: 'abcdef', streamErrorAfterEvents: 2, streamError: { message: 'overloaded', type: 'server_error' } });
    const stream = await client.chat.completions.create(ask);
    const error = await collect(stream).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('overloaded');
    const span = capture.only();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('APIError');
  });

  it('records a dropped connection mid-stream as an error', async () => {
    server.enqueue({ text: 'abcdef', disconnectAfterEvents: 2 });
    const stream = await client.chat.completions.create(ask);
    await expect(collect(stream)).rejects.toThrow();
    expect(capture.only().status.code).toBe(SpanStatusCode.ERROR);
  });

  it('keeps withResponse() on a stream', async () => {
    const { data, response, request_id } = await client.chat.completions.create(ask).withResponse();
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(request_id).toMatch(/^req_/);
    const text = (await collect(data)).map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Echo: Tell me');
    expect(capture.only().attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  });

  it('keeps tee() and toReadableStream(), with one span per request', async () => {
    const [left, right] = (await client.chat.completions.create(ask)).tee();
    const [a, b] = await Promise.all([collect(left), collect(right)]);
    expect(a).toEqual(b);
    expect(a.some((c) => c.choices.length === 0)).toBe(false);

    const readable = (await client.chat.completions.create(ask)).toReadableStream();
    const text = await new Response(readable as ReadableStream).text();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as ChatCompletionChunk);
    expect(lines.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: Tell me');
    expect(lines.some((c) => c.choices.length === 0)).toBe(false);
    expect(capture.spans()).toHaveLength(2);
    for (const span of capture.spans()) expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  });

  it('traces chat.completions.stream() (events and finalChatCompletion) as one span', async () => {
    server.enqueue({ text: 'Streaming helper', usage: { input_tokens: 3, output_tokens: 2 } });
    const runner = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    const deltas: string[] = [];
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(deltas.join('')).toBe('Streaming helper');
    expect(final.choices[0]!.message.content).toBe('Streaming helper');
    const span = capture.only();
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(2);
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeTypeOf('number');
  });

  it('does not add stream_options when streamUsage is off', async () => {
    const plain = wrap(new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), { tracerProvider: capture.tracerProvider, streamUsage: false });
    await collect(await plain.chat.completions.create(ask));
    expect(server.lastRequest().body.stream_options).toBeUndefined();
    expect(capture.only().attributes['gen_ai.usage.input_tokens']).toBeUndefined();
  });

  it('a stream that is created but never read ends its span as abandoned once it is garbage-collected', async () => {
    server.enqueue({ text: 'Never read', usage: { input_tokens: 3, output_tokens: 2 } });
    // Not even a variable in this scope holds the stream.
    await (async () => {
      await client.chat.completions.create(ask);
    })();
    expect(capture.spans()).toHaveLength(0);
    expect(await collectGarbageUntil(() => capture.spans().length > 0)).toBe(true);
    const span = capture.only();
    expect(span.attributes['parallax.stream.abandoned']).toBe(true);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['gen_ai.request.model']).toBe('gpt-4o-mini');
  });

  it('a stream read through its iterator alone is not taken for abandoned', async () => {
    server.enqueue({ text: 'Read through the iterator', pieces: 4 });
    const iterator = await (async () => (await client.chat.completions.create(ask))[Symbol.asyncIterator]())();
    // Only the iterator is left: collections must not end the span while it can still be read.
    expect(await collectGarbageUntil(() => capture.spans().length > 0, 5)).toBe(false);
    let text = '';
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) text += step.value.choices[0]?.delta.content ?? '';
    expect(text).toBe('Read through the iterator');
    const span = capture.only();
    expect(span.attributes['parallax.stream.abandoned']).toBeUndefined();
    expect(jsonAttribute(span, 'gen_ai.output.messages')[0].parts).toEqual([{ type: 'text', content: 'Read through the iterator' }]);
  });
});
