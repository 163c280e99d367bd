import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import {
  chatCompletionToGenAI,
  fromGenAI,
  chatRequestToGenAI,
  genAIToAssistantMessage,
  genAIToChatRequest,
  responseToGenAI,
  responsesRequestToGenAI,
} from './openai.ts';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

const conversation: ChatCompletionCreateParamsNonStreaming = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Weather in Paris?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
    { role: 'assistant', content: 'It is 21°C.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'And this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
        { type: 'file', file: { file_id: 'file-abc' } },
      ],
    },
  ],
  tools: [weatherTool],
};

describe('OpenAI chat → GenAI', () => {
  it('puts system text in system instructions and converts every turn to parts', () => {
    const genai = chatRequestToGenAI(conversation);
    expect(genai.systemInstructions).toEqual([{ type: 'text', content: 'You are terse.' }]);
    expect(genai.messages).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: '{"temp":21}' }] },
      { role: 'assistant', parts: [{ type: 'text', content: 'It is 21°C.' }] },
      {
        role: 'user',
        parts: [
          { type: 'text', content: 'And this?' },
          { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'iVBORw0KGgo=' },
          { type: 'uri', modality: 'image', uri: 'https://example.com/cat.jpg' },
          { type: 'blob', modality: 'audio', mime_type: 'audio/wav', content: 'UklGRg==' },
          { type: 'file', file_id: 'file-abc' },
        ],
      },
    ]);
    expect(genai.tools).toEqual([
      { type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: weatherTool.function.parameters },
    ]);
  });

  it('keeps malformed tool arguments as the raw string', () => {
    const genai = chatRequestToGenAI({
      messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }],
    });
    expect(genai.messages[0]!.parts[0]).toMatchObject({ arguments: '{"a":' });
  });

  it('round-trips a multi-turn conversation with tools back to the same OpenAI request', () => {
    const replayed = genAIToChatRequest(chatRequestToGenAI(conversation), 'gpt-4o-mini');
    expect(replayed).toEqual(conversation);
  });

  it('converts completions (text, tool calls, JSON output) with mapped finish reasons', () => {
    const completion = {
      choices: [
        { index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: '{"ok":true}', refusal: null } },
        {
          index: 1,
          finish_reason: 'tool_calls',
          logprobs: null,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
          },
        },
      ],
    } as unknown as ChatCompletion;
    const output = chatCompletionToGenAI(completion);
    expect(output).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: '{"ok":true}' }], finish_reason: 'stop' },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_9', name: 'get_weather', arguments: { city: 'Oslo' } }], finish_reason: 'tool_call' },
    ]);
    // An output message becomes the next request's assistant turn unchanged.
    expect(genAIToAssistantMessage(output[1]!)).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
    });
  });
});

describe('OpenAI Responses → GenAI', () => {
  it('maps instructions, input items, function calls and outputs', () => {
    const genai = responsesRequestToGenAI({
      instructions: 'Be brief.',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '21C' },
      ],
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: true }],
    });
    expect(genai.systemInstructions).toEqual([
      { type: 'text', content: 'Be brief.' },
      { type: 'text', content: 'Use metric units.' },
    ]);
    expect(genai.messages).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: '21C' }] },
    ]);
    expect(genai.tools).toEqual([{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: true }]);

    const output = responseToGenAI({
      status: 'completed',
      incomplete_details: null,
      output: [
        { type: 'reasoning', id: 'rs', summary: [{ type: 'summary_text', text: 'thinking' }] },
        { type: 'message', id: 'm', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] },
      ],
    } as never);
    expect(output).toEqual([
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'thinking' }, { type: 'text', content: 'Hi' }], finish_reason: 'stop' },
    ]);
  });
});

describe('fromGenAI (replay on OpenAI)', () => {
  it('replays a conversation recorded on Anthropic: tool results become tool messages, reasoning is dropped', async () => {
    const { toGenAI: anthropicToGenAI } = await import('./anthropic.ts');
    const recorded = anthropicToGenAI({
      system: 'Be terse.',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Need the tool.', signature: 'sig' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '21C' }, { type: 'text', text: 'And tomorrow?' }] },
      ],
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    const request = fromGenAI({ ...recorded, model: 'gpt-4o-mini', params: { maxTokens: 300, temperature: 0, topK: 5, outputType: 'json' } });
    expect(request).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '21C' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      max_completion_tokens: 300,
      temperature: 0,
      response_format: { type: 'json_object' },
    });
  });

  it('gives id-less tool calls (Gemini) ids their results are matched to, in order', () => {
    const request = fromGenAI({
      model: 'gpt-4o-mini',
      inputMessages: [
        { role: 'user', parts: [{ type: 'text', content: 'Compare' }] },
        {
          role: 'assistant',
          parts: [
            { type: 'tool_call', name: 'a', arguments: {} },
            { type: 'tool_call', name: 'b', arguments: {} },
          ],
        },
        { role: 'tool', parts: [{ type: 'tool_call_response', response: { ok: 'b' }, name: 'b' }, { type: 'tool_call_response', response: 'A' }] },
      ],
    });
    const assistant = request.messages[1] as { tool_calls: Array<{ id: string; function: { name: string } }> };
    const [a, b] = assistant.tool_calls;
    expect(request.messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: b!.id, content: '{"ok":"b"}' },
      { role: 'tool', tool_call_id: a!.id, content: 'A' },
    ]);
    expect(a!.id).not.toBe(b!.id);
  });
});
