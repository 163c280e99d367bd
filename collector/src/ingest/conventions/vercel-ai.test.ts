import { describe, expect, it } from 'vitest';
import { extractGenAI } from '../genai.ts';
import { ANSWER, expectedInput, expectedOutput, expectedSystem, expectedTools, readable, TOOL_SCHEMA } from './weather.fixture.ts';

// AI SDK v5 `generateText` with @ai-sdk/anthropic: the doGenerate span's attributes as generate-text.ts sets
// them (ai.prompt.messages is the provider-level LanguageModelV2Prompt; ai.prompt.tools one JSON string per
// tool; usage passed through from the provider, so inputTokens is Anthropic's cache-exclusive count and the
// cache write is only in providerMetadata), plus the gen_ai.* names it sets on provider-call spans.
const prompt = [
  { role: 'system', content: 'You are a weather bot.' },
  { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Let me check.' },
      { type: 'tool-call', toolCallId: 'toolu_1', toolName: 'get_weather', input: { city: 'Paris' } },
    ],
  },
  {
    role: 'tool',
    content: [{ type: 'tool-result', toolCallId: 'toolu_1', toolName: 'get_weather', output: { type: 'text', value: '18°C, sunny' } }],
  },
];
const telemetry = {
  'ai.model.id': 'claude-sonnet-4-5',
  'ai.model.provider': 'anthropic.messages',
  'ai.settings.maxRetries': 2,
  'ai.telemetry.functionId': 'weather',
  'ai.telemetry.metadata.userId': 'user-1',
  'ai.telemetry.metadata.sessionId': 'session-1',
  'resource.name': 'weather',
};
const doGenerate = {
  ...telemetry,
  'operation.name': 'ai.generateText.doGenerate weather',
  'ai.operationId': 'ai.generateText.doGenerate',
  'ai.prompt.messages': JSON.stringify(prompt),
  'ai.prompt.tools': [JSON.stringify({ type: 'function', name: 'get_weather', description: 'Current weather', inputSchema: TOOL_SCHEMA })],
  'ai.prompt.toolChoice': '{"type":"auto"}',
  'ai.response.finishReason': 'stop',
  'ai.response.text': ANSWER,
  'ai.response.id': 'msg_1',
  'ai.response.model': 'claude-sonnet-4-5-20250929',
  'ai.response.timestamp': '2026-01-01T00:00:00.000Z',
  'ai.response.providerMetadata': JSON.stringify({ anthropic: { cacheCreationInputTokens: 200, usage: { input_tokens: 3, cache_read_input_tokens: 1000 } } }),
  'ai.usage.inputTokens': 3,
  'ai.usage.outputTokens': 20,
  'ai.usage.totalTokens': 23,
  'ai.usage.cachedInputTokens': 1000,
  'gen_ai.system': 'anthropic.messages',
  'gen_ai.request.model': 'claude-sonnet-4-5',
  'gen_ai.response.finish_reasons': ['stop'],
  'gen_ai.response.id': 'msg_1',
  'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
  'gen_ai.usage.input_tokens': 3,
  'gen_ai.usage.output_tokens': 20,
};

describe('Vercel AI SDK', () => {
  it('reads a doGenerate span, adding Anthropic cache reads and writes to the input tokens', () => {
    expect(readable(extractGenAI(doGenerate))).toEqual({
      operation: 'chat',
      provider: 'anthropic',
      requestModel: 'claude-sonnet-4-5',
      responseModel: 'claude-sonnet-4-5-20250929',
      inputTokens: 1203,
      outputTokens: 20,
      cacheReadTokens: 1000,
      cacheWriteTokens: 200,
      reasoningTokens: 0,
      finishReasons: ['stop'],
      ttftMs: null,
      inputMessages: expectedInput('toolu_1'),
      outputMessages: expectedOutput,
      systemInstructions: expectedSystem,
      toolDefinitions: expectedTools,
      sessionId: 'session-1',
      userId: 'user-1',
    });
  });

  it('does not count the outer generateText span or tool-call spans as model calls', () => {
    const outer = { ...telemetry, 'ai.operationId': 'ai.generateText', 'ai.prompt': '{"prompt":"Weather in Paris?"}', 'ai.usage.inputTokens': 2406, 'ai.response.text': ANSWER };
    expect(extractGenAI(outer)).toBeNull();
    expect(extractGenAI({ 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'get_weather', 'ai.toolCall.args': '{"city":"Paris"}' })).toBeNull();
  });

  it('reads a v4 OpenAI doStream span: promptTokens, time to first chunk, tool calls with args', () => {
    const span = {
      'ai.operationId': 'ai.streamText.doStream',
      'ai.model.id': 'gpt-4o',
      'ai.model.provider': 'openai.chat',
      'ai.prompt.messages': JSON.stringify([{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] }]),
      'ai.response.finishReason': 'tool-calls',
      'ai.response.toolCalls': JSON.stringify([{ toolCallType: 'function', toolCallId: 'call_1', toolName: 'get_weather', args: '{"city":"Paris"}' }]),
      'ai.response.msToFirstChunk': 412.5,
      'ai.response.providerMetadata': JSON.stringify({ openai: { cachedPromptTokens: 1024, reasoningTokens: 0 } }),
      'ai.usage.promptTokens': 1200,
      'ai.usage.completionTokens': 20,
      'gen_ai.system': 'openai.chat',
    };
    const fields = readable(extractGenAI(span));
    expect(fields).toMatchObject({ provider: 'openai', inputTokens: 1200, cacheReadTokens: 1024, outputTokens: 20, ttftMs: 412.5, finishReasons: ['tool-calls'] });
    expect(fields?.outputMessages).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_call' },
    ]);
  });

  it('takes v6 input tokens as cache-inclusive', () => {
    const span = {
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.model.id': 'claude-sonnet-4-5',
      'ai.model.provider': 'anthropic.messages',
      'ai.usage.inputTokens': 1203,
      'ai.usage.outputTokens': 20,
      'ai.usage.inputTokenDetails.noCacheTokens': 3,
      'ai.usage.inputTokenDetails.cacheReadTokens': 1000,
      'ai.usage.inputTokenDetails.cacheWriteTokens': 200,
      'ai.usage.outputTokenDetails.reasoningTokens': 7,
    };
    expect(extractGenAI(span)).toMatchObject({ inputTokens: 1203, cacheReadTokens: 1000, cacheWriteTokens: 200, reasoningTokens: 7 });
  });

  it('maps provider ids to the conventions names and reads embeddings', () => {
    const embed = { 'ai.operationId': 'ai.embed.doEmbed', 'ai.model.id': 'text-embedding-004', 'ai.model.provider': 'google.generative-ai', 'ai.usage.tokens': 6 };
    expect(extractGenAI(embed)).toMatchObject({ operation: 'embeddings', provider: 'gcp.gemini', inputTokens: 6 });
    const vertex = { 'ai.operationId': 'ai.generateText.doGenerate', 'ai.model.id': 'gemini-2.5-flash', 'ai.model.provider': 'google.vertex.chat' };
    expect(extractGenAI(vertex)?.provider).toBe('gcp.vertex_ai');
  });
});
