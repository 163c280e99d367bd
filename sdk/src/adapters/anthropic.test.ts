import Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParams } from '@anthropic-ai/sdk/resources/messages';
import { startAnthropicServer, validateMessagesRequest } from '@parallax/testing';
import { describe, expect, it } from 'vitest';
import { finishReason, fromGenAI, outputToGenAI, toGenAI } from './anthropic.ts';
import type { ChatMessage } from './messages.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

// A conversation that uses every kind of block a recorded Claude call can hold.
const claudeRequest: MessageCreateParams = {
  model: 'claude-sonnet-4-6',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.', cache_control: { type: 'ephemeral' } }],
  tools: [weatherTool, { type: 'web_search_20250305', name: 'web_search', max_uses: 2 }],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture, and the weather in Paris and Lyon?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        { type: 'document', source: { type: 'url', url: 'https://example.com/report.pdf' } },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Two cities: call the tool twice.', signature: 'EqQBsig' },
        { type: 'redacted_thinking', data: 'opaque==' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Lyon' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C, sunny' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'unavailable' }], is_error: true },
        { type: 'text', text: 'And tomorrow?' },
      ],
    },
  ],
};

describe('anthropic adapter: Claude → GenAI', () => {
  it('maps system, media, thinking, tool calls and tool results to the conventions\' parts', () => {
    const genai = toGenAI(claudeRequest);
    expect(genai.systemInstructions).toEqual([
      { type: 'text', content: 'You are terse.' },
      { type: 'text', content: 'Answer in French.' },
    ]);
    expect(genai.toolDefinitions).toEqual([
      { type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: weatherTool.input_schema },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 2 },
    ]);
    expect(genai.inputMessages).toEqual([
      {
        role: 'user',
        parts: [
          { type: 'text', content: 'What is in this picture, and the weather in Paris and Lyon?' },
          { type: 'blob', modality: 'image', mime_type: 'image/png', content: PNG },
          { type: 'uri', modality: 'image', mime_type: null, uri: 'https://example.com/cat.jpg' },
          { type: 'uri', modality: 'document', mime_type: 'application/pdf', uri: 'https://example.com/report.pdf' },
        ],
      },
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Two cities: call the tool twice.', signature: 'EqQBsig' },
          { type: 'redacted_thinking', data: 'opaque==' },
          { type: 'text', content: 'Checking.' },
          { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } },
          { type: 'tool_call', id: 'toolu_2', name: 'get_weather', arguments: { city: 'Lyon' } },
        ],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'toolu_1', response: '18°C, sunny' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'toolu_2', response: 'unavailable', is_error: true }] },
      { role: 'user', parts: [{ type: 'text', content: 'And tomorrow?' }] },
    ]);
  });

  it('maps a response, its finish reason and a string system prompt', () => {
    const message = {
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 's' },
        { type: 'text', text: 'Il fait beau.', citations: null },
        { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Nice' }, caller: { type: 'direct' } },
      ],
      stop_reason: 'tool_use',
    } as unknown as Message;
    expect(outputToGenAI(message)).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'hmm', signature: 's' },
          { type: 'text', content: 'Il fait beau.' },
          { type: 'tool_call', id: 'toolu_9', name: 'get_weather', arguments: { city: 'Nice' } },
        ],
        finish_reason: 'tool_call',
      },
    ]);
    expect(['end_turn', 'stop_sequence', 'max_tokens', 'refusal', 'pause_turn'].map(finishReason)).toEqual(['stop', 'stop', 'length', 'content_filter', 'pause_turn']);
    expect(toGenAI({ system: 'Be kind', messages: [{ role: 'user', content: 'hi' }] })).toEqual({
      systemInstructions: [{ type: 'text', content: 'Be kind' }],
      inputMessages: [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }],
      toolDefinitions: [],
    });
  });
});

describe('anthropic adapter: GenAI → Claude', () => {
  it('round-trips a Claude conversation without changing its meaning', () => {
    const genai = toGenAI(claudeRequest);
    const replay = fromGenAI({ ...genai, model: 'claude-sonnet-4-6', params: { maxTokens: 1024 } });
    // The tool results and the follow-up question are one user turn again, results first.
    expect(replay.messages).toHaveLength(3);
    expect(replay.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C, sunny' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: 'unavailable', is_error: true },
        { type: 'text', text: 'And tomorrow?' },
      ],
    });
    expect(replay.messages[1]!.content).toContainEqual({ type: 'thinking', thinking: 'Two cities: call the tool twice.', signature: 'EqQBsig' });
    expect(replay.messages[1]!.content).toContainEqual({ type: 'redacted_thinking', data: 'opaque==' });
    expect(replay.tools).toEqual([
      { name: 'get_weather', description: 'Current weather for a city', input_schema: weatherTool.input_schema },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 2 },
    ]);
    expect(toGenAI(replay)).toEqual(genai);
    expect(validateMessagesRequest(replay)).toBeUndefined();
  });

  // What a recorded OpenAI chat-completions call looks like once converted to GenAI messages.
  const fromOpenAI: ChatMessage[] = [
    { role: 'system', parts: [{ type: 'text', content: 'You plan trips.' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris and Rome?' }, { type: 'uri', modality: 'image', uri: `data:image/png;base64,${PNG}` }] },
    {
      role: 'assistant',
      parts: [
        { type: 'reasoning', content: 'OpenAI reasoning summary' },
        { type: 'tool_call', id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'tool_call', id: 'call_b', name: 'get_weather', arguments: { city: 'Rome' } },
      ],
    },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_a', response: '{"temp":18}' }] },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_b', response: { temp: 24 } }] },
    { role: 'assistant', parts: [{ type: 'text', content: 'Paris 18, Rome 24.' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Thanks!' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Which is warmer?' }] },
  ];

  it('turns an OpenAI-shaped conversation into a request the Messages API accepts', async () => {
    const request = fromGenAI({
      inputMessages: fromOpenAI,
      toolDefinitions: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      model: 'claude-haiku-4-5',
      params: { maxTokens: 300, outputType: 'json', jsonSchema: { type: 'object', properties: { city: { type: 'string' } } } },
    });
    expect(request.system).toEqual([{ type: 'text', text: 'You plan trips.' }]);
    expect(request.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(request.messages[0]!.content).toContainEqual({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } });
    // Another provider's reasoning cannot be signed, so it is left out; arguments become objects.
    expect(request.messages[1]!.content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_b', name: 'get_weather', input: { city: 'Rome' } },
    ]);
    expect(request.messages[2]!.content).toEqual([
      { type: 'tool_result', tool_use_id: 'call_a', content: '{"temp":18}' },
      { type: 'tool_result', tool_use_id: 'call_b', content: '{"temp":24}' },
    ]);
    expect(request.messages[4]!.content).toEqual([
      { type: 'text', text: 'Thanks!' },
      { type: 'text', text: 'Which is warmer?' },
    ]);
    expect(request.output_config).toEqual({ format: { type: 'json_schema', schema: { type: 'object', properties: { city: { type: 'string' } } } } });
    expect(validateMessagesRequest(request)).toBeUndefined();

    // The official SDK sends it and the stand-in, which applies the API's rules, accepts it.
    const server = await startAnthropicServer();
    try {
      const client = new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
      const reply = await client.messages.create(request);
      expect(reply.content[0]).toMatchObject({ type: 'text' });
    } finally {
      await server.close();
    }
  });

  it('pairs tool calls and results that carry no ids, by order and name', () => {
    const request = fromGenAI({
      model: 'claude-haiku-4-5',
      inputMessages: [
        { role: 'user', parts: [{ type: 'text', content: 'Weather?' }] },
        { role: 'assistant', parts: [{ type: 'tool_call', name: 'get_weather', arguments: { city: 'Oslo' } }, { type: 'tool_call', name: 'get_time', arguments: {} }] },
        { role: 'tool', parts: [{ type: 'tool_call_response', name: 'get_time', response: { time: '10:00' } }, { type: 'tool_call_response', name: 'get_weather', response: { temp: 3 } }] },
      ],
    });
    const uses = request.messages[1]!.content as Array<{ id: string; name: string }>;
    const results = request.messages[2]!.content as Array<{ tool_use_id: string; content: string }>;
    expect(results.map((r) => r.tool_use_id)).toEqual([uses[1]!.id, uses[0]!.id]);
    expect(results[0]!.content).toBe('{"time":"10:00"}');
    expect(validateMessagesRequest(request)).toBeUndefined();
  });

  it('keeps a mid-conversation system message in place and drops empty text', () => {
    const request = fromGenAI({
      model: 'claude-haiku-4-5',
      inputMessages: [
        { role: 'user', parts: [{ type: 'text', content: 'Hi' }, { type: 'text', content: '' }] },
        { role: 'assistant', parts: [{ type: 'text', content: 'Hello' }] },
        { role: 'system', parts: [{ type: 'text', content: 'Now be formal.' }] },
        { role: 'user', parts: [{ type: 'text', content: 'Bye' }] },
      ],
    });
    expect(request.system).toBeUndefined();
    expect(request.max_tokens).toBe(4096);
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Hello' }] },
      { role: 'system', content: [{ type: 'text', text: 'Now be formal.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Bye' }] },
    ]);
  });
});
