// Builds the GenAI conventions' (v1.41) message JSON out of the shapes other instrumentations record:
// OpenAI chat messages, Anthropic content blocks, AI SDK content parts, flattened `prefix.N.field` attributes.
import type { ChatMessage, MessagePart } from '../../api/contract.ts';
import type { Attributes, AttributeValue } from '../../otlp/decode.ts';
import { isRecord, parseJson, str } from './values.ts';

export type { ChatMessage, MessagePart };

/** A tool as `gen_ai.tool.definitions` lists it. */
export interface ToolDefinition {
  type: string;
  name: string;
  description?: string;
  parameters?: unknown;
}

/** What a convention's messages come to: the four message columns, as values (serialised by `messageFields`). */
export interface Conversation {
  system: MessagePart[];
  input: ChatMessage[];
  output: ChatMessage[];
  tools: ToolDefinition[];
}

/** Only the non-empty parts of a conversation, as the JSON strings GenAIFields holds. */
export function messageFields(conversation: Partial<Conversation>): {
  systemInstructions?: string;
  inputMessages?: string;
  outputMessages?: string;
  toolDefinitions?: string;
} {
  const out: ReturnType<typeof messageFields> = {};
  if (conversation.system?.length) out.systemInstructions = JSON.stringify(conversation.system);
  if (conversation.input?.length) out.inputMessages = JSON.stringify(conversation.input);
  if (conversation.output?.length) out.outputMessages = JSON.stringify(conversation.output);
  if (conversation.tools?.length) out.toolDefinitions = JSON.stringify(conversation.tools);
  return out;
}

/**
 * Reads flattened lists (`prefix.0.role`, `prefix.1.role`, …) by probing index after index until `read`
 * finds nothing at one: a handful of lookups per message, never a scan of every attribute key.
 */
export function indexed<T>(
  attributes: Attributes,
  prefix: string,
  read: (field: (name: string) => AttributeValue | undefined, index: number) => T | null,
): T[] {
  const out: T[] = [];
  for (let i = 0; i < 10_000; i++) {
    const base = `${prefix}.${i}.`;
    const item = read((name) => attributes[base + name], i);
    if (item === null) break;
    out.push(item);
  }
  return out;
}

export function textPart(content: string): MessagePart {
  return { type: 'text', content };
}

/** Arguments as the conventions keep them: the parsed object when the instrumentation recorded JSON text. */
export function toolCallPart(id: unknown, name: unknown, args: unknown): MessagePart {
  const parsed = typeof args === 'string' ? parseJson(args) : args;
  const part: MessagePart = { type: 'tool_call', id: typeof id === 'string' && id ? id : null, name: str(name as AttributeValue) };
  const value = parsed === undefined ? args : parsed;
  if (value !== undefined && value !== null && value !== '') part.arguments = value;
  return part;
}

export function toolResponsePart(id: unknown, response: unknown): MessagePart {
  return { type: 'tool_call_response', id: typeof id === 'string' && id ? id : null, response: response ?? '' };
}

/** An image (or other media) given as a URL: data URLs become blobs, the rest URIs. */
export function mediaPart(url: string, modality: string, mimeType?: string | null): MessagePart {
  const match = /^data:([^;,]+)?(?:;[^,]*)?,/.exec(url);
  if (match) return { type: 'blob', modality, mime_type: match[1] ?? mimeType ?? null, content: url.slice(match[0].length) };
  return { type: 'uri', modality, mime_type: mimeType ?? null, uri: url };
}

function modalityOf(mimeType: string | undefined, fallback: string): string {
  if (!mimeType) return fallback;
  const kind = mimeType.split('/')[0];
  return kind === 'image' || kind === 'audio' || kind === 'video' ? kind : fallback;
}

/**
 * Message content in any of the shapes instrumentations record: plain text, a JSON string of content
 * blocks (OpenLLMetry stores Anthropic/OpenAI block lists that way), or the block list itself.
 */
export function contentParts(content: unknown): MessagePart[] {
  if (content === undefined || content === null || content === '') return [];
  if (typeof content === 'string') {
    const first = content.trimStart()[0];
    if (first === '[' || first === '{') {
      const parsed = parseJson(content);
      if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((b) => isRecord(b) && typeof b.type === 'string')) {
        return blockParts(parsed);
      }
      if (isRecord(parsed) && typeof parsed.type === 'string' && ('text' in parsed || 'thinking' in parsed)) {
        return blockParts([parsed]);
      }
    }
    return [textPart(content)];
  }
  if (Array.isArray(content)) return blockParts(content);
  if (isRecord(content)) return blockParts([content]);
  return [textPart(String(content))];
}

export function blockParts(blocks: readonly unknown[]): MessagePart[] {
  const out: MessagePart[] = [];
  for (const block of blocks) {
    const part = blockPart(block);
    if (part) out.push(part);
  }
  return out;
}

/** One content block of OpenAI, Anthropic or the AI SDK (their type names do not collide). */
function blockPart(block: unknown): MessagePart | null {
  if (typeof block === 'string') return textPart(block);
  if (!isRecord(block)) return null;
  switch (block.type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return textPart(str(block.text as AttributeValue) || str(block.content as AttributeValue));
    case 'reasoning':
    case 'thinking':
      return { type: 'reasoning', content: str((block.text ?? block.thinking ?? block.content) as AttributeValue) };
    case 'image_url': {
      const image = block.image_url;
      const url = isRecord(image) ? str(image.url as AttributeValue) : str(image as AttributeValue);
      return mediaPart(url, 'image');
    }
    case 'input_audio': {
      const audio = isRecord(block.input_audio) ? block.input_audio : {};
      return { type: 'blob', modality: 'audio', mime_type: audio.format ? `audio/${str(audio.format as AttributeValue)}` : null, content: str(audio.data as AttributeValue) };
    }
    case 'image':
    case 'document':
    case 'file':
      return mediaBlock(block);
    case 'tool_use':
      return toolCallPart(block.id, block.name, block.input);
    case 'tool-call':
      return toolCallPart(block.toolCallId, block.toolName, block.input ?? block.args);
    case 'tool_result':
      return toolResponsePart(block.tool_use_id, toolResultText(block.content));
    case 'tool-result':
      return toolResponsePart(block.toolCallId, aiSdkToolOutput(block.output ?? block.result));
    default:
      return { ...block, type: String(block.type ?? 'unknown') };
  }
}

/** Anthropic image/document blocks (`source`) and AI SDK image/file parts (`image`, `data`, `url`). */
function mediaBlock(block: Record<string, unknown>): MessagePart {
  const fallback = block.type === 'image' ? 'image' : 'file';
  const source = block.source;
  if (isRecord(source)) {
    const mime = typeof source.media_type === 'string' ? source.media_type : undefined;
    if (source.type === 'base64') return { type: 'blob', modality: modalityOf(mime, fallback), mime_type: mime ?? null, content: str(source.data as AttributeValue) };
    if (source.type === 'url') return mediaPart(str(source.url as AttributeValue), modalityOf(mime, fallback), mime);
    if (source.type === 'file') return { type: 'file', modality: fallback, file_id: str(source.file_id as AttributeValue) };
    if (source.type === 'text') return textPart(str(source.data as AttributeValue));
  }
  const mime = (block.mediaType ?? block.mimeType ?? block.mime_type) as string | undefined;
  const data = block.image ?? block.data ?? block.url;
  const value = isRecord(data) && typeof data.href === 'string' ? data.href : str(data as AttributeValue);
  if (/^(https?|data|gs|s3):/.test(value)) return mediaPart(value, modalityOf(mime, fallback), mime);
  return { type: 'blob', modality: modalityOf(mime, fallback), mime_type: mime ?? null, content: value };
}

function toolResultText(content: unknown): unknown {
  if (typeof content === 'string' || !Array.isArray(content)) return content ?? '';
  const texts = content.map((c) => (isRecord(c) && c.type === 'text' ? str(c.text as AttributeValue) : typeof c === 'string' ? c : null));
  return texts.every((t) => t !== null) ? texts.join('') : content;
}

/** AI SDK v5 tool outputs are `{type: 'text'|'json'|'error-text'|…, value}`; v4 results are the value itself. */
function aiSdkToolOutput(output: unknown): unknown {
  if (isRecord(output) && typeof output.type === 'string' && 'value' in output) return output.value;
  return output;
}

const SYSTEM_ROLES = new Set(['system', 'developer']);

/** An OpenAI-style chat message (`role`, `content`, `tool_calls`, `tool_call_id`) as one or more conventions messages. */
export function chatMessages(message: Record<string, unknown>): ChatMessage[] {
  const role = str(message.role as AttributeValue) || 'user';
  if (role === 'tool' || role === 'function') {
    const response = typeof message.content === 'string' ? message.content : toolResultText(message.content);
    const out: ChatMessage = { role: 'tool', parts: [toolResponsePart(message.tool_call_id ?? message.id, response)] };
    if (typeof message.name === 'string' && message.name) out.name = message.name;
    return [out];
  }
  const parts = contentParts(message.content);
  const calls = message.tool_calls;
  if (Array.isArray(calls)) {
    for (const call of calls) {
      if (!isRecord(call)) continue;
      const fn = isRecord(call.function) ? call.function : call;
      parts.push(toolCallPart(call.id, fn.name, fn.arguments ?? fn.args ?? fn.input));
    }
  }
  if (isRecord(message.function_call)) parts.push(toolCallPart(null, message.function_call.name, message.function_call.arguments));
  return splitToolResults(role, dedupeToolCalls(parts));
}

/**
 * Anthropic puts tool results in user turns; the conventions give each its own `tool` message (as OpenAI
 * has them), keeping the rest of the turn a user message after them.
 */
export function splitToolResults(role: string, parts: MessagePart[]): ChatMessage[] {
  if (role !== 'user' || !parts.some((p) => p.type === 'tool_call_response')) return [{ role, parts }];
  const out: ChatMessage[] = [];
  const rest: MessagePart[] = [];
  for (const part of parts) {
    if (part.type === 'tool_call_response') out.push({ role: 'tool', parts: [part] });
    else rest.push(part);
  }
  if (rest.length > 0) out.push({ role, parts: rest });
  return out;
}

/** Instrumentations that record a call both inside the content blocks and as tool_calls attributes. */
export function dedupeToolCalls(parts: MessagePart[]): MessagePart[] {
  const seen = new Set<string>();
  return parts.filter((part) => {
    if (part.type !== 'tool_call' || typeof part.id !== 'string' || !part.id) return true;
    if (seen.has(part.id)) return false;
    seen.add(part.id);
    return true;
  });
}

/** System and developer messages belong in `gen_ai.system_instructions`, as the SDK records them. */
export function splitSystem(messages: ChatMessage[]): { system: MessagePart[]; messages: ChatMessage[] } {
  if (!messages.some((m) => SYSTEM_ROLES.has(m.role))) return { system: [], messages };
  const system: MessagePart[] = [];
  const rest: ChatMessage[] = [];
  for (const message of messages) {
    if (SYSTEM_ROLES.has(message.role)) system.push(...message.parts);
    else rest.push(message);
  }
  return { system, messages: rest };
}

/** A list of OpenAI-style chat messages (as JSON text or values) as conventions messages. */
export function chatMessageList(value: unknown): ChatMessage[] {
  const list = typeof value === 'string' ? parseJson(value) : value;
  if (!Array.isArray(list)) return [];
  return list.flatMap((m) => (isRecord(m) ? chatMessages(m) : []));
}

/**
 * The conventions' finish reasons (`stop`, `length`, `content_filter`, `tool_call`, `error`) for a
 * message, from each provider's own words; unknown reasons are kept as they are.
 */
export function finishReason(reason: string): string {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'STOP':
    case 'COMPLETE':
      return 'stop';
    case 'max_tokens':
    case 'MAX_TOKENS':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_calls':
    case 'tool-calls':
    case 'function_call':
    case 'tool_use':
      return 'tool_call';
    case 'content-filter':
    case 'refusal':
    case 'SAFETY':
      return 'content_filter';
    default:
      return reason;
  }
}

/** `gen_ai.tool.definitions` entries out of OpenAI (`{type, function}`), Anthropic (`input_schema`) or flat tools. */
export function toolDefinition(tool: unknown): ToolDefinition | null {
  const value = typeof tool === 'string' ? parseJson(tool) : tool;
  if (!isRecord(value)) return null;
  const fn = isRecord(value.function) ? value.function : value;
  const name = str(fn.name as AttributeValue);
  if (!name) return null;
  const def: ToolDefinition = { type: typeof value.type === 'string' && value.type !== 'tool' ? value.type : 'function', name };
  if (typeof fn.description === 'string' && fn.description) def.description = fn.description;
  const parameters = fn.parameters ?? fn.input_schema ?? fn.inputSchema;
  if (parameters !== undefined && parameters !== null) def.parameters = typeof parameters === 'string' ? (parseJson(parameters) ?? parameters) : parameters;
  return def;
}

/** A completion as JSON (`gen_ai.completion`, a response's `choices`): messages or OpenAI choices (`{message, finish_reason}`). */
export function completionList(value: unknown, finishReasons: string[]): ChatMessage[] {
  const list = typeof value === 'string' ? parseJson(value) : value;
  if (!Array.isArray(list)) return typeof value === 'string' && value ? [{ role: 'assistant', parts: [{ type: 'text', content: value }] }] : [];
  const out: ChatMessage[] = [];
  for (const item of list) {
    if (!isRecord(item)) continue;
    const message = isRecord(item.message) ? item.message : item;
    const messages = chatMessages({ ...message, role: str(message.role as AttributeValue) || 'assistant' });
    const reason = str(item.finish_reason as AttributeValue);
    if (reason) {
      finishReasons.push(reason);
      const last = messages[messages.length - 1];
      if (last) last.finish_reason = finishReason(reason);
    }
    out.push(...messages);
  }
  return out;
}
