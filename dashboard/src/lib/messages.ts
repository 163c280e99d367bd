import type { ChatMessage, MessagePart } from '#lib/api-types.ts';

/**
 * A model's answer as the text a test case expects: the text parts of the output; an answer that
 * only calls tools is those calls as JSON, since that is what the model "said".
 */
export function outputText(messages: ChatMessage[] | null | undefined): string {
  const parts = (messages ?? []).flatMap((m) => m.parts);
  const text = parts.filter((p): p is Extract<MessagePart, { type: 'text' }> => p.type === 'text' && typeof p.content === 'string');
  if (text.length > 0) return text.map((p) => p.content).join('\n');
  const calls = parts.filter((p): p is Extract<MessagePart, { type: 'tool_call' }> => p.type === 'tool_call');
  return calls.length > 0 ? JSON.stringify(calls.map((p) => ({ name: p.name, arguments: p.arguments })), null, 2) : '';
}
