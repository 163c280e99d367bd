import { describe, expect, it } from 'vitest';
import { extractGenAI } from '../genai.ts';
import { ANSWER, expectedInput, expectedOutput, expectedSystem, expectedTools, readable, TOOL_SCHEMA } from './weather.fixture.ts';

const openaiTool = { type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: TOOL_SCHEMA } };
const chatMessages = [
  { role: 'system', content: 'You are a weather bot.' },
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: 'Let me check.',
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
  },
  { role: 'tool', tool_call_id: 'call_1', content: '18°C, sunny' },
];

describe('Logfire', () => {
  it('reads logfire.instrument_openai spans (request_data / response_data)', () => {
    const span = {
      'logfire.msg_template': 'Chat Completion with {request_data[model]!r}',
      'logfire.msg': "Chat Completion with 'gpt-4o'",
      'logfire.span_type': 'span',
      'logfire.tags': ['LLM'],
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 20,
      async: false,
      request_data: JSON.stringify({ model: 'gpt-4o', messages: chatMessages, tools: [openaiTool] }),
      response_data: JSON.stringify({
        message: { role: 'assistant', content: ANSWER, tool_calls: null },
        usage: {
          prompt_tokens: 1200,
          completion_tokens: 20,
          total_tokens: 1220,
          prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      }),
    };
    expect(readable(extractGenAI(span))).toEqual({
      operation: 'chat',
      provider: 'openai',
      requestModel: 'gpt-4o',
      responseModel: 'gpt-4o-2024-08-06',
      inputTokens: 1200,
      outputTokens: 20,
      cacheReadTokens: 1024,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      finishReasons: [],
      ttftMs: null,
      inputMessages: expectedInput('call_1'),
      outputMessages: [{ role: 'assistant', parts: [{ type: 'text', content: ANSWER }] }],
      systemInstructions: expectedSystem,
      toolDefinitions: expectedTools,
    });
  });

  it('rebuilds Anthropic input tokens from the raw usage (cache reads and writes left out upstream)', () => {
    const span = {
      'logfire.msg': "Message with 'claude-sonnet-4-5'",
      'gen_ai.system': 'anthropic',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
      'gen_ai.usage.input_tokens': 2003,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.response.finish_reasons': ['end_turn'],
      request_data: JSON.stringify({
        model: 'claude-sonnet-4-5',
        system: 'You are a weather bot.',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C, sunny' }] },
        ],
        tools: [{ name: 'get_weather', description: 'Current weather', input_schema: TOOL_SCHEMA }],
      }),
      response_data: JSON.stringify({
        message: { role: 'assistant', content: ANSWER },
        usage: { input_tokens: 2003, output_tokens: 20, cache_read_input_tokens: 1000, cache_creation_input_tokens: 200 },
      }),
    };
    expect(readable(extractGenAI(span))).toEqual({
      operation: 'chat',
      provider: 'anthropic',
      requestModel: 'claude-sonnet-4-5',
      responseModel: 'claude-sonnet-4-5-20250929',
      inputTokens: 3203,
      outputTokens: 20,
      cacheReadTokens: 1000,
      cacheWriteTokens: 200,
      reasoningTokens: 0,
      finishReasons: ['end_turn'],
      ttftMs: null,
      inputMessages: expectedInput('toolu_1'),
      outputMessages: [{ role: 'assistant', parts: [{ type: 'text', content: ANSWER }] }],
      systemInstructions: expectedSystem,
      toolDefinitions: expectedTools,
    });
  });

  it('reads Pydantic AI model request spans with messages in the events attribute', () => {
    const events = [
      { content: 'You are a weather bot.', role: 'system', 'gen_ai.system': 'openai', 'event.name': 'gen_ai.system.message' },
      { content: 'Weather in Paris?', role: 'user', 'gen_ai.system': 'openai', 'event.name': 'gen_ai.user.message' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        'gen_ai.system': 'openai',
        'event.name': 'gen_ai.assistant.message',
      },
      { content: '18°C, sunny', role: 'tool', id: 'call_1', name: 'get_weather', 'gen_ai.system': 'openai', 'event.name': 'gen_ai.tool.message' },
      { index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop', 'gen_ai.system': 'openai', 'event.name': 'gen_ai.choice' },
    ];
    const span = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'server.address': 'api.openai.com',
      'model_request_parameters': JSON.stringify({
        function_tools: [{ name: 'get_weather', description: 'Current weather', parameters_json_schema: TOOL_SCHEMA, outer_typed_dict_key: null, strict: null }],
        allow_text_output: true,
        output_tools: [],
      }),
      'logfire.span_type': 'span',
      'logfire.msg': 'chat gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 20,
      events: JSON.stringify(events),
    };
    const fields = readable(extractGenAI(span));
    expect(fields).toMatchObject({ operation: 'chat', provider: 'openai', inputTokens: 1200, outputTokens: 20, finishReasons: ['stop'] });
    expect(fields?.systemInstructions).toEqual(expectedSystem);
    const [user, assistant, tool] = expectedInput('call_1');
    expect(fields?.inputMessages).toEqual([user, assistant, { ...tool, name: 'get_weather' }]);
    expect(fields?.outputMessages).toEqual(expectedOutput);
    expect(fields?.toolDefinitions).toEqual(expectedTools);
  });

  it('does not count the agent run span, which sums its calls', () => {
    const agentRun = {
      model_name: 'gpt-4o',
      agent_name: 'weather',
      'logfire.msg': 'weather run',
      'gen_ai.usage.input_tokens': 2400,
      'gen_ai.usage.output_tokens': 40,
      all_messages_events: '[]',
    };
    expect(extractGenAI(agentRun)).toBeNull();
  });
});
