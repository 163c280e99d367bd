import { describe, expect, it } from 'vitest';
import { extractGenAI, type SpanEvent } from '../genai.ts';
import { ANSWER, expectedInput, expectedOutput, expectedSystem, expectedTools, readable } from './weather.fixture.ts';

describe('GenAI conventions', () => {
  it('keeps v1.41 attributes as they are', () => {
    const input = JSON.stringify(expectedInput('call_1'));
    const span = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 1024,
      'gen_ai.usage.cache_creation.input_tokens': 100,
      'gen_ai.usage.reasoning.output_tokens': 8,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.response.time_to_first_chunk': 0.25,
      'gen_ai.input.messages': input,
      'gen_ai.output.messages': JSON.stringify(expectedOutput),
      'gen_ai.system_instructions': JSON.stringify(expectedSystem),
      'gen_ai.tool.definitions': JSON.stringify(expectedTools),
    };
    expect(extractGenAI(span)).toEqual({
      operation: 'chat',
      provider: 'openai',
      requestModel: 'gpt-4o',
      responseModel: 'gpt-4o-2024-08-06',
      inputTokens: 1200,
      outputTokens: 20,
      cacheReadTokens: 1024,
      cacheWriteTokens: 100,
      reasoningTokens: 8,
      finishReasons: ['stop'],
      ttftMs: 250,
      inputMessages: input,
      outputMessages: JSON.stringify(expectedOutput),
      systemInstructions: JSON.stringify(expectedSystem),
      toolDefinitions: JSON.stringify(expectedTools),
    });
  });

  it('keeps a time to first chunk of 0 as 0 ms, not as unknown', () => {
    const span = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' };
    expect(extractGenAI({ ...span, 'gen_ai.response.time_to_first_chunk': 0 })?.ttftMs).toBe(0);
    expect(extractGenAI(span)?.ttftMs).toBeNull();
  });

  it('reads the renamed cache-write counts', () => {
    const base = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.usage.input_tokens': 500 };
    expect(extractGenAI({ ...base, 'gen_ai.usage.cache_write.input_tokens': 300 })?.cacheWriteTokens).toBe(300);
    expect(extractGenAI({ ...base, 'gen_ai.usage.cache_creation.input_tokens': 300 })?.cacheWriteTokens).toBe(300);
  });

  it('reads 1.2x-era names and per-message span events', () => {
    // opentelemetry-instrumentation-openai-v2 era: gen_ai.system, prompt/completion token names, and one
    // span event per message, bodies as event attributes (tool_calls structured, as OTLP kvlists decode).
    const span = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.prompt_tokens': 1200,
      'gen_ai.usage.completion_tokens': 20,
      'gen_ai.response.finish_reasons': ['stop'],
    };
    const events: SpanEvent[] = [
      { name: 'gen_ai.system.message', attributes: { 'gen_ai.system': 'openai', content: 'You are a weather bot.' } },
      { name: 'gen_ai.user.message', attributes: { 'gen_ai.system': 'openai', content: 'Weather in Paris?' } },
      {
        name: 'gen_ai.assistant.message',
        attributes: {
          'gen_ai.system': 'openai',
          content: 'Let me check.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
      },
      { name: 'gen_ai.tool.message', attributes: { 'gen_ai.system': 'openai', content: '18°C, sunny', id: 'call_1' } },
      {
        name: 'gen_ai.choice',
        attributes: { 'gen_ai.system': 'openai', index: 0, finish_reason: 'stop', message: { role: 'assistant', content: ANSWER } },
      },
    ];
    expect(readable(extractGenAI(span, events))).toEqual({
      operation: 'chat',
      provider: 'openai',
      requestModel: 'gpt-4o',
      responseModel: 'gpt-4o-2024-08-06',
      inputTokens: 1200,
      outputTokens: 20,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      finishReasons: ['stop'],
      ttftMs: null,
      inputMessages: expectedInput('call_1'),
      outputMessages: expectedOutput,
      systemInstructions: expectedSystem,
      toolDefinitions: '',
    });
  });

  it('reads event bodies packed in gen_ai.event.content and the older content events', () => {
    const span = { 'gen_ai.system': 'az.ai.inference', 'gen_ai.request.model': 'gpt-4o' };
    const packed: SpanEvent[] = [
      { name: 'gen_ai.user.message', attributes: { 'gen_ai.event.content': '{"role":"user","content":"Weather in Paris?"}' } },
      { name: 'gen_ai.choice', attributes: { 'gen_ai.event.content': JSON.stringify({ finish_reason: 'stop', index: 0, message: { content: ANSWER } }) } },
    ];
    const fromPacked = readable(extractGenAI(span, packed));
    expect(fromPacked?.provider).toBe('azure.ai.inference');
    expect(fromPacked?.inputMessages).toEqual([expectedInput('x')[0]]);
    expect(fromPacked?.outputMessages).toEqual(expectedOutput);

    const older: SpanEvent[] = [
      { name: 'gen_ai.content.prompt', attributes: { 'gen_ai.prompt': '[{"role":"user","content":"Weather in Paris?"}]' } },
      { name: 'gen_ai.content.completion', attributes: { 'gen_ai.completion': JSON.stringify([{ role: 'assistant', content: ANSWER, finish_reason: 'stop' }]) } },
    ];
    expect(readable(extractGenAI(span, older))?.outputMessages).toEqual(expectedOutput);
  });

  it('does not count agent and tool spans as model calls', () => {
    const usage = { 'gen_ai.usage.input_tokens': 5000, 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' };
    expect(extractGenAI({ ...usage, 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'weather' })).toBeNull();
    expect(extractGenAI({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'get_weather' })).toBeNull();
  });

  it('returns null for spans with no GenAI identity', () => {
    expect(extractGenAI({ 'http.request.method': 'GET', 'gen_ai.usage.input_tokens': 3 }, [{ name: 'exception', attributes: {} }])).toBeNull();
  });

  it('adds cache tokens to an input count that cannot include them', () => {
    const span = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.usage.input_tokens': 3,
      'gen_ai.usage.cache_read.input_tokens': 1000,
    };
    expect(extractGenAI(span)?.inputTokens).toBe(1003);
  });
});
