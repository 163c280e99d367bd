import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { createInstrumentation, startLlmSpan } from './llm-span.ts';

function setup(options: Parameters<typeof createInstrumentation>[0] = {}) {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return { exporter, instrumentation: createInstrumentation({ tracerProvider, ...options }) };
}

describe('startLlmSpan', () => {
  it('records request, response, usage and content in the GenAI conventions', () => {
    const { exporter, instrumentation } = setup();
    const call = startLlmSpan(instrumentation, {
      operation: 'chat',
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      serverAddress: 'api.anthropic.com',
      serverPort: 443,
      maxTokens: 100,
      temperature: 0.2,
      stopSequences: ['END'],
      content: () => ({
        systemInstructions: [{ type: 'text', content: 'be brief' }],
        messages: [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }],
      }),
    });
    call.chunk();
    call.end({
      id: 'msg_1',
      model: 'claude-haiku-4-5-20251001',
      finishReasons: ['stop'],
      usage: { inputTokens: 10, outputTokens: 3, cacheReadInputTokens: 4 },
      output: () => [{ role: 'assistant', parts: [{ type: 'text', content: 'hello' }], finish_reason: 'stop' }],
    });
    call.end({ id: 'ignored' });
    call.fail(new Error('ignored'));

    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.name).toBe('chat claude-haiku-4-5');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-haiku-4-5',
      'gen_ai.request.max_tokens': 100,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.stop_sequences': ['END'],
      'server.address': 'api.anthropic.com',
      'server.port': 443,
      'gen_ai.response.id': 'msg_1',
      'gen_ai.response.model': 'claude-haiku-4-5-20251001',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.usage.cache_read.input_tokens': 4,
    });
    expect(typeof span.attributes['gen_ai.response.time_to_first_chunk']).toBe('number');
    expect(JSON.parse(span.attributes['gen_ai.system_instructions'] as string)).toEqual([{ type: 'text', content: 'be brief' }]);
    expect(JSON.parse(span.attributes['gen_ai.input.messages'] as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
    ]);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)[0].finish_reason).toBe('stop');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('fail() sets error.type and status ERROR, once', () => {
    const { exporter, instrumentation } = setup();
    const call = startLlmSpan(instrumentation, { operation: 'chat', provider: 'openai', model: 'm' });
    class RateLimitError extends Error {}
    call.fail(new RateLimitError('slow down'));
    call.end();
    const [span] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span!.attributes['error.type']).toBe('RateLimitError');
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'slow down' });
  });

  it('never throws when the content builders throw, and still ends the span', () => {
    const { exporter, instrumentation } = setup();
    const call = startLlmSpan(instrumentation, {
      operation: 'chat',
      provider: 'openai',
      content: () => {
        throw new Error('bad request shape');
      },
    });
    call.end({
      output: () => {
        throw new Error('bad response shape');
      },
    });
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('skips content when capture is off', () => {
    const { exporter, instrumentation } = setup({ captureContent: false });
    const call = startLlmSpan(instrumentation, {
      operation: 'chat',
      provider: 'openai',
      content: () => ({ messages: [{ role: 'user', parts: [{ type: 'text', content: 'secret' }] }] }),
    });
    call.end({ output: () => [{ role: 'assistant', parts: [{ type: 'text', content: 'x' }], finish_reason: 'stop' }] });
    const [span] = exporter.getFinishedSpans();
    expect(span!.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(span!.attributes['gen_ai.output.messages']).toBeUndefined();
  });
});
