import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import { startGeminiServer, validateGenerateContentRequest } from '@parallax/testing';
import { describe, expect, it } from 'vitest';
import { fromGenAI as anthropicFromGenAI, toGenAI as anthropicToGenAI } from './anthropic.ts';
import {
  finishReason,
  fromGenAI,
  fromGoogleGenAIParams,
  normalizeContents,
  outputToGenAI,
  toGenAI,
  toGoogleGenAIParams,
  type GeminiRequest,
} from './google.ts';
import type { ChatMessage } from './messages.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const geminiRequest: GeminiRequest = {
  systemInstruction: { parts: [{ text: 'You are terse.' }] },
  tools: [
    {
      functionDeclarations: [
        { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } },
      ],
    },
    { googleSearch: {} },
  ],
  contents: [
    {
      role: 'user',
      parts: [
        { text: 'Weather in Paris and Lyon? Also look at this.' },
        { inlineData: { mimeType: 'image/png', data: PNG } },
        { fileData: { mimeType: 'application/pdf', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } },
      ],
    },
    {
      role: 'model',
      parts: [
        { text: 'Two cities.', thought: true, thoughtSignature: 'c2ln' },
        { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln2' },
        { functionCall: { name: 'get_weather', args: { city: 'Lyon' } } },
      ],
    },
    {
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { temp: 18 } } },
        { functionResponse: { name: 'get_weather', response: { temp: 16 } } },
      ],
    },
    { role: 'model', parts: [{ text: 'Paris 18, Lyon 16.' }] },
    { role: 'user', parts: [{ text: 'Thanks' }] },
  ],
  generationConfig: { temperature: 0.2, maxOutputTokens: 200 },
};

describe('google adapter: Gemini → GenAI', () => {
  it('maps system, media, thoughts, function calls and responses', () => {
    const genai = toGenAI(geminiRequest);
    expect(genai.systemInstructions).toEqual([{ type: 'text', content: 'You are terse.' }]);
    expect(genai.toolDefinitions).toEqual([
      { type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { type: 'googleSearch', name: 'googleSearch', config: {} },
    ]);
    expect(genai.inputMessages).toEqual([
      {
        role: 'user',
        parts: [
          { type: 'text', content: 'Weather in Paris and Lyon? Also look at this.' },
          { type: 'blob', modality: 'image', mime_type: 'image/png', content: PNG },
          { type: 'uri', modality: 'document', mime_type: 'application/pdf', uri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' },
        ],
      },
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Two cities.', thought_signature: 'c2ln' },
          { type: 'tool_call', id: null, name: 'get_weather', arguments: { city: 'Paris' }, thought_signature: 'c2ln2' },
          { type: 'tool_call', id: null, name: 'get_weather', arguments: { city: 'Lyon' } },
        ],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: null, name: 'get_weather', response: { temp: 18 } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: null, name: 'get_weather', response: { temp: 16 } }] },
      { role: 'assistant', parts: [{ type: 'text', content: 'Paris 18, Lyon 16.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Thanks' }] },
    ]);
  });

  it('maps candidates and finish reasons', () => {
    expect(
      outputToGenAI({
        candidates: [
          { content: { role: 'model', parts: [{ text: 'thinking', thought: true }, { functionCall: { name: 'f', args: { a: 1 }, id: 'fc1' } }] }, finishReason: 'STOP' },
          { content: { role: 'model', parts: [{ text: 'cut' }] }, finishReason: 'MAX_TOKENS' },
        ],
      }),
    ).toEqual([
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'thinking' }, { type: 'tool_call', id: 'fc1', name: 'f', arguments: { a: 1 } }], finish_reason: 'tool_call' },
      { role: 'assistant', parts: [{ type: 'text', content: 'cut' }], finish_reason: 'length' },
    ]);
    expect(['STOP', 'SAFETY', 'RECITATION', 'OTHER'].map((r) => finishReason(r))).toEqual(['stop', 'content_filter', 'content_filter', 'other']);
  });

  it('reads every contents shape the SDKs accept, and @google/genai config', () => {
    expect(normalizeContents('hi')).toEqual([{ role: 'user', parts: [{ text: 'hi' }] }]);
    expect(normalizeContents(['a', { text: 'b' }])).toEqual([{ role: 'user', parts: [{ text: 'a' }, { text: 'b' }] }]);
    expect(normalizeContents({ role: 'user', parts: [{ text: 'c' }] })).toEqual([{ role: 'user', parts: [{ text: 'c' }] }]);
    const request = fromGoogleGenAIParams({
      contents: 'hello',
      config: { systemInstruction: 'be brief', temperature: 0.1, maxOutputTokens: 5, tools: [{ googleSearch: {} }], abortSignal: new AbortController().signal },
    });
    expect(request).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'hello' }] }],
      systemInstruction: { parts: [{ text: 'be brief' }] },
      tools: [{ googleSearch: {} }],
      generationConfig: { temperature: 0.1, maxOutputTokens: 5 },
    });
    expect(toGoogleGenAIParams('gemini-2.5-flash', request)).toEqual({
      model: 'gemini-2.5-flash',
      contents: request.contents,
      config: { temperature: 0.1, maxOutputTokens: 5, systemInstruction: request.systemInstruction, tools: request.tools },
    });
  });
});

describe('google adapter: GenAI → Gemini', () => {
  it('round-trips a Gemini conversation without changing its meaning', () => {
    const genai = toGenAI(geminiRequest);
    const replay = fromGenAI({ ...genai, model: 'gemini-2.5-flash' });
    expect(replay.contents.map((c) => c.role)).toEqual(['user', 'model', 'user', 'model', 'user']);
    expect(replay.contents[1]!.parts).toEqual([
      { text: 'Two cities.', thought: true, thoughtSignature: 'c2ln' },
      { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln2' },
      { functionCall: { name: 'get_weather', args: { city: 'Lyon' } } },
    ]);
    expect(replay.contents[2]!.parts).toEqual(geminiRequest.contents[2]!.parts);
    expect(replay.tools).toEqual([
      { functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] },
      { googleSearch: {} },
    ]);
    expect(toGenAI(replay)).toEqual(genai);
    expect(validateGenerateContentRequest(replay)).toBeUndefined();
  });

  const fromOpenAI: ChatMessage[] = [
    { role: 'system', parts: [{ type: 'text', content: 'You plan trips.' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris and Rome?' }, { type: 'uri', modality: 'image', uri: `data:image/png;base64,${PNG}` }] },
    {
      role: 'assistant',
      parts: [
        { type: 'reasoning', content: 'OpenAI reasoning summary' },
        { type: 'tool_call', id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'tool_call', id: 'call_b', name: 'get_time', arguments: {} },
      ],
    },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_b', response: '10:00' }] },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_a', response: '{"temp":18}' }] },
    { role: 'assistant', parts: [{ type: 'text', content: 'Paris is 18.' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Thanks!' }] },
    { role: 'user', parts: [{ type: 'text', content: 'Warmer tomorrow?' }] },
  ];

  it('turns an OpenAI-shaped conversation into a request both Gemini SDKs send and the API accepts', async () => {
    const request = fromGenAI({
      inputMessages: fromOpenAI,
      toolDefinitions: [
        { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } },
        { type: 'function', name: 'get_time' },
        { type: 'code_interpreter', name: 'code_interpreter' },
      ],
      model: 'gemini-2.5-flash',
      params: { maxTokens: 300, temperature: 0.5, outputType: 'json', jsonSchema: { type: 'object' } },
    });
    expect(request.systemInstruction).toEqual({ parts: [{ text: 'You plan trips.' }] });
    expect(request.contents.map((c) => c.role)).toEqual(['user', 'model', 'user', 'model', 'user']);
    expect(request.contents[0]!.parts[1]).toEqual({ inlineData: { mimeType: 'image/png', data: PNG } });
    expect(request.contents[1]!.parts).toEqual([
      { functionCall: { id: 'call_a', name: 'get_weather', args: { city: 'Paris' } } },
      { functionCall: { id: 'call_b', name: 'get_time', args: {} } },
    ]);
    // Each response is named after the call it answers, and its value is an object.
    expect(request.contents[2]!.parts).toEqual([
      { functionResponse: { id: 'call_b', name: 'get_time', response: { output: '10:00' } } },
      { functionResponse: { id: 'call_a', name: 'get_weather', response: { temp: 18 } } },
    ]);
    expect(request.contents[4]!.parts).toEqual([{ text: 'Thanks!' }, { text: 'Warmer tomorrow?' }]);
    expect(request.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } },
          { name: 'get_time' },
        ],
      },
    ]);
    expect(request.generationConfig).toEqual({ maxOutputTokens: 300, temperature: 0.5, responseMimeType: 'application/json', responseJsonSchema: { type: 'object' } });
    expect(validateGenerateContentRequest(request)).toBeUndefined();

    const server = await startGeminiServer();
    try {
      const ai = new GoogleGenAI({ apiKey: 'test', httpOptions: { baseUrl: server.url } });
      const viaGenAI = await ai.models.generateContent(toGoogleGenAIParams(request.model, request) as Parameters<typeof ai.models.generateContent>[0]);
      expect(viaGenAI.text).toBe('Hello from the Gemini stand-in.');
      const { model, ...body } = request;
      const legacy = new GoogleGenerativeAI('test').getGenerativeModel({ model }, { baseUrl: server.url });
      const viaLegacy = await legacy.generateContent(body as unknown as Parameters<typeof legacy.generateContent>[0]);
      expect(viaLegacy.response.text()).toBe('Hello from the Gemini stand-in.');
      // What reached the API is the adapter's body in both cases.
      for (const received of server.requests) {
        expect(received.body).toMatchObject({ contents: request.contents, systemInstruction: { parts: request.systemInstruction!.parts } });
      }
    } finally {
      await server.close();
    }
  });

  it('carries a Gemini conversation over to Claude and back to Gemini', () => {
    const claude = anthropicFromGenAI({ ...toGenAI(geminiRequest), model: 'claude-haiku-4-5' });
    const uses = claude.messages[1]!.content as Array<{ type: string; id: string }>;
    const results = claude.messages[2]!.content as Array<{ tool_use_id: string }>;
    expect(uses.filter((b) => b.type === 'tool_use').map((b) => b.id)).toEqual(results.map((r) => r.tool_use_id));
    const back = fromGenAI({ ...anthropicToGenAI(claude), model: 'gemini-2.5-pro' });
    expect(validateGenerateContentRequest(back)).toBeUndefined();
    expect(back.contents[2]!.parts.map((p) => (p.functionResponse as { name: string }).name)).toEqual(['get_weather', 'get_weather']);
  });
});
