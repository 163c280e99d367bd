import { describe, expect, it } from 'vitest';
import { extractGenAI } from '../genai.ts';
import { ANSWER, expectedInput, expectedOutput, expectedSystem, expectedTools, readable, TOOL_SCHEMA } from './weather.fixture.ts';

const schema = JSON.stringify(TOOL_SCHEMA);

// opentelemetry-instrumentation-openai (Python): chat_wrappers `_set_prompts` / `_set_completions`,
// `set_tools_attributes`, `_set_response_attributes` (cached tokens from prompt_tokens_details).
const openaiSpan = {
  'gen_ai.system': 'openai',
  'llm.request.type': 'chat',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'llm.is_streaming': false,
  'gen_ai.openai.api_base': 'https://api.openai.com/v1/',
  'gen_ai.prompt.0.role': 'system',
  'gen_ai.prompt.0.content': 'You are a weather bot.',
  'gen_ai.prompt.1.role': 'user',
  'gen_ai.prompt.1.content': 'Weather in Paris?',
  'gen_ai.prompt.2.role': 'assistant',
  'gen_ai.prompt.2.content': 'Let me check.',
  'gen_ai.prompt.2.tool_calls.0.id': 'call_1',
  'gen_ai.prompt.2.tool_calls.0.name': 'get_weather',
  'gen_ai.prompt.2.tool_calls.0.arguments': '{"city":"Paris"}',
  'gen_ai.prompt.3.role': 'tool',
  'gen_ai.prompt.3.content': '18°C, sunny',
  'gen_ai.prompt.3.tool_call_id': 'call_1',
  'llm.request.functions.0.name': 'get_weather',
  'llm.request.functions.0.description': 'Current weather',
  'llm.request.functions.0.parameters': schema,
  'gen_ai.completion.0.finish_reason': 'stop',
  'gen_ai.completion.0.role': 'assistant',
  'gen_ai.completion.0.content': ANSWER,
  'gen_ai.response.id': 'chatcmpl-1',
  'llm.usage.total_tokens': 1220,
  'gen_ai.usage.output_tokens': 20,
  'gen_ai.usage.input_tokens': 1200,
  'gen_ai.usage.cache_read_input_tokens': 1024,
  'traceloop.association.properties.session_id': 'session-1',
  'traceloop.association.properties.user_id': 'user-1',
};

// opentelemetry-instrumentation-anthropic (Python): span_utils `aset_input_attributes` (system as prompt 0,
// block lists JSON-dumped, tool_use blocks also as tool_calls.N), `_set_span_completions`, and
// `_set_token_usage`, which already sums cache reads and writes into input_tokens.
const anthropicPythonSpan = {
  'gen_ai.system': 'Anthropic',
  'llm.request.type': 'completion',
  'gen_ai.request.model': 'claude-sonnet-4-5',
  'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
  'gen_ai.prompt.0.content': 'You are a weather bot.',
  'gen_ai.prompt.0.role': 'system',
  'gen_ai.prompt.1.content': 'Weather in Paris?',
  'gen_ai.prompt.1.role': 'user',
  'gen_ai.prompt.2.content':
    '[{"type": "text", "text": "Let me check."}, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]',
  'gen_ai.prompt.2.role': 'assistant',
  'gen_ai.prompt.2.tool_calls.0.id': 'toolu_1',
  'gen_ai.prompt.2.tool_calls.0.name': 'get_weather',
  'gen_ai.prompt.2.tool_calls.0.arguments': '{"city": "Paris"}',
  'gen_ai.prompt.3.content': '[{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C, sunny"}]',
  'gen_ai.prompt.3.role': 'user',
  'llm.request.functions.0.name': 'get_weather',
  'llm.request.functions.0.description': 'Current weather',
  'llm.request.functions.0.input_schema': schema,
  'gen_ai.completion.0.finish_reason': 'end_turn',
  'gen_ai.completion.0.role': 'assistant',
  'gen_ai.completion.0.content': ANSWER,
  'gen_ai.usage.input_tokens': 1203,
  'gen_ai.usage.output_tokens': 20,
  'llm.usage.total_tokens': 1223,
  'gen_ai.usage.cache_read_input_tokens': 1000,
  'gen_ai.usage.cache_creation_input_tokens': 200,
};

describe('OpenLLMetry', () => {
  it('reads an OpenAI chat with tools and cached tokens', () => {
    expect(readable(extractGenAI(openaiSpan, [], 'opentelemetry.instrumentation.openai.v1'))).toEqual({
      operation: 'chat',
      provider: 'openai',
      requestModel: 'gpt-4o',
      responseModel: 'gpt-4o-2024-08-06',
      inputTokens: 1200,
      outputTokens: 20,
      cacheReadTokens: 1024,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      finishReasons: ['stop'],
      ttftMs: null,
      inputMessages: expectedInput('call_1'),
      outputMessages: expectedOutput,
      systemInstructions: expectedSystem,
      toolDefinitions: expectedTools,
      sessionId: 'session-1',
      userId: 'user-1',
    });
  });

  it('reads an Anthropic chat whose input tokens already include the cache (Python)', () => {
    expect(readable(extractGenAI(anthropicPythonSpan, [], 'opentelemetry.instrumentation.anthropic'))).toEqual({
      operation: 'chat',
      provider: 'anthropic',
      requestModel: 'claude-sonnet-4-5',
      responseModel: 'claude-sonnet-4-5-20250929',
      inputTokens: 1203,
      outputTokens: 20,
      cacheReadTokens: 1000,
      cacheWriteTokens: 200,
      reasoningTokens: 0,
      finishReasons: ['end_turn'],
      ttftMs: null,
      inputMessages: expectedInput('toolu_1'),
      outputMessages: expectedOutput,
      systemInstructions: expectedSystem,
      toolDefinitions: expectedTools,
    });
  });

  it('adds cache reads and writes to the input tokens of the JS Anthropic instrumentation', () => {
    // @traceloop/instrumentation-anthropic: prompt_tokens is Anthropic's raw usage.input_tokens, the
    // content of each message JSON.stringify-ed, the response content as one JSON block list.
    const span = {
      'gen_ai.system': 'Anthropic',
      'llm.request.type': 'chat',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.prompt.0.role': 'user',
      'gen_ai.prompt.0.content': 'Weather in Paris?',
      'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
      'llm.usage.total_tokens': 2003 + 20,
      'gen_ai.usage.completion_tokens': 20,
      'gen_ai.usage.prompt_tokens': 2003,
      'gen_ai.usage.cache_read_input_tokens': 1000,
      'gen_ai.usage.cache_creation_input_tokens': 200,
      'gen_ai.completion.0.finish_reason': 'tool_use',
      'gen_ai.completion.0.role': 'assistant',
      'gen_ai.completion.0.content': '[{"type":"thinking","thinking":"Needs the tool."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]',
    };
    const fields = readable(extractGenAI(span, [], '@traceloop/instrumentation-anthropic'));
    expect(fields).toMatchObject({ inputTokens: 3203, outputTokens: 20, cacheReadTokens: 1000, cacheWriteTokens: 200 });
    expect(fields?.outputMessages).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Needs the tool.' },
          { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it('folds a thinking completion into the assistant message, keeping its finish reason', () => {
    // Python `_set_span_completions`: thinking goes to completion 0 (role "thinking", with the finish
    // reason), the answer to completion 1.
    const span = {
      'gen_ai.system': 'Anthropic',
      'llm.request.type': 'completion',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.completion.0.finish_reason': 'end_turn',
      'gen_ai.completion.0.role': 'thinking',
      'gen_ai.completion.0.content': 'Paris is in France.',
      'gen_ai.completion.1.role': 'assistant',
      'gen_ai.completion.1.content': ANSWER,
    };
    expect(readable(extractGenAI(span, [], 'opentelemetry.instrumentation.anthropic'))?.outputMessages).toEqual([
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'Paris is in France.' }, { type: 'text', content: ANSWER }], finish_reason: 'stop' },
    ]);
  });

  it('does not count workflow, task, agent or tool spans as model calls', () => {
    for (const kind of ['workflow', 'task', 'agent', 'tool']) {
      expect(extractGenAI({ 'traceloop.span.kind': kind, 'traceloop.entity.name': 'plan', 'traceloop.entity.input': '{}' })).toBeNull();
    }
  });

  it('reads embeddings', () => {
    const span = { 'gen_ai.system': 'openai', 'llm.request.type': 'embedding', 'gen_ai.request.model': 'text-embedding-3-small', 'gen_ai.usage.input_tokens': 8 };
    expect(extractGenAI(span)).toMatchObject({ operation: 'embeddings', provider: 'openai', inputTokens: 8 });
  });
});
