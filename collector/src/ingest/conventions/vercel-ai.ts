// Vercel AI SDK telemetry (`ai.*`, v3 to v6). Each `generateText`/`streamText`/`generateObject`/`embed`
// call records an outer span (`ai.generateText`) around one inner span per provider call
// (`ai.generateText.doGenerate`, `ai.streamText.doStream`, `ai.embed.doEmbed`…). Only the inner spans are
// model calls; the outer ones repeat their usage summed, so counting them would count every call twice.
import type { Attributes, AttributeValue } from '../../otlp/decode.ts';
import type { GenAIFields } from '../genai.ts';
import {
  contentParts,
  dedupeToolCalls,
  finishReason,
  messageFields,
  splitSystem,
  splitToolResults,
  textPart,
  toolCallPart,
  toolDefinition,
  type ChatMessage,
  type MessagePart,
  type ToolDefinition,
} from './messages.ts';
import { providerName } from './providers.ts';
import { firstNum, isRecord, parseJson, str } from './values.ts';

const PROVIDER_CALL = /\.do(Generate|Stream|Embed)$/;

export function fromVercelAI(a: Attributes): Partial<GenAIFields> | null {
  const operationId = str(a['ai.operationId']);
  if (!PROVIDER_CALL.test(operationId)) return null;

  const provider = providerName(str(a['ai.model.provider']));
  const metadata = providerMetadata(a['ai.response.providerMetadata']);
  const fields: Partial<GenAIFields> = {
    operation: operationId.endsWith('doEmbed') ? 'embeddings' : 'chat',
    provider,
    requestModel: str(a['ai.model.id']),
    responseModel: str(a['ai.response.model']),
    outputTokens: firstNum(a['ai.usage.outputTokens'], a['ai.usage.completionTokens']),
    cacheReadTokens: firstNum(
      a['ai.usage.inputTokenDetails.cacheReadTokens'],
      a['ai.usage.cachedInputTokens'],
      metadata.anthropic?.cacheReadInputTokens,
      metadata.openai?.cachedPromptTokens,
      usageOf(metadata.google)?.cachedContentTokenCount,
      usageOf(metadata.bedrock)?.cacheReadInputTokens,
    ),
    cacheWriteTokens: firstNum(
      a['ai.usage.inputTokenDetails.cacheWriteTokens'],
      metadata.anthropic?.cacheCreationInputTokens,
      usageOf(metadata.bedrock)?.cacheWriteInputTokens,
    ),
    reasoningTokens: firstNum(
      a['ai.usage.outputTokenDetails.reasoningTokens'],
      a['ai.usage.reasoningTokens'],
      metadata.openai?.reasoningTokens,
    ),
  };
  fields.inputTokens = inputTokens(a, provider, fields);

  const reason = str(a['ai.response.finishReason']) || str(a['ai.finishReason']);
  if (reason) fields.finishReasons = [reason];
  const msToFirstChunk = a['ai.response.msToFirstChunk'] ?? a['ai.stream.msToFirstChunk'];
  if (typeof msToFirstChunk === 'number') fields.ttftMs = msToFirstChunk;

  const { system, messages } = splitSystem(promptMessages(a['ai.prompt.messages']));
  const output = responseMessage(a, reason);
  const tools = toolList(a['ai.prompt.tools']);
  Object.assign(fields, messageFields({ system, input: messages, output: output ? [output] : [], tools }));

  const sessionId = str(a['ai.telemetry.metadata.sessionId']) || str(a['ai.telemetry.metadata.session_id']);
  const userId = str(a['ai.telemetry.metadata.userId']) || str(a['ai.telemetry.metadata.user_id']);
  if (sessionId) fields.sessionId = sessionId;
  if (userId) fields.userId = userId;
  return fields;
}

/**
 * Input tokens including cache reads and writes, the conventions' meaning.
 * - v6 reports `ai.usage.inputTokens` as that total, with the split in `ai.usage.inputTokenDetails.*`.
 * - v4 (`promptTokens`) and v5 (`inputTokens`) pass the provider's own count through: OpenAI's and
 *   Gemini's include cached tokens, but Anthropic's `usage.input_tokens` and Bedrock Converse's
 *   `inputTokens` leave out cache reads and writes (reported in `ai.usage.cachedInputTokens` and
 *   `ai.response.providerMetadata`), so for those the cache counts are added.
 */
function inputTokens(a: Attributes, provider: string, fields: Partial<GenAIFields>): number {
  const reported = firstNum(a['ai.usage.inputTokens'], a['ai.usage.promptTokens'], a['ai.usage.tokens']);
  const v6 = a['ai.usage.inputTokenDetails.noCacheTokens'] !== undefined || a['ai.usage.inputTokenDetails.cacheReadTokens'] !== undefined;
  if (v6 || (provider !== 'anthropic' && provider !== 'aws.bedrock')) return reported;
  return reported + (fields.cacheReadTokens ?? 0) + (fields.cacheWriteTokens ?? 0);
}

type Metadata = Record<string, Record<string, AttributeValue> | undefined>;

function providerMetadata(value: AttributeValue | undefined): Metadata {
  const parsed = parseJson(value);
  return isRecord(parsed) ? (parsed as Metadata) : {};
}

function usageOf(entry: Record<string, AttributeValue> | undefined): Record<string, AttributeValue> | undefined {
  if (!entry) return undefined;
  const usage = entry.usageMetadata ?? entry.usage;
  return isRecord(usage) ? (usage as Record<string, AttributeValue>) : undefined;
}

/**
 * `ai.prompt.messages`: the provider-level prompt (`LanguageModelV1Prompt`/`V2Prompt`) as JSON — system
 * messages with string content, the others with content parts (text, image, file, reasoning, tool-call,
 * tool-result).
 */
function promptMessages(value: AttributeValue | undefined): ChatMessage[] {
  const list = parseJson(value);
  if (!Array.isArray(list)) return [];
  const out: ChatMessage[] = [];
  for (const message of list) {
    if (!isRecord(message)) continue;
    const role = str(message.role as AttributeValue) || 'user';
    const parts = contentParts(message.content);
    if (role === 'tool') {
      for (const part of parts) out.push({ role: 'tool', parts: [part] });
    } else {
      out.push(...splitToolResults(role, dedupeToolCalls(parts)));
    }
  }
  return out;
}

/** The response as one assistant message: reasoning, text (or the generated object), then tool calls. */
function responseMessage(a: Attributes, reason: string): ChatMessage | null {
  const parts: MessagePart[] = [];
  const reasoning = a['ai.response.reasoning'];
  if (typeof reasoning === 'string' && reasoning) parts.push({ type: 'reasoning', content: reasoning });
  const text = a['ai.response.text'] ?? a['ai.result.text'];
  if (typeof text === 'string' && text) parts.push(textPart(text));
  const object = a['ai.response.object'] ?? a['ai.result.object'];
  if (typeof object === 'string' && object) parts.push(textPart(object));
  const calls = parseJson(a['ai.response.toolCalls'] ?? a['ai.result.toolCalls']);
  if (Array.isArray(calls)) {
    for (const call of calls) {
      if (!isRecord(call)) continue;
      // v4: {toolCallType, toolCallId, toolName, args}; v5+: {toolCallId, toolName, input}.
      parts.push(toolCallPart(call.toolCallId, call.toolName, call.input ?? call.args));
    }
  }
  if (!parts.length) return null;
  const message: ChatMessage = { role: 'assistant', parts };
  if (reason) message.finish_reason = finishReason(reason);
  return message;
}

/** `ai.prompt.tools`: one JSON string per tool (`{type, name, description, parameters|inputSchema}`). */
function toolList(value: AttributeValue | undefined): ToolDefinition[] {
  const list = Array.isArray(value) ? value : parseJson(value);
  if (!Array.isArray(list)) return [];
  return list.map((tool) => toolDefinition(tool)).filter((t): t is ToolDefinition => t !== null);
}
