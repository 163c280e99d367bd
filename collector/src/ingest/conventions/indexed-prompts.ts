// `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`: the flattened messages OpenLLMetry (Traceloop) introduced
// before the conventions had message attributes, and that other instrumentations copied.
import type { Attributes } from '../../otlp/decode.ts';
import {
  contentParts,
  dedupeToolCalls,
  finishReason,
  indexed,
  splitToolResults,
  toolCallPart,
  toolResponsePart,
  type ChatMessage,
  type MessagePart,
} from './messages.ts';
import { str } from './values.ts';

/** Messages under `prefix` (`gen_ai.prompt` or `gen_ai.completion`), with the raw finish reasons met on the way. */
export function indexedMessages(attributes: Attributes, prefix: string): { messages: ChatMessage[]; finishReasons: string[] } {
  const finishReasons: string[] = [];
  const groups = indexed(attributes, prefix, (field) => {
    const role = str(field('role'));
    const content = field('content');
    // Legacy completion-API prompts: `gen_ai.prompt.0.user` holds the prompt text.
    const legacyUser = field('user');
    const reason = str(field('finish_reason'));
    const hasCalls = field('tool_calls.0.name') !== undefined || field('tool_calls.0.id') !== undefined;
    if (!role && content === undefined && legacyUser === undefined && !reason && !hasCalls) return null;
    if (reason) finishReasons.push(reason);

    if (role === 'tool') {
      const message: ChatMessage = { role: 'tool', parts: [toolResponsePart(str(field('tool_call_id')), content ?? '')] };
      return [message];
    }
    const parts: MessagePart[] = legacyUser !== undefined ? contentParts(legacyUser) : contentParts(content);
    const refusal = str(field('refusal'));
    if (refusal) parts.push({ type: 'refusal', content: refusal });
    for (let m = 0; m < 1000; m++) {
      const name = field(`tool_calls.${m}.name`);
      const id = field(`tool_calls.${m}.id`);
      if (name === undefined && id === undefined) break;
      parts.push(toolCallPart(str(id), name, field(`tool_calls.${m}.arguments`)));
    }
    const messages = splitToolResults(role || (prefix.endsWith('completion') ? 'assistant' : 'user'), dedupeToolCalls(parts));
    const last = messages[messages.length - 1];
    if (reason && last) last.finish_reason = finishReason(reason);
    return messages;
  });
  return { messages: mergeThinking(groups.flat()), finishReasons };
}

/**
 * OpenLLMetry's Anthropic instrumentation records a thinking block as its own completion with role
 * `thinking`; in the conventions it is a reasoning part of the assistant message that follows.
 */
function mergeThinking(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some((m) => m.role === 'thinking')) return messages;
  const out: ChatMessage[] = [];
  let pending: MessagePart[] = [];
  // The Python instrumentation sets the response's finish reason on the first completion, the thinking one.
  let pendingReason: string | undefined;
  for (const message of messages) {
    if (message.role === 'thinking') {
      pending.push(...message.parts.map((p): MessagePart => (p.type === 'text' ? { type: 'reasoning', content: p.content as string } : p)));
      pendingReason ??= message.finish_reason;
      continue;
    }
    if (pending.length && message.role === 'assistant') {
      const merged: ChatMessage = { ...message, parts: [...pending, ...message.parts] };
      const reason = message.finish_reason ?? pendingReason;
      if (reason) merged.finish_reason = reason;
      out.push(merged);
      pending = [];
      pendingReason = undefined;
    } else out.push(message);
  }
  if (pending.length) out.push({ role: 'assistant', parts: pending });
  return out;
}
