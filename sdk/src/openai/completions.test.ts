import { SpanKind } from '@opentelemetry/api';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import OpenAI from 'openai';
import type { Completion } from 'openai/resources/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureSpans, jsonAttribute } from '../testing/spans.ts';
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

const request = { model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 16, temperature: 0, stop: '\n' };

describe('legacy completions.create (text_completion)', () => {
  it('returns what the raw client returns and records a text_completion span', async () => {
    const reply = { text: 'This is a test.', usage: { input_tokens: 5, output_tokens: 6 } };
    server.enqueue(reply, reply);
    const expected = await raw.completions.create(request);
    const completion = await client.completions.create(request);
    expect({ ...completion, id: expected.id }).toEqual(expected);

    const span = capture.only();
    expect(span.name).toBe('text_completion gpt-3.5-turbo-instruct');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'text_completion',
      'gen_ai.provider.name': 'openai_compatible',
      'gen_ai.request.model': 'gpt-3.5-turbo-instruct',
      'gen_ai.request.max_tokens': 16,
      'gen_ai.request.temperature': 0,
      'gen_ai.request.stop_sequences': ['\n'],
      'gen_ai.response.id': completion.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 6,
    });
    expect(jsonAttribute(span, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Say this is a test' }] }]);
    expect(jsonAttribute(span, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'This is a test.' }], finish_reason: 'stop' }]);
  });

  it('streams the same chunks, hides the usage chunk it asked for, and records usage and the text', async () => {
    const reply = { text: 'Streaming completion', pieces: 3, usage: { input_tokens: 4, output_tokens: 3 } };
    server.enqueue(reply, reply);
    const texts = async (stream: AsyncIterable<Completion>) => {
      const out: Completion[] = [];
      for await (const chunk of stream) out.push(chunk);
      return out;
    };
    const expected = await texts(await raw.completions.create({ ...request, stream: true }));
    const chunks = await texts(await client.completions.create({ ...request, stream: true }));
    expect(chunks.map((c) => c.choices[0]?.text)).toEqual(expected.map((c) => c.choices[0]?.text));
    expect(chunks.some((c) => c.choices.length === 0)).toBe(false);
    expect(server.lastRequest().body.stream_options).toEqual({ include_usage: true });

    const span = capture.only();
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'text_completion', 'gen_ai.usage.input_tokens': 4, 'gen_ai.usage.output_tokens': 3 });
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeTypeOf('number');
    expect(jsonAttribute(span, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Streaming completion' }], finish_reason: 'stop' }]);
  });
});
