// The OpenTelemetry GenAI semantic conventions: v1.41 names first, then the renamed and older names still
// emitted in the wild (`gen_ai.system`, `gen_ai.usage.prompt_tokens`, the cache-token spellings), and the
// older ways of carrying messages (JSON `gen_ai.prompt`, flattened `gen_ai.prompt.N.*`, span events).
import type { Attributes } from '../../otlp/decode.ts';
import type { GenAIFields } from '../genai.ts';
import { indexedMessages } from './indexed-prompts.ts';
import { eventMessages, type SpanEvent } from './semconv-events.ts';
import { chatMessageList, completionList, messageFields, splitSystem, type ChatMessage } from './messages.ts';
import { firstNum, jsonText, str, strings } from './values.ts';

/** Reads nothing more than four lookups on spans that carry no GenAI identity (most spans of an app). */
export function fromSemconv(a: Attributes, events: readonly SpanEvent[]): Partial<GenAIFields> {
  const operation = str(a['gen_ai.operation.name']);
  const provider = str(a['gen_ai.provider.name']) || str(a['gen_ai.system']);
  const requestModel = str(a['gen_ai.request.model']);
  const responseModel = str(a['gen_ai.response.model']);
  if (!operation && !provider && !requestModel && !responseModel) return {};
  const fields: Partial<GenAIFields> = {
    operation,
    provider,
    requestModel,
    responseModel,
    inputTokens: firstNum(a['gen_ai.usage.input_tokens'], a['gen_ai.usage.prompt_tokens']),
    outputTokens: firstNum(a['gen_ai.usage.output_tokens'], a['gen_ai.usage.completion_tokens']),
    cacheReadTokens: firstNum(a['gen_ai.usage.cache_read.input_tokens'], a['gen_ai.usage.cache_read_input_tokens']),
    cacheWriteTokens: firstNum(
      a['gen_ai.usage.cache_creation.input_tokens'],
      a['gen_ai.usage.cache_write.input_tokens'],
      a['gen_ai.usage.cache_creation_input_tokens'],
    ),
    reasoningTokens: firstNum(a['gen_ai.usage.reasoning.output_tokens'], a['gen_ai.usage.reasoning_tokens']),
    finishReasons: strings(a['gen_ai.response.finish_reasons']),
    inputMessages: jsonText(a['gen_ai.input.messages']),
    outputMessages: jsonText(a['gen_ai.output.messages']),
    systemInstructions: jsonText(a['gen_ai.system_instructions']),
    toolDefinitions: jsonText(a['gen_ai.tool.definitions']),
  };
  const firstChunkSeconds = a['gen_ai.response.time_to_first_chunk'];
  if (typeof firstChunkSeconds === 'number') fields.ttftMs = firstChunkSeconds * 1000;
  if (!fields.inputMessages && !fields.outputMessages) Object.assign(fields, olderMessages(a, events, fields));
  return fields;
}

/** Messages in the shapes that came before `gen_ai.input.messages` / `gen_ai.output.messages`. */
function olderMessages(a: Attributes, events: readonly SpanEvent[], fields: Partial<GenAIFields>): Partial<GenAIFields> {
  let input: ChatMessage[] = [];
  let output: ChatMessage[] = [];
  const reasons: string[] = [];
  const prompt = a['gen_ai.prompt'];
  if (prompt !== undefined) {
    input = chatMessageList(prompt);
    output = completionList(a['gen_ai.completion'], reasons);
  } else if (a['gen_ai.prompt.0.role'] !== undefined || a['gen_ai.prompt.0.content'] !== undefined || a['gen_ai.completion.0.role'] !== undefined || a['gen_ai.completion.0.content'] !== undefined) {
    input = indexedMessages(a, 'gen_ai.prompt').messages;
    const completions = indexedMessages(a, 'gen_ai.completion');
    output = completions.messages;
    reasons.push(...completions.finishReasons);
  } else if (events.length > 0) {
    const fromEvents = eventMessages(events);
    input = fromEvents.input;
    output = fromEvents.output;
    reasons.push(...fromEvents.finishReasons);
  }
  if (!input.length && !output.length) return {};
  const { system, messages } = splitSystem(input);
  const out: Partial<GenAIFields> = messageFields({ input: messages, output, system: fields.systemInstructions ? [] : system });
  if (!fields.finishReasons?.length && reasons.length) out.finishReasons = reasons;
  return out;
}

