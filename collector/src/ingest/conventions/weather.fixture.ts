// The conversation every convention test records, in the conventions' (v1.41) message JSON: a system
// prompt, a user question, an assistant tool call, the tool's result, and the final answer.
import type { GenAIFields } from '../genai.ts';

export const TOOL_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
export const ANSWER = 'It is 18°C and sunny in Paris.';

export const expectedSystem = [{ type: 'text', content: 'You are a weather bot.' }];
export const expectedTools = [{ type: 'function', name: 'get_weather', description: 'Current weather', parameters: TOOL_SCHEMA }];
export function expectedInput(callId: string, preamble = true) {
  return [
    { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
    {
      role: 'assistant',
      parts: [
        ...(preamble ? [{ type: 'text', content: 'Let me check.' }] : []),
        { type: 'tool_call', id: callId, name: 'get_weather', arguments: { city: 'Paris' } },
      ],
    },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: callId, response: '18°C, sunny' }] },
  ];
}
export const expectedOutput = [{ role: 'assistant', parts: [{ type: 'text', content: ANSWER }], finish_reason: 'stop' }];

/** GenAIFields with the message JSON parsed, so a failing test shows which part differs. */
export function readable(fields: GenAIFields | null) {
  if (!fields) return fields;
  const parse = (text: string) => (text ? (JSON.parse(text) as unknown) : '');
  return {
    ...fields,
    inputMessages: parse(fields.inputMessages),
    outputMessages: parse(fields.outputMessages),
    systemInstructions: parse(fields.systemInstructions),
    toolDefinitions: parse(fields.toolDefinitions),
  };
}
