import { GoogleGenerativeAI, GoogleGenerativeAIFetchError } from '@google/generative-ai';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startGeminiServer, type GeminiServer } from '@parallax/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wrapGoogleGenerativeAI } from './wrap.ts';

let server: GeminiServer;
let exporter: InMemorySpanExporter;
let genAI: GoogleGenerativeAI;

beforeEach(async () => {
  server = await startGeminiServer();
  exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  genAI = wrapGoogleGenerativeAI(new GoogleGenerativeAI('test-key'), { tracerProvider, captureContent: true });
});
afterEach(async () => {
  await server.close();
});

function model(name = 'gemini-2.5-flash', extra: Record<string, unknown> = {}) {
  return genAI.getGenerativeModel({ model: name, ...extra }, { baseUrl: server.url });
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

describe('wrapGoogleGenerativeAI: generateContent', () => {
  it('records a span with the model settings, usage and content', async () => {
    server.enqueue({ text: 'Salut !', usage: { promptTokenCount: 8, candidatesTokenCount: 3, cachedContentTokenCount: 2 }, responseId: 'r-1' });
    const result = await model('gemini-2.5-flash', { systemInstruction: 'Answer in French.', generationConfig: { temperature: 0.4, maxOutputTokens: 64 } }).generateContent('Hello');
    expect(result.response.text()).toBe('Salut !');
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.name).toBe('generate_content gemini-2.5-flash');
    expect(spans[0]!.kind).toBe(SpanKind.CLIENT);
    expect(spans[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.request.temperature': 0.4,
      'gen_ai.request.max_tokens': 64,
      'gen_ai.response.id': 'r-1',
      'gen_ai.usage.input_tokens': 8,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.usage.cache_read.input_tokens': 2,
      'gen_ai.response.finish_reasons': ['STOP'],
    });
    expect(json(spans[0]!, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'Answer in French.' }]);
    expect(json(spans[0]!, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hello' }] }]);
    expect(json(spans[0]!, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Salut !' }], finish_reason: 'stop' }]);
  });

  it('records function calls with their tool definitions', async () => {
    server.enqueue({ functionCalls: [{ name: 'get_weather', args: { city: 'Rome' } }] });
    const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather' }] }];
    const result = await model('gemini-2.5-pro', { tools }).generateContent({ contents: [{ role: 'user', parts: [{ text: 'Rome?' }] }] });
    expect(result.response.functionCalls()).toEqual([{ name: 'get_weather', args: { city: 'Rome' } }]);
    const span = exporter.getFinishedSpans()[0]!;
    expect(json(span, 'gen_ai.tool.definitions')).toEqual([{ type: 'function', name: 'get_weather', description: 'Weather' }]);
    expect(json(span, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: null, name: 'get_weather', arguments: { city: 'Rome' } }], finish_reason: 'tool_call' },
    ]);
  });

  it('passes 4xx, 5xx and network errors through unchanged and records them', async () => {
    server.enqueue({ status: 403, error: { message: 'Permission denied' } }, { status: 500, error: { message: 'Internal error' } }, { disconnect: true });
    const m = model();
    const forbidden = await m.generateContent('x').catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(GoogleGenerativeAIFetchError);
    expect((forbidden as GoogleGenerativeAIFetchError).status).toBe(403);
    const internal = await m.generateContent('x').catch((e: unknown) => e);
    expect((internal as GoogleGenerativeAIFetchError).status).toBe(500);
    const network = await m.generateContent('x').catch((e: unknown) => e);
    expect(network).toBeInstanceOf(Error);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(3);
    expect(spans.every((s) => s.status.code === SpanStatusCode.ERROR)).toBe(true);
    expect(spans[0]!.attributes['error.type']).toBe('GoogleGenerativeAIFetchError');
  });
});

describe('wrapGoogleGenerativeAI: streams', () => {
  it('keeps { stream, response } and records the aggregated response with time to first chunk', async () => {
    server.enqueue({ text: 'Streaming from Gemini', piecesPerPart: 3, chunkDelayMs: 5, usage: { promptTokenCount: 5, candidatesTokenCount: 4, thoughtsTokenCount: 2 } });
    const { stream, response } = await model().generateContentStream('Hi');
    let text = '';
    for await (const chunk of stream) text += chunk.text();
    expect(text).toBe('Streaming from Gemini');
    expect((await response).text()).toBe('Streaming from Gemini');
    const span = (await waitForSpans(1))[0]!;
    expect(span.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 6, 'gen_ai.usage.reasoning.output_tokens': 2 });
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(json(span, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Streaming from Gemini' }], finish_reason: 'stop' }]);
  });

  it('an early break still ends the span once, with the whole response the SDK went on to read', async () => {
    server.enqueue({ text: 'abcdefghij', piecesPerPart: 5 });
    const { stream, response } = await model().generateContentStream('Hi');
    for await (const _ of stream) break;
    expect((await response).text()).toBe('abcdefghij');
    const spans = await waitForSpans(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(json(spans[0]!, 'gen_ai.output.messages')).toMatchObject([{ parts: [{ type: 'text', content: 'abcdefghij' }] }]);
  });

  it('a dropped connection mid-stream fails the span and reaches the caller', async () => {
    server.enqueue({ text: 'abcdefghij', piecesPerPart: 5, disconnectAfterChunks: 1 });
    const { stream, response } = await model().generateContentStream('Hi');
    const responseError = response.catch((e: unknown) => e);
    const error = await (async () => {
      for await (const _ of stream) {
        // read on
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(await responseError).toBeInstanceOf(Error);
    const span = (await waitForSpans(1))[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('an aborted stream ends the span as cancelled', async () => {
    server.enqueue({ text: 'abcdefghij', piecesPerPart: 5, stallAfterChunks: 1 });
    const controller = new AbortController();
    const { stream, response } = await model().generateContentStream('Hi', { signal: controller.signal });
    const responseError = response.catch((e: unknown) => e);
    const iterated = (async () => {
      for await (const _ of stream) controller.abort();
    })().catch((e: unknown) => e);
    await iterated;
    expect(await responseError).toBeInstanceOf(Error);
    const span = (await waitForSpans(1))[0]!;
    expect(span.attributes['parallax.stream.cancelled']).toBe(true);
  });
});

describe('wrapGoogleGenerativeAI: chats and embeddings', () => {
  it('traces each chat turn with the history as input, whole and streamed', async () => {
    server.enqueue({ text: 'Hi Bo.' }, { text: 'You are Bo.' });
    const chat = model().startChat({ history: [{ role: 'user', parts: [{ text: 'Remember me.' }] }, { role: 'model', parts: [{ text: 'Sure.' }] }] });
    expect((await chat.sendMessage('I am Bo.')).response.text()).toBe('Hi Bo.');
    const { stream, response } = await chat.sendMessageStream('Who am I?');
    let text = '';
    for await (const chunk of stream) text += chunk.text();
    expect(text).toBe('You are Bo.');
    await response;
    const spans = await waitForSpans(2);
    expect(spans).toHaveLength(2);
    expect(json(spans[1]!, 'gen_ai.input.messages')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Remember me.' }] },
      { role: 'assistant', parts: [{ type: 'text', content: 'Sure.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'I am Bo.' }] },
      { role: 'assistant', parts: [{ type: 'text', content: 'Hi Bo.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Who am I?' }] },
    ]);
    // What the span says was sent is what the SDK sent.
    expect((server.requests[1]!.body as { contents: unknown[] }).contents).toHaveLength(5);
  });

  it('records embedContent and batchEmbedContents spans', async () => {
    server.enqueue({ embeddings: [[1, 2, 3, 4]] }, { embeddings: [[1, 2], [3, 4]] });
    const m = model('text-embedding-004');
    expect((await m.embedContent('hello')).embedding.values).toEqual([1, 2, 3, 4]);
    const batch = await m.batchEmbedContents({ requests: [{ content: { role: 'user', parts: [{ text: 'a' }] } }, { content: { role: 'user', parts: [{ text: 'b' }] } }].map((r) => ({ ...r, model: 'models/text-embedding-004' })) });
    expect(batch.embeddings.map((e) => e.values)).toEqual([[1, 2], [3, 4]]);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['embeddings text-embedding-004', 'embeddings text-embedding-004']);
    expect(spans.map((s) => s.attributes['gen_ai.embeddings.dimension.count'])).toEqual([4, 2]);
  });
});
