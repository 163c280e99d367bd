// Messages recorded as span events, by the GenAI conventions before they had message attributes:
// 1.2x's per-message events (`gen_ai.system.message`, `gen_ai.user.message`, `gen_ai.assistant.message`,
// `gen_ai.tool.message`, `gen_ai.choice`) and the earlier `gen_ai.content.prompt`/`.completion` events.
import type { Attributes, AttributeValue, OtlpSpan } from '../../otlp/decode.ts';
import { chatMessageList, chatMessages, completionList, finishReason, type ChatMessage } from './messages.ts';
import { isRecord, parseJson, str } from './values.ts';

export type SpanEvent = Pick<OtlpSpan['events'][number], 'name' | 'attributes'>;

const MESSAGE_ROLES: Record<string, string> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

export function eventMessages(events: readonly SpanEvent[]): { input: ChatMessage[]; output: ChatMessage[]; finishReasons: string[] } {
  const input: ChatMessage[] = [];
  const output: ChatMessage[] = [];
  const finishReasons: string[] = [];
  for (const event of events) {
    const role = MESSAGE_ROLES[event.name];
    if (role) {
      input.push(...chatMessages({ ...eventBody(event.attributes), role }));
    } else if (event.name === 'gen_ai.choice') {
      const body = eventBody(event.attributes);
      const message = isRecord(parseJson(body.message)) ? (parseJson(body.message) as Record<string, unknown>) : body;
      const messages = chatMessages({ ...message, role: str(message.role as AttributeValue) || 'assistant' });
      const reason = str(body.finish_reason as AttributeValue);
      if (reason) {
        finishReasons.push(reason);
        const last = messages[messages.length - 1];
        if (last) last.finish_reason = finishReason(reason);
      }
      output.push(...messages);
    } else if (event.name === 'gen_ai.content.prompt') {
      input.push(...chatMessageList(event.attributes['gen_ai.prompt']));
    } else if (event.name === 'gen_ai.content.completion') {
      output.push(...completionList(event.attributes['gen_ai.completion'], finishReasons));
    }
  }
  return { input, output, finishReasons };
}

/**
 * An event's body: its attributes, with JSON-text values parsed; some SDKs (Azure AI Inference,
 * Semantic Kernel) put the whole body in one `gen_ai.event.content` JSON attribute instead.
 */
function eventBody(attributes: Attributes): Record<string, unknown> {
  const packed = parseJson(attributes['gen_ai.event.content']);
  const body: Record<string, unknown> = isRecord(packed) ? { ...packed } : { ...attributes };
  if (typeof body.tool_calls === 'string') body.tool_calls = parseJson(body.tool_calls);
  return body;
}
