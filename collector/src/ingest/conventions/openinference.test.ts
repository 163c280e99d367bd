import { describe, expect, it } from 'vitest';
import { extractGenAI } from '../genai.ts';
import { ANSWER, expectedInput, expectedOutput, expectedSystem, expectedTools, readable, TOOL_SCHEMA } from './weather.fixture.ts';

// openinference-instrumentation-openai: flattened llm.input_messages / llm.output_messages, tool calls as
// message.tool_calls.N.tool_call.*, tools as llm.tools.N.tool.json_schema (OpenAI tool format), token counts
// with prompt_details, the raw request and response in input.value / output.value.
const request = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are a weather bot.' },
    { role: 'user', content: 'Weather in Paris?' },
  ],
};
const llmSpan = {
  'openinference.span.kind': 'LLM',
  'llm.system': 'openai',
  'llm.provider': 'openai',
  'llm.model_name': 'gpt-4o-2024-08-06',
  'llm.invocation_parameters': '{"model": "gpt-4o", "temperature": 0}',
  'input.value': JSON.stringify(request),
  'input.mime_type': 'application/json',
  'output.value': JSON.stringify({ choices: [{ message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }] }),
  'output.mime_type': 'application/json',
  'llm.input_messages.0.message.role': 'system',
  'llm.input_messages.0.message.content': 'You are a weather bot.',
  'llm.input_messages.1.message.role': 'user',
  'llm.input_messages.1.message.content': 'Weather in Paris?',
  'llm.input_messages.2.message.role': 'assistant',
  'llm.input_messages.2.message.content': 'Let me check.',
  'llm.input_messages.2.message.tool_calls.0.tool_call.id': 'call_1',
  'llm.input_messages.2.message.tool_calls.0.tool_call.function.name': 'get_weather',
  'llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments': '{"city":"Paris"}',
  'llm.input_messages.3.message.role': 'tool',
  'llm.input_messages.3.message.content': '18°C, sunny',
  'llm.input_messages.3.message.tool_call_id': 'call_1',
  'llm.output_messages.0.message.role': 'assistant',
  'llm.output_messages.0.message.content': ANSWER,
  'llm.tools.0.tool.json_schema': JSON.stringify({
    type: 'function',
    function: { name: 'get_weather', description: 'Current weather', parameters: TOOL_SCHEMA },
  }),
  'llm.token_count.prompt': 1200,
  'llm.token_count.completion': 20,
  'llm.token_count.total': 1220,
  'llm.token_count.prompt_details.cache_read': 1024,
  'llm.token_count.completion_details.reasoning': 8,
  'session.id': 'session-1',
  'user.id': 'user-1',
};

describe('OpenInference', () => {
  it('reads an LLM span with tools, cache and reasoning tokens', () => {
    expect(readable(extractGenAI(llmSpan))).toEqual({
      operation: 'chat',
      provider: 'openai',
      requestModel: 'gpt-4o-2024-08-06',
      responseModel: '',
      inputTokens: 1200,
      outputTokens: 20,
      cacheReadTokens: 1024,
      cacheWriteTokens: 0,
      reasoningTokens: 8,
      finishReasons: [],
      ttftMs: null,
      inputMessages: expectedInput('call_1'),
      outputMessages: [{ role: 'assistant', parts: [{ type: 'text', content: ANSWER }] }],
      systemInstructions: expectedSystem,
      toolDefinitions: expectedTools,
      sessionId: 'session-1',
      userId: 'user-1',
    });
  });

  it('reads Anthropic cache writes, message contents with images, and Anthropic tool schemas', () => {
    const span = {
      'openinference.span.kind': 'LLM',
      'llm.provider': 'anthropic',
      'llm.system': 'anthropic',
      'llm.model_name': 'claude-sonnet-4-5',
      'llm.input_messages.0.message.role': 'user',
      'llm.input_messages.0.message.contents.0.message_content.type': 'text',
      'llm.input_messages.0.message.contents.0.message_content.text': 'What is this?',
      'llm.input_messages.0.message.contents.1.message_content.type': 'image',
      'llm.input_messages.0.message.contents.1.message_content.image.image.url': 'data:image/png;base64,iVBORw0KGgo=',
      'llm.tools.0.tool.json_schema': JSON.stringify({ name: 'get_weather', description: 'Current weather', input_schema: TOOL_SCHEMA }),
      'llm.token_count.prompt': 1203,
      'llm.token_count.completion': 20,
      'llm.token_count.prompt_details.cache_read': 1000,
      'llm.token_count.prompt_details.cache_write': 200,
    };
    const fields = readable(extractGenAI(span));
    expect(fields).toMatchObject({ provider: 'anthropic', inputTokens: 1203, cacheReadTokens: 1000, cacheWriteTokens: 200, toolDefinitions: expectedTools });
    expect(fields?.inputMessages).toEqual([
      {
        role: 'user',
        parts: [
          { type: 'text', content: 'What is this?' },
          { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'iVBORw0KGgo=' },
        ],
      },
    ]);
  });

  it('falls back to input.value / output.value when there are no structured messages', () => {
    const span = { ...pick(llmSpan, /^(openinference|llm\.(system|provider|model_name|token_count)|input\.|output\.)/) };
    const fields = readable(extractGenAI(span));
    expect(fields?.systemInstructions).toEqual(expectedSystem);
    expect(fields?.inputMessages).toEqual([expectedInput('x')[0]]);
    expect(fields?.outputMessages).toEqual(expectedOutput);
    expect(fields?.finishReasons).toEqual(['stop']);

    const text = readable(extractGenAI({ 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'input.value': 'Weather in Paris?', 'output.value': ANSWER }));
    expect(text?.inputMessages).toEqual([expectedInput('x')[0]]);
    expect(text?.outputMessages).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: ANSWER }] }]);
  });

  it('reads embeddings and ignores chains, agents, tools and retrievers', () => {
    expect(extractGenAI({ 'openinference.span.kind': 'EMBEDDING', 'embedding.model_name': 'text-embedding-3-small', 'llm.token_count.prompt': 8 })).toMatchObject({
      operation: 'embeddings',
      requestModel: 'text-embedding-3-small',
      inputTokens: 8,
    });
    for (const kind of ['CHAIN', 'AGENT', 'TOOL', 'RETRIEVER', 'RERANKER']) {
      expect(extractGenAI({ 'openinference.span.kind': kind, 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 1200 })).toBeNull();
    }
  });
});

function pick(attributes: Record<string, unknown>, keys: RegExp) {
  return Object.fromEntries(Object.entries(attributes).filter(([key]) => keys.test(key))) as typeof llmSpan;
}
