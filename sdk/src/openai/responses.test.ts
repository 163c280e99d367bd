import { SpanStatusCode } from '@opentelemetry/api';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import OpenAI, { AzureOpenAI } from 'openai';
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

describe('responses', () => {
  it('create(): same result as the raw client (output_text included), a chat span with usage and content', async () => {
    const reply = { text: 'Bonjour', reasoning: 'User wants French', usage: { input_tokens: 20, output_tokens: 5, cached_tokens: 8, cache_write_tokens: 2, reasoning_tokens: 3 } };
    server.enqueue(reply, reply);
    const params = { model: 'gpt-5-mini', instructions: 'Answer in French.', input: 'Hello', max_output_tokens: 100, temperature: 0.5 };
    const expected = await raw.responses.create(params);
    const response = await client.responses.create(params);
    expect({ ...response, id: 'x', output: response.output.map((o) => ({ ...o, id: 'x' })) }).toEqual({
      ...expected,
      id: 'x',
      output: expected.output.map((o) => ({ ...o, id: 'x' })),
    });
    expect(response.output_text).toBe('Bonjour');

    const span = capture.only();
    expect(span.name).toBe('chat gpt-5-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.max_tokens': 100,
      'gen_ai.request.temperature': 0.5,
      'gen_ai.response.id': response.id,
      'gen_ai.usage.input_tokens': 20,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.usage.cache_read.input_tokens': 8,
      'gen_ai.usage.cache_creation.input_tokens': 2,
      'gen_ai.usage.reasoning.output_tokens': 3,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(jsonAttribute(span, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'Answer in French.' }]);
    expect(jsonAttribute(span, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hello' }] }]);
    expect(jsonAttribute(span, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'User wants French' }, { type: 'text', content: 'Bonjour' }], finish_reason: 'stop' },
    ]);
  });

  it('create({ stream: true }): events pass through unchanged; usage, output and time to first chunk recorded', async () => {
    server.enqueue({ text: 'streamed answer', usage: { input_tokens: 4, output_tokens: 2 } });
    const events: string[] = [];
    let text = '';
    for await (const event of await client.responses.create({ model: 'gpt-5-mini', input: 'Hi', stream: true })) {
      events.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(text).toBe('streamed answer');
    expect(events[0]).toBe('response.created');
    expect(events.at(-1)).toBe('response.completed');
    const span = capture.only();
    expect(span.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 4, 'gen_ai.usage.output_tokens': 2 });
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeTypeOf('number');
    expect(jsonAttribute(span, 'gen_ai.output.messages')[0].parts).toEqual([{ type: 'text', content: 'streamed answer' }]);
  });

  it('records function calls of a streamed response', async () => {
    server.enqueue({ toolCalls: [{ id: 'call_3', name: 'lookup', arguments: { q: 'otel' } }] });
    const stream = client.responses.stream({ model: 'gpt-5-mini', input: 'Search', tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' }, strict: false }] });
    const final = await stream.finalResponse();
    expect(final.output[0]).toMatchObject({ type: 'function_call', name: 'lookup' });
    const span = capture.only();
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_call']);
    expect(jsonAttribute(span, 'gen_ai.tool.definitions')).toEqual([{ type: 'function', name: 'lookup', parameters: { type: 'object' }, strict: false }]);
    expect(jsonAttribute(span, 'gen_ai.output.messages')[0].parts).toEqual([{ type: 'tool_call', id: 'call_3', name: 'lookup', arguments: { q: 'otel' } }]);
  });

  it('parse(): structured output parsed, json output type recorded', async () => {
    server.enqueue({ text: '{"answer":42}' });
    const response = await client.responses.parse({
      model: 'gpt-5-mini',
      input: 'Answer',
      text: { format: { type: 'json_schema', name: 'a', strict: true, schema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false } } },
    });
    expect(response.output_parsed).toEqual({ answer: 42 });
    expect(capture.only().attributes['gen_ai.output.type']).toBe('json');
  });

  it('an error event mid-stream reaches the caller and marks the span', async () => {
    server.enqueue({ text: 'abcdef', streamErrorAfterEvents: 3, streamError: { message: 'overloaded', type: 'server_error', code: 'server_error' } });
    const stream = await client.responses.create({ model: 'gpt-5-mini', input: 'Hi', stream: true });
    await expect((async () => { for await (const _ of stream); })()).rejects.toThrow(/overloaded/);
    expect(capture.only().status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('embeddings', () => {
  it('decodes base64 exactly like the raw client and records an embeddings span', async () => {
    const vectors = [[0.25, -0.5, 1.5, 3]];
    server.enqueue({ embeddings: vectors, usage: { input_tokens: 3 } }, { embeddings: vectors, usage: { input_tokens: 3 } });
    const expected = await raw.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(server.lastRequest().body.encoding_format).toBe('base64');
    expect(result).toEqual(expected);
    expect(result.data[0]!.embedding).toEqual([0.25, -0.5, 1.5, 3]);
    const span = capture.only();
    expect(span.name).toBe('embeddings text-embedding-3-small');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.request.model': 'text-embedding-3-small',
      'gen_ai.usage.input_tokens': 3,
      'gen_ai.embeddings.dimension.count': 4,
    });
    expect(span.attributes['gen_ai.input.messages']).toBeUndefined();
  });

  it('records the encoding format the caller asked for', async () => {
    await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float', dimensions: 8 });
    expect(capture.only().attributes).toMatchObject({ 'gen_ai.request.encoding_formats': ['float'], 'gen_ai.embeddings.dimension.count': 8 });
  });
});

describe('Azure', () => {
  it('wraps AzureOpenAI and names the provider azure.ai.openai', async () => {
    const azure = wrap(new AzureOpenAI({ endpoint: server.origin, apiKey: 'k', apiVersion: '2025-04-01-preview', deployment: 'my-gpt', maxRetries: 0 }), {
      tracerProvider: capture.tracerProvider,
    });
    const completion = await azure.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(completion.choices[0]!.message.content).toBe('Echo: x');
    expect(server.lastRequest().path).toBe('/openai/deployments/my-gpt/chat/completions');
    expect(capture.only().attributes['gen_ai.provider.name']).toBe('azure.ai.openai');
  });
});
