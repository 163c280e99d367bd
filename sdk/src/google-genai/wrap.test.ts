import { ApiError, GoogleGenAI } from '@google/genai';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startGeminiServer, type GeminiServer } from '@parallax/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectGarbageUntil } from '../testing/spans.ts';
import { wrapGoogleGenAI } from './wrap.ts';

let server: GeminiServer;
let exporter: InMemorySpanExporter;
let tracerProvider: TracerProvider;
let ai: GoogleGenAI;

beforeEach(async () => {
  server = await startGeminiServer();
  exporter = new InMemorySpanExporter();
  tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  ai = wrapGoogleGenAI(new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: server.url } }), { tracerProvider, captureContent: true });
});
afterEach(async () => {
  await server.close();
});

function json(span: ReadableSpan, attribute: string): unknown {
  const value = span.attributes[attribute];
  expect(typeof value).toBe('string');
  return JSON.parse(value as string);
}

const weather = { functionDeclarations: [{ name: 'get_weather', description: 'Weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }] };

describe('wrapGoogleGenAI: models.generateContent', () => {
  it('records a generate_content span with usage, thoughts, cache and content', async () => {
    server.enqueue({
      parts: [{ text: 'Thinking it over', thought: true }, { text: 'Il fait beau.' }],
      usage: { promptTokenCount: 40, candidatesTokenCount: 5, thoughtsTokenCount: 7, cachedContentTokenCount: 30 },
      modelVersion: 'gemini-2.5-flash-001',
      responseId: 'resp-1',
    });
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Weather?',
      config: { systemInstruction: 'Answer in French.', temperature: 0.3, maxOutputTokens: 100, tools: [weather] },
    });
    expect(response.text).toBe('Il fait beau.');
    const [span] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span!.name).toBe('generate_content gemini-2.5-flash');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.attributes).toMatchObject({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 100,
      'server.address': '127.0.0.1',
      'gen_ai.response.id': 'resp-1',
      'gen_ai.response.model': 'gemini-2.5-flash-001',
      'gen_ai.response.finish_reasons': ['STOP'],
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.usage.reasoning.output_tokens': 7,
      'gen_ai.usage.cache_read.input_tokens': 30,
    });
    expect(json(span!, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'Answer in French.' }]);
    expect(json(span!, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Weather?' }] }]);
    expect(json(span!, 'gen_ai.tool.definitions')).toEqual([{ type: 'function', name: 'get_weather', description: 'Weather', parameters: weather.functionDeclarations[0]!.parametersJsonSchema }]);
    expect(json(span!, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'Thinking it over' }, { type: 'text', content: 'Il fait beau.' }], finish_reason: 'stop' },
    ]);
  });

  it('records function calls', async () => {
    server.enqueue({ functionCalls: [{ name: 'get_weather', args: { city: 'Oslo' }, id: 'fc-1' }] });
    const response = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'Oslo?', config: { tools: [weather] } });
    expect(response.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'Oslo' }, id: 'fc-1' }]);
    const span = exporter.getFinishedSpans()[0]!;
    expect(json(span, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'fc-1', name: 'get_weather', arguments: { city: 'Oslo' } }], finish_reason: 'tool_call' },
    ]);
  });

  it('passes 4xx and 5xx errors through unchanged and records them', async () => {
    server.enqueue({ status: 400, error: { message: 'API key not valid' } }, { status: 503, error: { message: 'The model is overloaded.' } });
    const bad = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApiError);
    expect((bad as ApiError).status).toBe(400);
    expect((bad as Error).message).toContain('API key not valid');
    const unavailable = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e: unknown) => e);
    expect((unavailable as ApiError).status).toBe(503);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    expect(spans.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR]);
    expect(spans.map((s) => s.attributes['error.type'])).toEqual(['ApiError', 'ApiError']);
  });

  it('passes a network error through and records it', async () => {
    server.enqueue({ disconnect: true });
    const error = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const span = exporter.getFinishedSpans()[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('names the provider gcp.vertex_ai for a Vertex AI client', async () => {
    const vertex = wrapGoogleGenAI(new GoogleGenAI({ vertexai: true, apiKey: 'k', httpOptions: { baseUrl: server.url } }), { tracerProvider });
    server.enqueue({ text: 'from vertex' });
    expect((await vertex.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' })).text).toBe('from vertex');
    expect(exporter.getFinishedSpans()[0]!.attributes['gen_ai.provider.name']).toBe('gcp.vertex_ai');
  });
});

describe('wrapGoogleGenAI: streams', () => {
  it('yields the same chunks and records the merged response and time to first chunk', async () => {
    server.enqueue({ text: 'Hello streaming world', piecesPerPart: 3, chunkDelayMs: 5, usage: { promptTokenCount: 4, candidatesTokenCount: 6 } });
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi' });
    const texts: string[] = [];
    for await (const chunk of stream) texts.push(chunk.text ?? '');
    expect(texts.join('')).toBe('Hello streaming world');
    expect(texts).toHaveLength(3);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 4, 'gen_ai.usage.output_tokens': 6, 'gen_ai.response.finish_reasons': ['STOP'] });
    expect(spans[0]!.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(json(spans[0]!, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hello streaming world' }], finish_reason: 'stop' }]);
  });

  it('an early break ends the span once, as cancelled', async () => {
    server.enqueue({ text: 'abcdefghij', piecesPerPart: 5, chunkDelayMs: 5 });
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi' });
    for await (const chunk of stream) {
      expect(chunk.text).toBe('ab');
      break;
    }
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes['parallax.stream.cancelled']).toBe(true);
    expect(json(spans[0]!, 'gen_ai.output.messages')).toMatchObject([{ parts: [{ type: 'text', content: 'ab' }] }]);
  });

  it('an abort signal mid-stream reaches the caller and cancels the span', async () => {
    server.enqueue({ text: 'abcdefghij', piecesPerPart: 5, stallAfterChunks: 1 });
    const controller = new AbortController();
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi', config: { abortSignal: controller.signal } });
    const error = await (async () => {
      for await (const _ of stream) controller.abort();
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes['parallax.stream.cancelled']).toBe(true);
  });

  it('a dropped connection after the first chunk fails the span once', async () => {
    server.enqueue({ text: 'abcdefghij', piecesPerPart: 5, disconnectAfterChunks: 1 });
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi' });
    const error = await (async () => {
      for await (const _ of stream) {
        // read on
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a stream that is never read ends its span as abandoned once it is garbage-collected', async () => {
    server.enqueue({ text: 'Never read', piecesPerPart: 2 });
    await (async () => {
      await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi' });
    })();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(await collectGarbageUntil(() => exporter.getFinishedSpans().length > 0)).toBe(true);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(exporter.getFinishedSpans()[0]!.attributes['parallax.stream.abandoned']).toBe(true);
  });

  it('a rejected stream request fails the span and rejects unchanged', async () => {
    server.enqueue({ status: 429, error: { message: 'Resource exhausted' } });
    const error = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi' }).catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(429);
    expect(exporter.getFinishedSpans()[0]!.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('wrapGoogleGenAI: chats and embeddings', () => {
  it('traces each chat turn with the history as input, whole and streamed', async () => {
    server.enqueue({ text: 'Hi Ana.' }, { text: 'You are Ana.', piecesPerPart: 2 });
    const chat = ai.chats.create({ model: 'gemini-2.5-flash' });
    expect((await chat.sendMessage({ message: 'I am Ana.' })).text).toBe('Hi Ana.');
    let streamed = '';
    for await (const chunk of await chat.sendMessageStream({ message: 'Who am I?' })) streamed += chunk.text ?? '';
    expect(streamed).toBe('You are Ana.');
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    expect(json(spans[1]!, 'gen_ai.input.messages')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'I am Ana.' }] },
      { role: 'assistant', parts: [{ type: 'text', content: 'Hi Ana.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Who am I?' }] },
    ]);
    expect(json(spans[1]!, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'You are Ana.' }], finish_reason: 'stop' }]);
  });

  it('records an embeddings span', async () => {
    server.enqueue({ embeddings: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]] });
    const response = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['one', 'two'] });
    expect(response.embeddings?.map((e) => e.values)).toEqual([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]);
    const span = exporter.getFinishedSpans()[0]!;
    expect(span.name).toBe('embeddings gemini-embedding-001');
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.embeddings.dimension.count': 3 });
  });
});
