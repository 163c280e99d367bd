// Anthropic Messages API ⇄ GenAI message JSON (semantic conventions v1.41), both directions.
//
// toGenAI / outputToGenAI record a call; fromGenAI builds a request from a stored conversation, whichever
// provider it came from, so it can be replayed on Claude. Anthropic-only data that a replay on Anthropic needs
// travels in extra fields of the parts: `signature` on reasoning parts (thinking blocks are rejected without it),
// `is_error` on tool responses, and whole blocks the conventions have no part for (redacted thinking, server tool
// blocks) as generic parts typed with their Anthropic block type.
import type {
  ContentBlock,
  ContentBlockParam,
  Message,
  MessageCreateParams,
  MessageParam,
  TextBlockParam,
  ToolUnion,
} from '@anthropic-ai/sdk/resources/messages';
import type { ChatMessage, GenAIRequest, MessagePart, OutputMessage, ReplayInput, SystemInstructions, ToolDefinition } from './messages.ts';

/** Anthropic requires max_tokens; this is what a replay asks for when the stored call did not say. */
export const DEFAULT_REPLAY_MAX_TOKENS = 4096;

type Block = Record<string, unknown> & { type: string };

// ---------------------------------------------------------------------------------------------------------------
// Anthropic → GenAI

export function toGenAI(request: Pick<MessageCreateParams, 'messages'> & Partial<Pick<MessageCreateParams, 'system' | 'tools'>>): GenAIRequest {
  const systemInstructions: SystemInstructions =
    request.system === undefined ? [] : typeof request.system === 'string' ? textParts(request.system) : request.system.map(blockToPart);
  const inputMessages: ChatMessage[] = [];
  for (const message of request.messages) inputMessages.push(...messageToGenAI(message));
  const toolDefinitions = (request.tools ?? []).map(toolToGenAI);
  return { systemInstructions, inputMessages, toolDefinitions };
}

/** The response as output messages: Anthropic returns one assistant message per call. */
export function outputToGenAI(message: Pick<Message, 'content' | 'stop_reason'>): OutputMessage[] {
  return [{ role: 'assistant', parts: message.content.map((b) => blockToPart(b as unknown as Block)), finish_reason: finishReason(message.stop_reason) }];
}

/** Anthropic's stop_reason as the conventions' finish reason (`stop`, `length`, `tool_call`, `content_filter`). */
export function finishReason(stopReason: string | null | undefined): string {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_call';
    case 'refusal':
      return 'content_filter';
    case null:
    case undefined:
      return 'error';
    default:
      return stopReason;
  }
}

function messageToGenAI(message: MessageParam): ChatMessage[] {
  const blocks: Block[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : (message.content as unknown as Block[]);
  if (message.role !== 'user') return [{ role: message.role, parts: blocks.map(blockToPart) }];
  // A user turn's tool results are tool messages in the conventions (one per result, as OpenAI has them); the
  // rest of the turn stays a user message after them, in the order the API requires.
  const out: ChatMessage[] = [];
  const rest: MessagePart[] = [];
  for (const block of blocks) {
    if (block.type === 'tool_result') out.push({ role: 'tool', parts: [blockToPart(block)] });
    else rest.push(blockToPart(block));
  }
  if (rest.length > 0 || out.length === 0) out.push({ role: 'user', parts: rest });
  return out;
}

function blockToPart(block: Block | TextBlockParam | ContentBlock | ContentBlockParam): MessagePart {
  const b = block as Block;
  switch (b.type) {
    case 'text':
      return { type: 'text', content: String(b.text) };
    case 'thinking':
      return { type: 'reasoning', content: String(b.thinking), ...(b.signature ? { signature: b.signature } : {}) };
    case 'tool_use':
      return { type: 'tool_call', id: String(b.id), name: String(b.name), arguments: b.input };
    case 'tool_result': {
      const part: MessagePart = { type: 'tool_call_response', id: String(b.tool_use_id), response: toolResultToGenAI(b.content) };
      return b.is_error ? { ...part, is_error: true } : part;
    }
    case 'image':
    case 'document':
      return sourceToPart(b);
    default: {
      // Blocks with no part in the conventions (redacted thinking, server tool use and results, search results,
      // …) are kept whole, so nothing is lost and a replay on Anthropic sends them back as they were.
      const { cache_control: _, ...rest } = b;
      return rest;
    }
  }
}

function toolResultToGenAI(content: unknown): unknown {
  if (content === undefined || typeof content === 'string') return content ?? '';
  const blocks = content as Block[];
  if (blocks.every((b) => b.type === 'text')) return blocks.map((b) => String(b.text)).join('');
  return blocks.map(blockToPart);
}

function sourceToPart(block: Block): MessagePart {
  const source = (block.source ?? {}) as Record<string, unknown>;
  const modality = block.type === 'image' ? 'image' : 'document';
  switch (source.type) {
    case 'base64':
      return { type: 'blob', modality, mime_type: String(source.media_type), content: String(source.data) };
    case 'text':
      return { type: 'blob', modality, mime_type: 'text/plain', content: Buffer.from(String(source.data), 'utf8').toString('base64') };
    case 'url':
      return { type: 'uri', modality, mime_type: modality === 'document' ? 'application/pdf' : null, uri: String(source.url) };
    case 'file':
      return { type: 'file', modality, file_id: String(source.file_id) };
    default: {
      const { cache_control: _, ...rest } = block;
      return rest;
    }
  }
}

function toolToGenAI(tool: ToolUnion): ToolDefinition {
  const t = tool as unknown as Record<string, unknown>;
  if (t.type === undefined || t.type === null || t.type === 'custom') {
    return {
      type: 'function',
      name: String(t.name),
      ...(t.description ? { description: String(t.description) } : {}),
      parameters: t.input_schema,
    };
  }
  // A server or versioned tool (web_search_20250305, bash_20250124, …): its type says what it is.
  const { cache_control: _, ...rest } = t;
  return { ...rest, type: String(t.type), name: String(t.name) };
}

function textParts(text: string): MessagePart[] {
  return text ? [{ type: 'text', content: text }] : [];
}

// ---------------------------------------------------------------------------------------------------------------
// GenAI → Anthropic

/**
 * A Messages API request for a stored conversation. Tool results become `tool_result` blocks at the start of a user
 * turn, consecutive turns of one role are merged (the API wants user and assistant to alternate), leading system
 * messages join the top-level `system`, and what Claude cannot take is left out: reasoning from another provider
 * (a thinking block needs Anthropic's signature) and empty text.
 */
export function fromGenAI(input: ReplayInput): MessageCreateParams & { stream?: false } {
  const params = input.params ?? {};
  const system: TextBlockParam[] = [];
  for (const part of input.systemInstructions ?? []) {
    const text = partText(part);
    if (text) system.push({ type: 'text', text });
  }

  const ids = new ToolCallIds();
  const turns: Array<{ role: 'user' | 'assistant' | 'system'; content: Block[] }> = [];
  let seenConversation = false;
  for (const message of input.inputMessages) {
    if (message.role === 'system' || message.role === 'developer') {
      const texts = message.parts.map(partText).filter((t): t is string => !!t);
      if (!seenConversation) {
        for (const text of texts) system.push({ type: 'text', text });
      } else if (texts.length) {
        turns.push({ role: 'system', content: texts.map((text) => ({ type: 'text', text })) });
      }
      continue;
    }
    seenConversation = true;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const content = message.parts.flatMap((part) => partToBlocks(part, role, ids));
    if (content.length === 0) continue;
    const last = turns.at(-1);
    if (last && last.role === role) last.content.push(...content);
    else turns.push({ role, content });
  }
  for (const turn of turns) {
    // The API wants a user turn's tool results before anything else in it.
    if (turn.role === 'user') turn.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  }

  const request: MessageCreateParams & { stream?: false } = {
    model: input.model,
    max_tokens: params.maxTokens ?? DEFAULT_REPLAY_MAX_TOKENS,
    messages: turns.map((t) => ({ role: t.role, content: t.content }) as unknown as MessageParam),
  };
  if (system.length) request.system = system;
  const tools = (input.toolDefinitions ?? []).map(toolFromGenAI).filter((t): t is ToolUnion => t !== undefined);
  if (tools.length) request.tools = tools;
  // temperature, top_p and top_k are left out: @anthropic-ai/sdk 1.x no longer has them in the Messages API.
  if (params.stopSequences?.length) request.stop_sequences = params.stopSequences;
  if (params.outputType === 'json' && params.jsonSchema) {
    request.output_config = { format: { type: 'json_schema', schema: params.jsonSchema } };
  }
  return request;
}

/** Pairs tool calls and results when the stored conversation has no ids (Gemini often sends none). */
class ToolCallIds {
  #pending: Array<{ id: string; name: string }> = [];
  #n = 0;

  call(id: string | null | undefined, name: string): string {
    const assigned = id || `toolu_replay_${++this.#n}`;
    this.#pending.push({ id: assigned, name });
    return assigned;
  }

  result(id: string | null | undefined, name: unknown): string {
    const index = id
      ? this.#pending.findIndex((p) => p.id === id)
      : Math.max(0, this.#pending.findIndex((p) => typeof name !== 'string' || p.name === name));
    const found = this.#pending.splice(index, 1)[0];
    return id || found?.id || `toolu_replay_${++this.#n}`;
  }
}

function partToBlocks(part: MessagePart, role: 'user' | 'assistant', ids: ToolCallIds): Block[] {
  const p = part as Record<string, unknown> & { type: string };
  switch (p.type) {
    case 'text':
      return p.content ? [{ type: 'text', text: String(p.content) }] : [];
    case 'reasoning':
      // Only Claude's own thinking can go back, and only with its signature.
      return role === 'assistant' && typeof p.signature === 'string' ? [{ type: 'thinking', thinking: String(p.content ?? ''), signature: p.signature }] : [];
    case 'tool_call':
      if (role !== 'assistant') return [];
      return [{ type: 'tool_use', id: ids.call(p.id as string | null, String(p.name)), name: String(p.name), input: argumentsObject(p.arguments) }];
    case 'tool_call_response': {
      const block: Block = { type: 'tool_result', tool_use_id: ids.result(p.id as string | null, p.name), content: toolResultContent(p.response, ids) };
      if (p.is_error === true) block.is_error = true;
      return [block];
    }
    case 'blob':
    case 'uri':
    case 'file': {
      const block = mediaBlock(p);
      return block ? [block] : [{ type: 'text', text: `[${String(p.modality ?? 'media')} ${String(p.mime_type ?? p.uri ?? p.file_id ?? '')} not supported by Anthropic]` }];
    }
    case 'redacted_thinking':
      return role === 'assistant' ? [p] : [];
    default:
      // Anthropic blocks kept whole by toGenAI go back as they were; a part from another provider that Claude
      // has no block for is left out rather than sent as a block the API would reject.
      return ANTHROPIC_PASSTHROUGH_TYPES.has(p.type) ? [p] : [];
  }
}

const ANTHROPIC_PASSTHROUGH_TYPES = new Set([
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'container_upload',
  'search_result',
]);

function mediaBlock(p: Record<string, unknown>): Block | undefined {
  const mime = typeof p.mime_type === 'string' ? p.mime_type : '';
  const isImage = p.modality === 'image' || mime.startsWith('image/');
  const isPdf = mime === 'application/pdf' || p.modality === 'document';
  if (p.type === 'blob') {
    if (isImage && /^image\/(jpeg|png|gif|webp)$/.test(mime)) return { type: 'image', source: { type: 'base64', media_type: mime, data: String(p.content) } };
    if (mime === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: String(p.content) } };
    if (mime === 'text/plain') return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(String(p.content), 'base64').toString('utf8') } };
    return undefined;
  }
  if (p.type === 'uri') {
    const uri = String(p.uri);
    const data = /^data:([^;,]+);base64,(.*)$/s.exec(uri);
    if (data) return mediaBlock({ type: 'blob', modality: p.modality, mime_type: data[1], content: data[2] });
    if (!/^https?:\/\//.test(uri)) return undefined;
    if (isImage) return { type: 'image', source: { type: 'url', url: uri } };
    if (isPdf) return { type: 'document', source: { type: 'url', url: uri } };
    return undefined;
  }
  if (isImage) return { type: 'image', source: { type: 'file', file_id: String(p.file_id) } };
  return { type: 'document', source: { type: 'file', file_id: String(p.file_id) } };
}

function toolResultContent(response: unknown, ids: ToolCallIds): string | Block[] {
  if (typeof response === 'string') return response;
  if (Array.isArray(response) && response.every((r) => typeof r === 'object' && r !== null && 'type' in r)) {
    const blocks = (response as MessagePart[]).flatMap((part) => partToBlocks(part, 'user', ids)).filter((b) => b.type === 'text' || b.type === 'image' || b.type === 'document');
    if (blocks.length) return blocks;
  }
  return response === undefined || response === null ? '' : JSON.stringify(response);
}

function argumentsObject(args: unknown): unknown {
  if (typeof args === 'string') {
    try {
      const parsed: unknown = JSON.parse(args);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : { value: parsed };
    } catch {
      return { arguments: args };
    }
  }
  if (typeof args === 'object' && args !== null && !Array.isArray(args)) return args;
  return args === undefined || args === null ? {} : { value: args };
}

function partText(part: MessagePart): string | undefined {
  return part.type === 'text' && typeof part.content === 'string' && part.content ? part.content : undefined;
}

function toolFromGenAI(tool: ToolDefinition): ToolUnion | undefined {
  if (tool.type === 'function') {
    const parameters = (tool.parameters ?? { type: 'object', properties: {} }) as Record<string, unknown>;
    return {
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      input_schema: { ...parameters, type: 'object' },
    };
  }
  // Anthropic's own server tools carry a dated type (web_search_20250305); another provider's built-in tools
  // (google_search, code_interpreter) have no Anthropic equivalent.
  if (/_\d{8}$/.test(tool.type)) return tool as unknown as ToolUnion;
  return undefined;
}
