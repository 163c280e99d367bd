// Spans on the provider init() builds are finished after the caller has its result (deferred-end.ts). These tests
// hold that path to what a user relies on: the same spans as when a span ends at once, exported by flush() and
// shutdown(), timed when the call ended, recorded as the call sent and received them, and never a failure of the call.
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { startAnthropicServer, startGeminiServer, startOpenAIServer, type AnthropicServer, type GeminiServer, type OpenAIServer } from '@parallax/testing';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traced } from '../context.ts';
import { flush, init, shutdown } from '../init.ts';
import { collectGarbageUntil, RecordingExporter } from '../testing/spans.ts';
import { wrap } from '../wrap.ts';
import { createInstrumentation, startLlmSpan } from './llm-span.ts';

let openaiServer: OpenAIServer;
let anthropicServer: AnthropicServer;
let geminiServer: GeminiServer;
let exporter: RecordingExporter;
let initProvider: TracerProvider;
/** Ends spans at once: an app's own provider, which our flush() cannot reach (the behaviour before deferral). */
let eager: { tracerProvider: TracerProvider; exporter: InMemorySpanExporter };

beforeAll(async () => {
  [openaiServer, anthropicServer, geminiServer] = await Promise.all([startOpenAIServer(), startAnthropicServer(), startGeminiServer()]);
});
afterAll(async () => {
  await Promise.all([openaiServer.close(), anthropicServer.close(), geminiServer.close()]);
});
beforeEach(() => {
  exporter = new RecordingExporter();
  initProvider = init({ exporter }).tracerProvider as TracerProvider;
  const eagerExporter = new InMemorySpanExporter();
  eager = { tracerProvider: new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: eagerExporter })] }), exporter: eagerExporter };
});
afterEach(async () => {
  await shutdown();
});

const openai = (options?: Parameters<typeof wrap>[1]) => wrap(new OpenAI({ baseURL: openaiServer.url, apiKey: 'test', maxRetries: 0 }), options);
const anthropic = (options?: Parameters<typeof wrap>[1]) => wrap(new Anthropic({ apiKey: 'test', baseURL: anthropicServer.url, maxRetries: 0 }), options);
const gemini = (options?: Parameters<typeof wrap>[1]) => wrap(new GoogleGenAI({ apiKey: 'test', httpOptions: { baseUrl: geminiServer.url } }), options);

/**
 * What a span says, without what differs between two calls (ids, times): on init()'s provider the span is also
 * started after the call (deferred-start.ts), and must still come out as the span started at once.
 */
function described(span: ReadableSpan) {
  const end = hrTimeToMilliseconds(span.endTime);
  return {
    name: span.name,
    kind: span.kind,
    status: span.status,
    attributes: { ...span.attributes, 'gen_ai.response.id': 'response-id' },
    events: span.events.map((event) => ({
      name: event.name,
      type: event.attributes?.['exception.type'],
      message: event.attributes?.['exception.message'],
      atTheEnd: hrTimeToMilliseconds(event.time) === end,
    })),
    scope: span.instrumentationScope,
    links: span.links,
    dropped: [span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount],
    sampled: span.spanContext().traceFlags,
    root: span.parentSpanContext === undefined,
    timed: hrTimeToMilliseconds(span.startTime) < end && Math.abs(hrTimeToMilliseconds(span.duration) - (end - hrTimeToMilliseconds(span.startTime))) < 0.01,
  };
}

/** Runs `call` once on a client whose spans end at once and once on one whose spans are deferred; returns both spans. */
async function bothWays(call: (client: 'eager' | 'deferred') => Promise<unknown>): Promise<[ReadableSpan, ReadableSpan]> {
  await call('eager');
  await call('deferred');
  await flush();
  expect(eager.exporter.getFinishedSpans()).toHaveLength(1);
  expect(exporter.spans).toHaveLength(1);
  return [eager.exporter.getFinishedSpans()[0]!, exporter.spans[0]!];
}

function json(span: ReadableSpan, attribute: string): unknown {
  const value = span.attributes[attribute];
  expect(typeof value).toBe('string');
  return JSON.parse(value as string);
}

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('deferred span ends record the same spans', () => {
  it('chat completions, with tools, content and usage', async () => {
    const clients = { eager: openai({ tracerProvider: eager.tracerProvider }), deferred: openai() };
    const params: ChatCompletionCreateParamsNonStreaming = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
      tools: [weatherTool],
      temperature: 0.2,
      max_tokens: 50,
      stop: ['END'],
    };
    const reply = { toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], usage: { input_tokens: 12, output_tokens: 3, cached_tokens: 4 } };
    openaiServer.enqueue(reply, reply);
    const [before, after] = await bothWays((which) => clients[which].chat.completions.create(params));
    expect(described(after)).toEqual(described(before));
    expect(after.attributes).toMatchObject({ 'gen_ai.request.temperature': 0.2, 'gen_ai.request.stop_sequences': ['END'], 'gen_ai.usage.cache_read.input_tokens': 4 });
    expect(json(after, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_call' },
    ]);
  });

  it('a chat stream, with time to first chunk', async () => {
    const clients = { eager: openai({ tracerProvider: eager.tracerProvider }), deferred: openai() };
    const reply = { text: 'Streamed answer', usage: { input_tokens: 5, output_tokens: 3 } };
    openaiServer.enqueue(reply, reply);
    const [before, after] = await bothWays(async (which) => {
      for await (const _ of await clients[which].chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true }));
    });
    const withoutTiming = (span: ReadableSpan) => {
      const { attributes, ...rest } = described(span);
      const { 'gen_ai.response.time_to_first_chunk': ttfc, ...others }: Record<string, unknown> = attributes;
      expect(typeof ttfc).toBe('number');
      return { ...rest, attributes: others };
    };
    expect(withoutTiming(after)).toEqual(withoutTiming(before));
  });

  it('responses', async () => {
    const clients = { eager: openai({ tracerProvider: eager.tracerProvider }), deferred: openai() };
    const reply = { text: 'Bonjour', reasoning: 'French was asked', usage: { input_tokens: 20, output_tokens: 5, reasoning_tokens: 3 } };
    openaiServer.enqueue(reply, reply);
    const [before, after] = await bothWays((which) =>
      clients[which].responses.create({ model: 'gpt-5-mini', instructions: 'Answer in French.', input: 'Hello', max_output_tokens: 100 }),
    );
    expect(described(after)).toEqual(described(before));
    expect(json(after, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'Answer in French.' }]);
  });

  it('anthropic messages, with a tool call', async () => {
    const clients = { eager: anthropic({ tracerProvider: eager.tracerProvider }), deferred: anthropic() };
    const reply = {
      content: [{ type: 'tool_use' as const, id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 100 },
    };
    anthropicServer.enqueue(reply, reply);
    const [before, after] = await bothWays((which) =>
      clients[which].messages.create({ model: 'claude-sonnet-4-6', max_tokens: 256, system: 'Use tools.', messages: [{ role: 'user', content: 'Weather?' }] }),
    );
    expect(described(after)).toEqual(described(before));
    expect(after.attributes['gen_ai.usage.input_tokens']).toBe(110);
  });

  it('gemini generateContent', async () => {
    const clients = { eager: gemini({ tracerProvider: eager.tracerProvider }), deferred: gemini() };
    const reply = { parts: [{ text: 'Il fait beau.' }], usage: { promptTokenCount: 40, candidatesTokenCount: 5 }, modelVersion: 'gemini-2.5-flash-001' };
    geminiServer.enqueue(reply, reply);
    const [before, after] = await bothWays((which) =>
      clients[which].models.generateContent({ model: 'gemini-2.5-flash', contents: 'Weather?', config: { systemInstruction: 'Answer in French.', temperature: 0.3 } }),
    );
    expect(described(after)).toEqual(described(before));
    expect(json(after, 'gen_ai.output.messages')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Il fait beau.' }], finish_reason: 'stop' }]);
  });

  it('a failed call: error.type, the exception event and the ERROR status', async () => {
    const clients = { eager: openai({ tracerProvider: eager.tracerProvider }), deferred: openai() };
    const error = { status: 429, error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } };
    openaiServer.enqueue(error, error);
    const [before, after] = await bothWays((which) =>
      clients[which].chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).then(
        () => expect.unreachable('the call should fail'),
        (failure: unknown) => expect(failure).toBeInstanceOf(OpenAI.RateLimitError),
      ),
    );
    expect(described(after)).toEqual(described(before));
    expect(after.attributes['error.type']).toBe('RateLimitError');
  });
});

describe('deferred span starts record the same place in the trace', () => {
  it('under traced(), the parent and the trace of the span started at once', async () => {
    const clients = { eager: openai({ tracerProvider: eager.tracerProvider }), deferred: openai() };
    const handlers = await Promise.all(
      (['eager', 'deferred'] as const).map((which) =>
        traced(`handler ${which}`, async (span) => {
          await clients[which].chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
          return span.spanContext();
        }),
      ),
    );
    await flush();
    const [before, after] = [eager.exporter.getFinishedSpans()[0]!, exporter.spans.find((span) => span.name === 'chat gpt-4o-mini')!];
    expect(described(after)).toEqual(described(before));
    expect([before, after].map((span) => span.parentSpanContext?.spanId)).toEqual(handlers.map((handler) => handler.spanId));
    expect([before, after].map((span) => span.spanContext().traceId)).toEqual(handlers.map((handler) => handler.traceId));
  });
});

describe('deferred span ends reach the exporter', () => {
  it('flush() exports the span of a call that has just returned', async () => {
    await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await flush();
    expect(exporter.spans.map((span) => span.name)).toEqual(['chat gpt-4o-mini']);
  });

  it('shutdown() exports it too', async () => {
    await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await shutdown();
    expect(exporter.spans.map((span) => span.name)).toEqual(['chat gpt-4o-mini']);
  });

  it('so does flushing the provider init() returned, directly', async () => {
    await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await initProvider.forceFlush();
    expect(exporter.spans.map((span) => span.name)).toEqual(['chat gpt-4o-mini']);
  });

  it("an app's own provider gets its spans at once, so shutting it down right after a call loses nothing", async () => {
    const own = new RecordingExporter();
    const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: own })] });
    await openai({ tracerProvider }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await tracerProvider.shutdown();
    expect(own.spans.map((span) => span.name)).toEqual(['chat gpt-4o-mini']);
  });

  it('a stream collected unread is still ended, as abandoned', async () => {
    const client = openai();
    await (async () => {
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Never read' }], stream: true });
    })();
    for (let round = 0; round < 20 && exporter.spans.length === 0; round++) {
      await collectGarbageUntil(() => false, 1);
      await flush();
    }
    expect(exporter.spans).toHaveLength(1);
    expect(exporter.spans[0]!.attributes['parallax.stream.abandoned']).toBe(true);
  });
});

describe('deferred span ends record the call as it was', () => {
  it('the span ends when the call ended, not when it is finished', async () => {
    const parent = await traced('handler', async () => {
      await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
      const returned = performance.timeOrigin + performance.now();
      // The caller keeps the thread busy before the deferred step can run.
      while (performance.timeOrigin + performance.now() < returned + 30);
      return returned;
    });
    await flush();
    const llm = exporter.spans.find((span) => span.name === 'chat gpt-4o-mini')!;
    const handler = exporter.spans.find((span) => span.name === 'handler')!;
    expect(hrTimeToMilliseconds(llm.endTime)).toBeLessThanOrEqual(parent + 1);
    expect(hrTimeToMilliseconds(llm.endTime)).toBeGreaterThan(hrTimeToMilliseconds(llm.startTime));
    expect(llm.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
    expect(hrTimeToMilliseconds(llm.endTime)).toBeLessThanOrEqual(hrTimeToMilliseconds(handler.endTime));
  });

  it('a request and a response the caller changes right after the call are recorded as they were sent and received', async () => {
    openaiServer.enqueue({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], usage: { input_tokens: 12, output_tokens: 3 } });
    const tool = structuredClone(weatherTool);
    const messages: ChatCompletionCreateParamsNonStreaming['messages'] = [{ role: 'user', content: 'Weather in Paris?' }];
    const completion = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [tool] });
    // What an app does next: keep the conversation going in the same objects.
    messages.push(completion.choices[0]!.message, { role: 'tool', tool_call_id: 'call_1', content: '21C' });
    (messages[0] as { content: string }).content = 'changed';
    (tool.function.parameters.properties as Record<string, unknown>).city = { type: 'number' };
    completion.choices[0]!.message.tool_calls![0]!.type === 'function' && (completion.choices[0]!.message.tool_calls![0]!.function.arguments = '{"city":"Berlin"}');
    completion.choices[0]!.finish_reason = 'stop';
    completion.usage!.prompt_tokens = 999;
    await flush();

    const [span] = exporter.spans;
    expect(json(span!, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] }]);
    expect(json(span!, 'gen_ai.tool.definitions')).toEqual([
      { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    ]);
    expect(json(span!, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_call' },
    ]);
    expect(span!.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    expect(span!.attributes['gen_ai.usage.input_tokens']).toBe(12);
  });

  it('an object in the response the adapter keeps (a tool call’s input) is recorded as it arrived', async () => {
    anthropicServer.enqueue({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }], stop_reason: 'tool_use' });
    const message = await anthropic().messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Weather?' }] });
    ((message.content[0] as { input: Record<string, unknown> }).input).city = 'Berlin';
    await flush();
    expect(json(exporter.spans[0]!, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_call' },
    ]);
  });
});

describe('deferred span ends never fail the call', () => {
  /** Collects what would reach the process's own error handlers while `fn` runs and a turn of the event loop passes. */
  async function processErrors(fn: () => Promise<void>): Promise<unknown[]> {
    const seen: unknown[] = [];
    const record = (error: unknown) => seen.push(error);
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
    try {
      await fn();
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
    }
    return seen;
  }

  it('a redact hook that throws leaves the content out; the call and the rest of the span are unaffected', async () => {
    init({
      exporter,
      redact: () => {
        throw new Error('redaction service down');
      },
    });
    openaiServer.enqueue({ text: 'Secret answer', usage: { input_tokens: 7, output_tokens: 2 } });
    let content: string | null | undefined;
    const errors = await processErrors(async () => {
      const completion = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Secret question' }] });
      content = completion.choices[0]!.message.content;
    });
    expect(content).toBe('Secret answer');
    expect(errors).toEqual([]);
    await flush();
    const [span] = exporter.spans;
    expect(span!.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(span!.attributes['gen_ai.output.messages']).toBeUndefined();
    expect(span!.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 2 });
  });

  it('an error thrown while the span is finished is swallowed: no uncaught exception, no unhandled rejection', async () => {
    const errors = await processErrors(async () => {
      const call = startLlmSpan(createInstrumentation(), {
        operation: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini',
        content: () => ({ messages: [{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }] }),
      });
      const unserialisable = {
        toJSON() {
          throw new Error('cannot serialise');
        },
      };
      call.end({
        id: 'resp_1',
        output: () => [{ role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'f', arguments: unserialisable }], finish_reason: 'tool_call' }],
      });
    });
    expect(errors).toEqual([]);
    await flush();
    const [span] = exporter.spans;
    expect(span!.attributes['gen_ai.response.id']).toBe('resp_1');
    expect(json(span!, 'gen_ai.input.messages')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }]);
    expect(span!.attributes['gen_ai.output.messages']).toBeUndefined();
  });
});
