import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import OpenAI, { APIConnectionError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
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

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('chat.completions.create', () => {
  it('returns exactly what the raw client returns and records a GenAI chat span', async () => {
    const params = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system' as const, content: 'Be brief.' },
        { role: 'user' as const, content: 'Hello' },
      ],
      temperature: 0.3,
      max_tokens: 50,
      top_p: 0.9,
      frequency_penalty: 0.1,
      presence_penalty: 0.2,
      stop: ['\n\n'],
      seed: 7,
    };
    server.enqueue({ text: 'Hi there', usage: { input_tokens: 12, output_tokens: 3, cached_tokens: 4, reasoning_tokens: 1 } });
    server.enqueue({ text: 'Hi there', usage: { input_tokens: 12, output_tokens: 3, cached_tokens: 4, reasoning_tokens: 1 } });
    const expected = await raw.chat.completions.create(params);
    const completion = await client.chat.completions.create(params);
    expect({ ...completion, id: 'x' }).toEqual({ ...expected, id: 'x' });
    expect(server.lastRequest().body).toEqual(params);

    const span = capture.only();
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai_compatible',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.frequency_penalty': 0.1,
      'gen_ai.request.presence_penalty': 0.2,
      'gen_ai.request.stop_sequences': ['\n\n'],
      'gen_ai.request.seed': 7,
      'gen_ai.response.id': completion.id,
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.usage.cache_read.input_tokens': 4,
      'gen_ai.usage.reasoning.output_tokens': 1,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(server.url).port),
    });
    expect(jsonAttribute(span, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(jsonAttribute(span, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hello' }] }]);
    expect(jsonAttribute(span, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Hi there' }], finish_reason: 'stop' },
    ]);
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
  });

  it('records every choice when n > 1, and json_object as json output', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Two options' }],
      n: 2,
      response_format: { type: 'json_object' },
    });
    expect(completion.choices).toHaveLength(2);
    const span = capture.only();
    expect(span.attributes).toMatchObject({
      'gen_ai.request.choice.count': 2,
      'gen_ai.output.type': 'json',
      'gen_ai.response.finish_reasons': ['stop', 'stop'],
    });
    expect(jsonAttribute(span, 'gen_ai.output.messages')).toHaveLength(2);
  });

  it('records tool definitions, tool calls and tool results', async () => {
    server.enqueue({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] });
    const first = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weatherTool],
    });
    expect(first.choices[0]!.message.tool_calls![0]).toMatchObject({ id: 'call_1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        first.choices[0]!.message,
        { role: 'tool', tool_call_id: 'call_1', content: '21C' },
      ],
      tools: [weatherTool],
    });
    const [callSpan, answerSpan] = capture.spans();
    expect(jsonAttribute(callSpan!, 'gen_ai.tool.definitions')).toEqual([
      { type: 'function', name: 'get_weather', description: 'Weather', parameters: weatherTool.function.parameters },
    ]);
    expect(callSpan!.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    expect(jsonAttribute(callSpan!, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_call' },
    ]);
    expect(jsonAttribute(answerSpan!, 'gen_ai.input.messages').slice(1)).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: '21C' }] },
    ]);
  });

  it('traces each round of runTools() as its own chat span', async () => {
    server.enqueue({ toolCalls: [{ id: 'call_r', name: 'get_weather', arguments: { city: 'Rome' } }] }, { text: 'Sunny in Rome.' });
    const runner = client.chat.completions.runTools({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Rome?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
            function: (args: { city: string }) => `sunny in ${args.city}`,
            parse: JSON.parse,
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe('Sunny in Rome.');
    const [first, second] = capture.spans();
    expect(capture.spans()).toHaveLength(2);
    expect(first!.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    expect(jsonAttribute(second!, 'gen_ai.input.messages').at(-1)).toEqual({
      role: 'tool',
      parts: [{ type: 'tool_call_response', id: 'call_r', response: 'sunny in Rome' }],
    });
  });

  it('keeps the APIPromise: withResponse() and asResponse() work and the span still ends', async () => {
    const promise = client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(typeof promise.withResponse).toBe('function');
    const { data, response, request_id } = await promise.withResponse();
    expect(data.choices[0]!.message.content).toBe('Echo: x');
    expect(response.status).toBe(200);
    expect(request_id).toMatch(/^req_/);
    expect((data as { _request_id?: string })._request_id).toBe(request_id);

    const rawResponse = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'y' }] }).asResponse();
    expect(((await rawResponse.json()) as any).choices[0].message.content).toBe('Echo: y');
    expect(capture.spans()).toHaveLength(2);
  });

  it('records JSON output for response_format and parse()', async () => {
    server.enqueue({ text: '{"city":"Paris","temp":21}' });
    const parsed = await client.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather as JSON' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'weather', strict: true, schema: { type: 'object', properties: { city: { type: 'string' }, temp: { type: 'number' } }, required: ['city', 'temp'], additionalProperties: false } },
      },
    });
    expect(parsed.choices[0]!.message.parsed).toEqual({ city: 'Paris', temp: 21 });
    const span = capture.only();
    expect(span.attributes['gen_ai.output.type']).toBe('json');
    expect(jsonAttribute(span, 'gen_ai.output.messages')[0].parts[0]).toEqual({ type: 'text', content: '{"city":"Paris","temp":21}' });
  });

  it('passes HTTP errors through unchanged (same class, same object) and marks the span', async () => {
    server.enqueue({ status: 400, error: { message: 'bad model', type: 'invalid_request_error', code: 'model_not_found' } });
    const promise = client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(await promise.catch((e: unknown) => e)).toBe(error);
    expect((error as BadRequestError).code).toBe('model_not_found');
    const span = capture.only();
    expect(span.attributes['error.type']).toBe('BadRequestError');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: (error as Error).message });

    capture.reset();
    server.enqueue({ status: 429, error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' } });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(RateLimitError);
    server.enqueue({ status: 500, error: { message: 'boom', type: 'server_error' } });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(InternalServerError);
    expect(capture.spans().map((s) => s.attributes['error.type'])).toEqual(['RateLimitError', 'InternalServerError']);
  });

  it('a 200 whose body is not JSON reaches the caller as the SDK error and ends the span as an error', async () => {
    const broken = '{"id":"chatcmpl-1","choices":[{"message":';
    server.enqueue({ raw: broken }, { raw: broken });
    const rawError = await raw.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe((rawError as Error).constructor);
    expect((error as Error).message).toBe((rawError as Error).message);
    const span = capture.only();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe((error as Error).constructor.name);
  });

  it('parse() of a body that is not JSON ends the span as an error too', async () => {
    server.enqueue({ raw: 'upstream proxy said no' });
    const error = await client.chat.completions.parse({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(capture.only().status.code).toBe(SpanStatusCode.ERROR);
  });

  it('passes network errors through and marks the span', async () => {
    server.enqueue({ disconnect: true });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(APIConnectionError);
    const closed = await startOpenAIServer();
    await closed.close();
    const offline = wrap(new OpenAI({ baseURL: closed.url, apiKey: 'test', maxRetries: 0 }), { tracerProvider: capture.tracerProvider });
    await expect(offline.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(APIConnectionError);
    expect(capture.spans().map((s) => s.attributes['error.type'])).toEqual(['APIConnectionError', 'APIConnectionError']);
  });

  it('is idempotent and leaves unknown clients alone', () => {
    expect(wrap(client, { tracerProvider: capture.tracerProvider })).toBe(client);
    const other = { hello: () => 'world' };
    expect(wrap(other)).toBe(other);
  });

  it('traces clients made with withOptions()', async () => {
    await client.withOptions({ timeout: 5000 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(capture.only().name).toBe('chat gpt-4o-mini');
  });
});
