// Pydantic Logfire's LLM integrations (`logfire.instrument_openai/anthropic`) and Pydantic AI. Recent
// versions record the GenAI conventions (`gen_ai.input.messages`…, read by semconv.ts); older ones and
// the default "version 1" mode record the raw call instead, which this reads:
// - `request_data` / `response_data`: the provider request body and `{message, usage}` of the response;
// - `events`: a JSON list of 1.2x-convention message events (`event.name` plus body), Pydantic AI's format;
// - `model_request_parameters.function_tools`: Pydantic AI's tool definitions.
import type { Attributes, AttributeValue } from '../../otlp/decode.ts';
import type { GenAIFields } from '../genai.ts';
import { chatMessageList, chatMessages, finishReason, messageFields, splitSystem, toolDefinition, type ChatMessage, type ToolDefinition } from './messages.ts';
import { eventMessages, type SpanEvent } from './semconv-events.ts';
import { firstNum, isRecord, parseJson, str } from './values.ts';

export function fromLogfire(a: Attributes, base: Partial<GenAIFields>): Partial<GenAIFields> {
  const fields: Partial<GenAIFields> = {};
  const response = parseJson(a['response_data']);
  const usage = isRecord(response) && isRecord(response.usage) ? (response.usage as Record<string, AttributeValue>) : undefined;
  if (usage) Object.assign(fields, usageFields(usage, base));

  if (!base.inputMessages && !base.outputMessages) {
    const conversation = eventsConversation(a['events']) ?? requestConversation(a['request_data'], response);
    if (conversation) {
      const { system, messages } = splitSystem(conversation.input);
      Object.assign(fields, messageFields({ system, input: messages, output: conversation.output }));
      if (!base.finishReasons?.length && conversation.finishReasons.length) fields.finishReasons = conversation.finishReasons;
    }
  }
  if (!base.toolDefinitions) {
    const tools = toolsOf(a['model_request_parameters'], a['request_data']);
    if (tools.length) Object.assign(fields, messageFields({ tools }));
  }
  return fields;
}

/**
 * Token counts from the raw provider usage. Anthropic's `input_tokens` leaves out cache reads and writes,
 * and Logfire's Anthropic integration put that raw count in `gen_ai.usage.input_tokens` until it started
 * adding them (logfire#1812); the raw usage says which it is, so the total is rebuilt from it.
 */
function usageFields(usage: Record<string, AttributeValue>, base: Partial<GenAIFields>): Partial<GenAIFields> {
  const fields: Partial<GenAIFields> = {};
  if ('cache_read_input_tokens' in usage || 'cache_creation_input_tokens' in usage) {
    const cacheRead = firstNum(usage.cache_read_input_tokens);
    const cacheWrite = firstNum(usage.cache_creation_input_tokens);
    fields.cacheReadTokens = cacheRead;
    fields.cacheWriteTokens = cacheWrite;
    fields.inputTokens = firstNum(usage.input_tokens) + cacheRead + cacheWrite;
    if (!base.outputTokens) fields.outputTokens = firstNum(usage.output_tokens);
    return fields;
  }
  const promptDetails = usage.prompt_tokens_details ?? usage.input_tokens_details;
  const completionDetails = usage.completion_tokens_details ?? usage.output_tokens_details;
  if (!base.inputTokens) fields.inputTokens = firstNum(usage.prompt_tokens, usage.input_tokens);
  if (!base.outputTokens) fields.outputTokens = firstNum(usage.completion_tokens, usage.output_tokens);
  if (isRecord(promptDetails)) fields.cacheReadTokens = firstNum(promptDetails.cached_tokens);
  if (isRecord(completionDetails)) fields.reasoningTokens = firstNum(completionDetails.reasoning_tokens);
  return fields;
}

interface Found {
  input: ChatMessage[];
  output: ChatMessage[];
  finishReasons: string[];
}

function eventsConversation(value: AttributeValue | undefined): Found | null {
  const list = parseJson(value);
  if (!Array.isArray(list) || list.length === 0) return null;
  const events: SpanEvent[] = list.filter(isRecord).map((body) => ({ name: str(body['event.name'] as AttributeValue), attributes: body as Attributes }));
  const found = eventMessages(events);
  return found.input.length || found.output.length ? found : null;
}

/** The request body (OpenAI chat `messages`, or Anthropic `system` + `messages`) and `response_data.message`. */
function requestConversation(value: AttributeValue | undefined, response: unknown): Found | null {
  const request = parseJson(value);
  if (!isRecord(request) || !Array.isArray(request.messages)) return null;
  const system = request.system === undefined ? [] : [{ role: 'system', content: request.system }];
  const input = chatMessageList([...system, ...request.messages]);
  const output: ChatMessage[] = [];
  const finishReasons: string[] = [];
  if (isRecord(response)) {
    if (isRecord(response.message)) output.push(...chatMessages({ ...response.message, role: str(response.message.role as AttributeValue) || 'assistant' }));
    else if (typeof response.combined_chunk_content === 'string' && response.combined_chunk_content) {
      output.push({ role: 'assistant', parts: [{ type: 'text', content: response.combined_chunk_content }] });
    }
    const reason = str((response.stop_reason ?? response.finish_reason) as AttributeValue);
    if (reason) {
      finishReasons.push(reason);
      const last = output[output.length - 1];
      if (last) last.finish_reason = finishReason(reason);
    }
  }
  return { input, output, finishReasons };
}

function toolsOf(parameters: AttributeValue | undefined, request: AttributeValue | undefined): ToolDefinition[] {
  const params = parseJson(parameters);
  const tools: unknown[] = [];
  if (isRecord(params) && Array.isArray(params.function_tools)) {
    for (const tool of params.function_tools) {
      if (isRecord(tool)) tools.push({ name: tool.name, description: tool.description, parameters: tool.parameters_json_schema });
    }
  } else {
    const body = parseJson(request);
    if (isRecord(body) && Array.isArray(body.tools)) tools.push(...body.tools);
  }
  return tools.map((t) => toolDefinition(t)).filter((t): t is ToolDefinition => t !== null);
}
