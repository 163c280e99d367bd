// OpenAI ⇄ GenAI message JSON (semantic conventions v1.41), both ways, as pure functions.
// One direction builds the content attributes of a traced call; the other turns a stored conversation back into
// an OpenAI request, to replay it (on the same or another model).
import type {
  ChatCompletion,
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolMessageParam,
  ChatCompletionUserMessageParam,
} from 'openai/resources/chat/completions';
import type { Response as OpenAIResponse, ResponseCreateParams, ResponseInputItem } from 'openai/resources/responses/responses';
import type {
  ChatMessage,
  GenAIConversation,
  GenAIRequest,
  MessagePart,
  OutputMessage,
  ReplayInput,
  SystemInstructions,
  ToolCallRequestPart,
  ToolDefinition,
} from './messages.ts';

// ---------------------------------------------------------------------------------------------------------------
// Shared pieces

/** Tool-call arguments arrive as a JSON string; record them parsed when they are valid JSON. */
export function parseArguments(raw: string | undefined | null): unknown {
  if (raw === undefined || raw === null || raw === '') return raw ?? undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function stringifyArguments(value: unknown): string {
  if (value === undefined) return '{}';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The conventions' finish reasons: stop, length, content_filter, tool_call, error. */
export function toGenAIFinishReason(reason: string | null | undefined): string {
  switch (reason) {
    case 'tool_calls':
    case 'function_call':
      return 'tool_call';
    case null:
    case undefined:
      return 'stop';
    default:
      return reason;
  }
}

export function fromGenAIFinishReason(reason: string): ChatCompletion.Choice['finish_reason'] {
  switch (reason) {
    case 'tool_call':
      return 'tool_calls';
    case 'length':
    case 'content_filter':
      return reason;
    default:
      return 'stop';
  }
}

const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?;base64,/;

function modalityOf(mime: string | undefined, fallback: string): string {
  if (!mime) return fallback;
  const kind = mime.slice(0, mime.indexOf('/'));
  return kind === 'image' || kind === 'audio' || kind === 'video' ? kind : fallback;
}

function imagePart(url: string): MessagePart {
  const match = DATA_URL.exec(url);
  if (match) {
    return { type: 'blob', modality: 'image', mime_type: match[1] ?? null, content: url.slice(match[0].length) };
  }
  return { type: 'uri', modality: 'image', uri: url };
}

function textParts(content: string | ReadonlyArray<{ type: string; text?: string; refusal?: string }> | null | undefined): MessagePart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', content }] : [];
  const parts: MessagePart[] = [];
  for (const part of content) {
    if (part.type === 'text') parts.push({ type: 'text', content: part.text ?? '' });
    else if (part.type === 'refusal') parts.push({ type: 'refusal', content: part.refusal ?? '' });
  }
  return parts;
}

function joinText(content: string | ReadonlyArray<{ type: string; text?: string }> | null | undefined): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  let text = '';
  for (const part of content) if (part.type === 'text' && part.text) text += part.text;
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Chat Completions → GenAI

function userContentParts(content: ChatCompletionUserMessageParam['content']): MessagePart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  const parts: MessagePart[] = [];
  for (const part of content as ChatCompletionContentPart[]) {
    switch (part.type) {
      case 'text':
        parts.push({ type: 'text', content: part.text });
        break;
      case 'image_url':
        parts.push(imagePart(part.image_url.url));
        break;
      case 'input_audio':
        parts.push({ type: 'blob', modality: 'audio', mime_type: `audio/${part.input_audio.format}`, content: part.input_audio.data });
        break;
      case 'file': {
        const file = part.file;
        if (file.file_id) parts.push({ type: 'file', file_id: file.file_id, ...(file.filename ? { filename: file.filename } : {}) });
        else if (file.file_data) {
          const match = DATA_URL.exec(file.file_data);
          const mime = match?.[1];
          parts.push({
            type: 'blob',
            modality: modalityOf(mime, 'document'),
            mime_type: mime ?? null,
            content: match ? file.file_data.slice(match[0].length) : file.file_data,
            ...(file.filename ? { filename: file.filename } : {}),
          });
        }
        break;
      }
      default:
        parts.push({ ...(part as object), type: (part as { type: string }).type });
    }
  }
  return parts;
}

function toolCallParts(message: ChatCompletionAssistantMessageParam | ChatCompletion.Choice['message']): ToolCallRequestPart[] {
  const parts: ToolCallRequestPart[] = [];
  if (message.tool_calls) {
    for (const call of message.tool_calls) {
      if (call.type === 'function') {
        parts.push({ type: 'tool_call', id: call.id, name: call.function.name, arguments: parseArguments(call.function.arguments) });
      } else if (call.type === 'custom') {
        parts.push({ type: 'tool_call', id: call.id, name: call.custom.name, arguments: call.custom.input });
      }
    }
  }
  if (message.function_call) {
    parts.push({ type: 'tool_call', name: message.function_call.name, arguments: parseArguments(message.function_call.arguments) });
  }
  return parts;
}

/** Chat messages → GenAI input messages; system and developer messages go to the system instructions. */
export function chatMessagesToGenAI(messages: readonly ChatCompletionMessageParam[]): {
  systemInstructions: SystemInstructions;
  messages: ChatMessage[];
} {
  const systemInstructions: MessagePart[] = [];
  const out: ChatMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        systemInstructions.push(...textParts(message.content));
        break;
      case 'user': {
        const converted: ChatMessage = { role: 'user', parts: userContentParts(message.content) };
        if (message.name) converted.name = message.name;
        out.push(converted);
        break;
      }
      case 'assistant': {
        const parts = [...textParts(message.content), ...toolCallParts(message)];
        if (message.refusal) parts.push({ type: 'refusal', content: message.refusal });
        const converted: ChatMessage = { role: 'assistant', parts };
        if (message.name) converted.name = message.name;
        out.push(converted);
        break;
      }
      case 'tool':
        out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: message.tool_call_id, response: joinText(message.content) }] });
        break;
      case 'function':
        out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: null, response: message.content ?? '' }], name: message.name });
        break;
      default:
        out.push({ role: (message as { role: string }).role, parts: textParts((message as { content?: string }).content) });
    }
  }
  return { systemInstructions, messages: out };
}

export function chatToolsToGenAI(tools: readonly ChatCompletionTool[] | undefined): ToolDefinition[] {
  if (!tools) return [];
  const out: ToolDefinition[] = [];
  for (const tool of tools) {
    if (tool.type === 'function') {
      const fn = tool.function;
      const def: ToolDefinition = { type: 'function', name: fn.name };
      if (fn.description !== undefined) def.description = fn.description;
      if (fn.parameters !== undefined) def.parameters = fn.parameters;
      if (fn.strict !== undefined && fn.strict !== null) def.strict = fn.strict;
      out.push(def);
    } else if (tool.type === 'custom') {
      const def: ToolDefinition = { type: 'custom', name: tool.custom.name };
      if (tool.custom.description !== undefined) def.description = tool.custom.description;
      if (tool.custom.format !== undefined) def.format = tool.custom.format;
      out.push(def);
    }
  }
  return out;
}

/** A whole chat request as a GenAI conversation. */
export function chatRequestToGenAI(params: { messages: readonly ChatCompletionMessageParam[]; tools?: readonly ChatCompletionTool[] | undefined }): GenAIConversation {
  const { systemInstructions, messages } = chatMessagesToGenAI(params.messages);
  return { systemInstructions, messages, tools: chatToolsToGenAI(params.tools) };
}

type ChoiceMessage = ChatCompletion.Choice['message'] & { reasoning_content?: string | null; reasoning?: string | null };

/** One GenAI output message per choice. */
export function chatCompletionToGenAI(completion: Pick<ChatCompletion, 'choices'>): OutputMessage[] {
  const out: OutputMessage[] = [];
  for (const choice of completion.choices) {
    const message = choice.message as ChoiceMessage;
    const parts: MessagePart[] = [];
    // OpenAI-compatible servers (DeepSeek, vLLM, OpenRouter) put the model's reasoning next to the content.
    const reasoning = message.reasoning_content ?? message.reasoning;
    if (reasoning) parts.push({ type: 'reasoning', content: reasoning });
    if (message.content) parts.push({ type: 'text', content: message.content });
    if (message.refusal) parts.push({ type: 'refusal', content: message.refusal });
    parts.push(...toolCallParts(message));
    if (message.audio?.data) parts.push({ type: 'blob', modality: 'audio', content: message.audio.data });
    out.push({ role: 'assistant', parts, finish_reason: toGenAIFinishReason(choice.finish_reason) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// GenAI → Chat Completions (replay)

function partsToUserContent(parts: readonly MessagePart[]): ChatCompletionUserMessageParam['content'] {
  if (parts.length === 1 && parts[0]!.type === 'text') return (parts[0] as { content: string }).content;
  const content: ChatCompletionContentPart[] = [];
  for (const part of parts) {
    const p = part as Record<string, any>;
    switch (part.type) {
      case 'text':
        content.push({ type: 'text', text: p.content });
        break;
      case 'uri':
        content.push({ type: 'image_url', image_url: { url: p.uri } });
        break;
      case 'blob':
        if (p.modality === 'audio') {
          const format = String(p.mime_type ?? 'audio/wav').replace(/^audio\//, '');
          content.push({ type: 'input_audio', input_audio: { data: p.content, format: format === 'mp3' ? 'mp3' : 'wav' } });
        } else if (p.modality === 'image') {
          content.push({ type: 'image_url', image_url: { url: `data:${p.mime_type ?? 'image/png'};base64,${p.content}` } });
        } else {
          content.push({
            type: 'file',
            file: { file_data: `data:${p.mime_type ?? 'application/octet-stream'};base64,${p.content}`, ...(p.filename ? { filename: p.filename } : {}) },
          });
        }
        break;
      case 'file':
        content.push({ type: 'file', file: { file_id: p.file_id, ...(p.filename ? { filename: p.filename } : {}) } });
        break;
      default:
        break;
    }
  }
  return content;
}

function responseText(response: unknown): string {
  if (typeof response === 'string') return response;
  return JSON.stringify(response ?? null);
}

/** Assigns ids to tool calls that have none (Gemini's) and pairs their results with them, in order. */
class ToolCallIds {
  #pending: Array<{ id: string; name: string }> = [];
  #n = 0;

  call(id: string | null | undefined, name: string): string {
    const assigned = id || `call_replay_${++this.#n}`;
    this.#pending.push({ id: assigned, name });
    return assigned;
  }

  result(id: string | null | undefined, name: unknown): string {
    if (id) {
      const index = this.#pending.findIndex((p) => p.id === id);
      if (index >= 0) this.#pending.splice(index, 1);
      return id;
    }
    const index = Math.max(0, this.#pending.findIndex((p) => typeof name !== 'string' || p.name === name));
    return this.#pending.splice(index, 1)[0]?.id ?? `call_replay_${++this.#n}`;
  }
}

/**
 * GenAI input messages (+ system instructions) → OpenAI chat messages, whichever provider they were recorded
 * from: tool results become `tool` messages right where they were (Anthropic keeps them in user turns), tool calls
 * without ids get ids their results are matched to, and what Chat Completions cannot take as input (reasoning)
 * is left out.
 */
export function genAIToChatMessages(messages: readonly ChatMessage[], systemInstructions: readonly MessagePart[] = []): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  const system = systemInstructions.filter((p) => p.type === 'text') as Array<{ type: 'text'; content: string }>;
  if (system.length === 1) out.push({ role: 'system', content: system[0]!.content });
  else if (system.length > 1) out.push({ role: 'system', content: system.map((p) => ({ type: 'text' as const, text: p.content })) });

  const ids = new ToolCallIds();
  for (const message of messages) {
    const name = message.name ? { name: message.name } : {};
    const rest: MessagePart[] = [];
    for (const part of message.parts) {
      if (part.type === 'tool_call_response') {
        const p = part as { id?: string | null; response: unknown; name?: unknown };
        out.push({ role: 'tool', tool_call_id: ids.result(p.id, p.name), content: responseText(p.response) });
      } else if (part.type !== 'reasoning') {
        rest.push(part);
      }
    }
    if (rest.length === 0) continue;
    switch (message.role) {
      case 'system':
      case 'developer':
        out.push({ role: message.role, content: joinGenAIText(rest), ...name });
        break;
      case 'assistant':
        out.push(genAIToAssistantMessage({ ...message, parts: rest }, ids));
        break;
      case 'tool':
        break;
      default:
        out.push({ role: 'user', content: partsToUserContent(rest), ...name });
    }
  }
  return out;
}

function joinGenAIText(parts: readonly MessagePart[]): string {
  let text = '';
  for (const part of parts) if (part.type === 'text') text += (part as { content: string }).content;
  return text;
}

/** A GenAI assistant (or output) message as the assistant turn of the next OpenAI request. */
export function genAIToAssistantMessage(message: ChatMessage, ids: ToolCallIds = new ToolCallIds()): ChatCompletionAssistantMessageParam {
  const texts: ChatCompletionContentPartText[] = [];
  const toolCalls: NonNullable<ChatCompletionAssistantMessageParam['tool_calls']> = [];
  let refusal: string | undefined;
  for (const part of message.parts) {
    const p = part as Record<string, any>;
    if (part.type === 'text') texts.push({ type: 'text', text: p.content });
    else if (part.type === 'refusal') refusal = p.content;
    else if (part.type === 'tool_call') {
      toolCalls.push({ id: ids.call(p.id, p.name), type: 'function', function: { name: p.name, arguments: stringifyArguments(p.arguments) } });
    }
  }
  const assistant: ChatCompletionAssistantMessageParam = { role: 'assistant' };
  if (texts.length === 1) assistant.content = texts[0]!.text;
  else if (texts.length > 1) assistant.content = texts;
  else if (toolCalls.length) assistant.content = null;
  if (toolCalls.length) assistant.tool_calls = toolCalls;
  if (refusal !== undefined) assistant.refusal = refusal;
  if (message.name) assistant.name = message.name;
  return assistant;
}

export function genAIToChatTools(tools: readonly ToolDefinition[]): ChatCompletionTool[] {
  return tools.map((tool): ChatCompletionTool => {
    if (tool.type === 'custom') {
      return {
        type: 'custom',
        custom: {
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          ...(tool.format !== undefined ? { format: tool.format as never } : {}),
        },
      };
    }
    return {
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        ...(tool.parameters !== undefined ? { parameters: tool.parameters as Record<string, unknown> } : {}),
        ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
      },
    };
  });
}

/** A stored conversation as a ready-to-send OpenAI chat request (replay on `model`). */
export function genAIToChatRequest(
  conversation: GenAIConversation,
  model: string,
  extra: Omit<Partial<ChatCompletionCreateParamsNonStreaming>, 'messages' | 'model' | 'tools'> = {},
): ChatCompletionCreateParamsNonStreaming {
  const request: ChatCompletionCreateParamsNonStreaming = {
    ...extra,
    model,
    messages: genAIToChatMessages(conversation.messages, conversation.systemInstructions),
  };
  if (conversation.tools.length) request.tools = genAIToChatTools(conversation.tools);
  return request;
}

// ---------------------------------------------------------------------------------------------------------------
// The adapter interface every provider shares (toGenAI / outputToGenAI / fromGenAI), for the experiment runner.

export function toGenAI(request: { messages: readonly ChatCompletionMessageParam[]; tools?: readonly ChatCompletionTool[] | undefined }): GenAIRequest {
  const { systemInstructions, messages, tools } = chatRequestToGenAI(request);
  return { systemInstructions, inputMessages: messages, toolDefinitions: tools };
}

export function outputToGenAI(completion: Pick<ChatCompletion, 'choices'>): OutputMessage[] {
  return chatCompletionToGenAI(completion);
}

/** A Chat Completions request replaying a stored conversation (recorded on any provider) on `input.model`. */
export function fromGenAI(input: ReplayInput): ChatCompletionCreateParamsNonStreaming {
  const p = input.params ?? {};
  const request = genAIToChatRequest(
    { systemInstructions: input.systemInstructions ?? [], messages: input.inputMessages, tools: input.toolDefinitions ?? [] },
    input.model,
  );
  // max_completion_tokens: reasoning models reject max_tokens.
  if (p.maxTokens !== undefined) request.max_completion_tokens = p.maxTokens;
  if (p.temperature !== undefined) request.temperature = p.temperature;
  if (p.topP !== undefined) request.top_p = p.topP;
  if (p.stopSequences?.length) request.stop = p.stopSequences;
  if (p.seed !== undefined) request.seed = p.seed;
  if (p.frequencyPenalty !== undefined) request.frequency_penalty = p.frequencyPenalty;
  if (p.presencePenalty !== undefined) request.presence_penalty = p.presencePenalty;
  if (p.outputType === 'json') {
    request.response_format = p.jsonSchema
      ? { type: 'json_schema', json_schema: { name: 'output', schema: p.jsonSchema } }
      : { type: 'json_object' };
  }
  return request;
}

// ---------------------------------------------------------------------------------------------------------------
// Responses API → GenAI

type InputContent = { type: string; text?: string; image_url?: string | null; file_id?: string | null; file_data?: string; filename?: string; file_url?: string };

function responseContentParts(content: string | readonly InputContent[]): MessagePart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  const parts: MessagePart[] = [];
  for (const part of content) {
    switch (part.type) {
      case 'input_text':
      case 'output_text':
        parts.push({ type: 'text', content: part.text ?? '' });
        break;
      case 'refusal':
        parts.push({ type: 'refusal', content: (part as { refusal?: string }).refusal ?? '' });
        break;
      case 'input_image':
        if (part.image_url) parts.push(imagePart(part.image_url));
        else if (part.file_id) parts.push({ type: 'file', modality: 'image', file_id: part.file_id });
        break;
      case 'input_file':
        if (part.file_id) parts.push({ type: 'file', file_id: part.file_id });
        else if (part.file_url) parts.push({ type: 'uri', uri: part.file_url });
        else if (part.file_data) {
          const match = DATA_URL.exec(part.file_data);
          parts.push({ type: 'blob', mime_type: match?.[1] ?? null, content: match ? part.file_data.slice(match[0].length) : part.file_data });
        }
        break;
      default:
        parts.push({ ...(part as object), type: part.type });
    }
  }
  return parts;
}

/** A Responses API request as a GenAI conversation (`instructions` and system/developer items → system). */
export function responsesRequestToGenAI(params: Pick<ResponseCreateParams, 'input' | 'instructions' | 'tools'>): GenAIConversation {
  const systemInstructions: MessagePart[] = [];
  if (typeof params.instructions === 'string' && params.instructions) systemInstructions.push({ type: 'text', content: params.instructions });
  const messages: ChatMessage[] = [];
  const input = params.input;
  if (typeof input === 'string') messages.push({ role: 'user', parts: [{ type: 'text', content: input }] });
  else if (Array.isArray(input)) {
    let assistant: ChatMessage | undefined;
    const assistantTurn = (): ChatMessage => {
      if (!assistant) {
        assistant = { role: 'assistant', parts: [] };
        messages.push(assistant);
      }
      return assistant;
    };
    for (const item of input as ResponseInputItem[]) {
      const type = (item as { type?: string }).type ?? 'message';
      if (type === 'message') {
        const m = item as { role: string; content: string | InputContent[] };
        if (m.role === 'system' || m.role === 'developer') {
          systemInstructions.push(...responseContentParts(m.content));
          continue;
        }
        assistant = undefined;
        if (m.role === 'assistant') assistantTurn().parts.push(...responseContentParts(m.content));
        else messages.push({ role: m.role, parts: responseContentParts(m.content) });
      } else if (type === 'function_call') {
        const call = item as { call_id: string; name: string; arguments: string };
        assistantTurn().parts.push({ type: 'tool_call', id: call.call_id, name: call.name, arguments: parseArguments(call.arguments) });
      } else if (type === 'reasoning') {
        const summary = (item as { summary?: Array<{ text: string }> }).summary ?? [];
        const text = summary.map((s) => s.text).join('\n');
        if (text) assistantTurn().parts.push({ type: 'reasoning', content: text });
      } else if (type === 'function_call_output') {
        assistant = undefined;
        const out = item as ResponseInputItem.FunctionCallOutput;
        messages.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: out.call_id, response: out.output }] });
      } else {
        assistant = undefined;
        messages.push({ role: 'user', parts: [{ ...(item as object), type }] });
      }
    }
  }
  const tools: ToolDefinition[] = [];
  for (const tool of params.tools ?? []) {
    if (tool.type === 'function') {
      const def: ToolDefinition = { type: 'function', name: tool.name };
      if (tool.description) def.description = tool.description;
      if (tool.parameters) def.parameters = tool.parameters;
      if (tool.strict !== null && tool.strict !== undefined) def.strict = tool.strict;
      tools.push(def);
    } else {
      const { type, ...rest } = tool as { type: string } & Record<string, unknown>;
      tools.push({ ...rest, type, name: typeof rest.name === 'string' ? rest.name : type });
    }
  }
  return { systemInstructions, messages, tools };
}

/** The output of a Responses API call as one GenAI assistant message. */
export function responseToGenAI(response: Pick<OpenAIResponse, 'output' | 'status' | 'incomplete_details'>): OutputMessage[] {
  const parts: MessagePart[] = [];
  let toolCall = false;
  for (const item of response.output ?? []) {
    switch (item.type) {
      case 'message':
        parts.push(...responseContentParts(item.content as InputContent[]));
        break;
      case 'function_call':
        toolCall = true;
        parts.push({ type: 'tool_call', id: item.call_id, name: item.name, arguments: parseArguments(item.arguments) });
        break;
      case 'reasoning': {
        const text = (item.summary ?? []).map((s) => s.text).join('\n');
        if (text) parts.push({ type: 'reasoning', content: text });
        break;
      }
      default:
        // Hosted tools (web search, file search, code interpreter, …) are recorded as calls by their item type.
        toolCall = toolCall || item.type.endsWith('_call');
        parts.push({ type: 'tool_call', id: (item as { id?: string }).id ?? null, name: item.type, arguments: item });
    }
  }
  return [{ role: 'assistant', parts, finish_reason: responseFinishReason(response, toolCall) }];
}

export function responseFinishReason(response: Pick<OpenAIResponse, 'status' | 'incomplete_details'>, toolCall: boolean): string {
  if (response.status === 'incomplete') {
    return response.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length';
  }
  if (response.status === 'failed') return 'error';
  return toolCall ? 'tool_call' : 'stop';
}
