// OpenInference (Arize Phoenix): `openinference.span.kind`, `llm.*` model and token counts, flattened
// `llm.input_messages.N.message.*` / `llm.output_messages.N.message.*`, `llm.tools.N.tool.json_schema`,
// and `input.value` / `output.value` when an instrumentation records no structured messages.
import type { Attributes, AttributeValue } from '../../otlp/decode.ts';
import type { GenAIFields } from '../genai.ts';
import {
  chatMessageList,
  completionList,
  dedupeToolCalls,
  finishReason,
  indexed,
  mediaPart,
  messageFields,
  splitSystem,
  splitToolResults,
  textPart,
  toolCallPart,
  toolDefinition,
  toolResponsePart,
  type ChatMessage,
  type MessagePart,
  type ToolDefinition,
} from './messages.ts';
import { firstNum, parseJson, str } from './values.ts';

export function fromOpenInference(a: Attributes): Partial<GenAIFields> | null {
  const kind = str(a['openinference.span.kind']).toUpperCase();
  // CHAIN, AGENT, TOOL, RETRIEVER, RERANKER… wrap model calls or are app code; counting them would
  // count the calls inside them twice.
  if (kind !== 'LLM' && kind !== 'EMBEDDING') return null;

  const fields: Partial<GenAIFields> = {
    operation: kind === 'EMBEDDING' ? 'embeddings' : a['llm.prompts.0.prompt.text'] !== undefined ? 'text_completion' : 'chat',
    provider: str(a['llm.provider']) || str(a['llm.system']),
    requestModel: str(a['llm.request.model_name']) || str(a['llm.model_name']) || str(a['embedding.model_name']),
    responseModel: str(a['llm.response.model_name']),
    // OpenInference's prompt count includes cached tokens (its Anthropic instrumentations add
    // `cache_read_input_tokens` and `cache_creation_input_tokens` in, openinference#1429).
    inputTokens: firstNum(a['llm.token_count.prompt']),
    outputTokens: firstNum(a['llm.token_count.completion']),
    cacheReadTokens: firstNum(a['llm.token_count.prompt_details.cache_read'], a['llm.token_count.prompt_details.cache_input']),
    cacheWriteTokens: firstNum(a['llm.token_count.prompt_details.cache_write']),
    reasoningTokens: firstNum(a['llm.token_count.completion_details.reasoning']),
    sessionId: str(a['session.id']),
    userId: str(a['user.id']),
  };
  const reason = str(a['llm.finish_reason']);
  if (reason) fields.finishReasons = [reason];

  let input = flattenedMessages(a, 'llm.input_messages');
  let output = flattenedMessages(a, 'llm.output_messages');
  const reasons: string[] = [];
  if (!input.length && !output.length && kind === 'LLM') {
    input = valueMessages(a['input.value'], a['input.mime_type'], 'user', reasons);
    output = valueMessages(a['output.value'], a['output.mime_type'], 'assistant', reasons);
  }
  if (!fields.finishReasons && reasons.length) fields.finishReasons = reasons;
  const { system, messages } = splitSystem(input);
  const tools = indexed<ToolDefinition | undefined>(a, 'llm.tools', (field) => {
    const schema = field('tool.json_schema');
    if (schema === undefined) return null;
    return toolDefinition(schema) ?? undefined;
  }).filter((t): t is ToolDefinition => t !== undefined);
  return { ...fields, ...messageFields({ system, input: messages, output, tools }) };
}

function flattenedMessages(a: Attributes, prefix: string): ChatMessage[] {
  return indexed(a, prefix, (field) => {
    const role = str(field('message.role'));
    const content = field('message.content');
    const firstContent = field('message.contents.0.message_content.type');
    const firstCall = field('message.tool_calls.0.tool_call.function.name');
    if (!role && content === undefined && firstContent === undefined && firstCall === undefined) return null;

    if (role === 'tool' || role === 'function') {
      const message: ChatMessage = { role: 'tool', parts: [toolResponsePart(str(field('message.tool_call_id')), content ?? contentsText(field))] };
      const name = str(field('message.name'));
      if (name) message.name = name;
      return [message];
    }
    const parts: MessagePart[] = [];
    if (typeof content === 'string' && content) parts.push(textPart(content));
    for (let m = 0; m < 1000; m++) {
      const base = `message.contents.${m}.message_content.`;
      const type = str(field(`${base}type`));
      if (!type) break;
      if (type === 'image') {
        parts.push(mediaPart(str(field(`${base}image.image.url`)), 'image'));
      } else if (type === 'reasoning') {
        parts.push({ type: 'reasoning', content: str(field(`${base}text`)) });
      } else {
        parts.push(textPart(str(field(`${base}text`))));
      }
    }
    for (let m = 0; m < 1000; m++) {
      const base = `message.tool_calls.${m}.tool_call.`;
      const name = field(`${base}function.name`);
      if (name === undefined) break;
      parts.push(toolCallPart(str(field(`${base}id`)), name, field(`${base}function.arguments`)));
    }
    const messages = splitToolResults(role || (prefix.endsWith('output_messages') ? 'assistant' : 'user'), dedupeToolCalls(parts));
    const name = str(field('message.name'));
    if (name && messages.length === 1) messages[0]!.name = name;
    return messages;
  }).flat();
}

function contentsText(field: (name: string) => AttributeValue | undefined): string {
  const texts: string[] = [];
  for (let m = 0; m < 1000; m++) {
    const text = field(`message.contents.${m}.message_content.text`);
    if (text === undefined) break;
    texts.push(str(text));
  }
  return texts.join('');
}

/**
 * `input.value` / `output.value`: the raw request and response. JSON ones are read as chat requests
 * (`messages`, with Anthropic's `system`) or responses (`choices`, or Anthropic's `content`); anything
 * else is one text message.
 */
function valueMessages(value: AttributeValue | undefined, mimeType: AttributeValue | undefined, role: string, reasons: string[]): ChatMessage[] {
  if (typeof value !== 'string' || !value) return [];
  if (str(mimeType) === 'application/json') {
    const parsed = parseJson(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const body = parsed as Record<string, unknown>;
      if (Array.isArray(body.messages)) {
        const system = typeof body.system === 'string' ? [{ role: 'system', content: body.system }] : Array.isArray(body.system) ? [{ role: 'system', content: body.system }] : [];
        return chatMessageList([...system, ...body.messages]);
      }
      if (Array.isArray(body.choices)) return completionList(body.choices, reasons);
      if (Array.isArray(body.content) && role === 'assistant') {
        const reason = str(body.stop_reason as AttributeValue);
        if (reason) reasons.push(reason);
        const message = chatMessageList([{ role: 'assistant', content: body.content }]);
        if (reason && message[0]) message[0].finish_reason = finishReason(reason);
        return message;
      }
    }
  }
  return [{ role, parts: [textPart(value)] }];
}

