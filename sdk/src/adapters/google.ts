// Gemini (generateContent) ⇄ GenAI message JSON (semantic conventions v1.41), both directions.
//
// Both Google SDKs send the same REST body — `{ contents, systemInstruction, tools, generationConfig }` — so the
// adapter works on that shape (`GeminiRequest`); `fromGoogleGenAIParams` turns the arguments of `@google/genai`
// (`{ model, contents, config }`) into it, and `toGoogleGenAIParams` goes back for a replay through that SDK.
// Gemini-only data a replay on Gemini needs travels in extra fields of the parts: `thought_signature` (Gemini
// rejects function calls replayed without it on thinking models) and `name` on tool responses (a
// `functionResponse` must name its function).
import type { ChatMessage, GenAIRequest, MessagePart, OutputMessage, ReplayInput, SystemInstructions, ToolDefinition } from './messages.ts';

/** A part on the wire: exactly one data field (`text`, `inlineData`, `functionCall`, …) plus flags. */
export type GeminiPart = Record<string, unknown>;

export interface GeminiContent {
  role?: string;
  parts: GeminiPart[];
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools?: Array<Record<string, unknown>>;
  toolConfig?: Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
}

export interface GeminiResponse {
  candidates?: Array<{ content?: { role?: string; parts?: GeminiPart[] }; finishReason?: string }>;
}

// ---------------------------------------------------------------------------------------------------------------
// The SDKs' argument shapes → the REST body

/** What both SDKs accept for `contents`: a string, a part, parts, a Content or Contents (strings are text parts). */
export function normalizeContents(contents: unknown): GeminiContent[] {
  if (contents === undefined || contents === null) return [];
  const items = Array.isArray(contents) ? contents : [contents];
  const out: GeminiContent[] = [];
  let loose: GeminiPart[] = [];
  const flush = () => {
    if (loose.length === 0) return;
    out.push({ role: loose.some((p) => p.functionCall) ? 'model' : 'user', parts: loose });
    loose = [];
  };
  for (const item of items) {
    if (isContent(item)) {
      flush();
      out.push({ ...(item.role ? { role: item.role } : {}), parts: (item.parts ?? []).map(toPart) });
    } else {
      loose.push(toPart(item));
    }
  }
  flush();
  return out;
}

/** A system instruction as either SDK accepts it: a string, a part, parts or a Content. */
export function normalizeSystemInstruction(instruction: unknown): GeminiContent | undefined {
  if (instruction === undefined || instruction === null) return undefined;
  if (isContent(instruction)) return { parts: (instruction.parts ?? []).map(toPart) };
  const items = Array.isArray(instruction) ? instruction : [instruction];
  return { parts: items.map(toPart) };
}

function isContent(value: unknown): value is { role?: string; parts?: unknown[] } {
  return typeof value === 'object' && value !== null && ('parts' in value || 'role' in value);
}

function toPart(value: unknown): GeminiPart {
  return typeof value === 'string' ? { text: value } : (value as GeminiPart);
}

/** The keys of `@google/genai`'s `config` that are generation settings, sent as `generationConfig`. */
const GENERATION_CONFIG_KEYS = [
  'temperature', 'topP', 'topK', 'candidateCount', 'maxOutputTokens', 'stopSequences', 'responseLogprobs', 'logprobs',
  'presencePenalty', 'frequencyPenalty', 'seed', 'responseMimeType', 'responseSchema', 'responseJsonSchema',
  'responseModalities', 'mediaResolution', 'speechConfig', 'thinkingConfig', 'imageConfig',
];

/** `@google/genai`'s `generateContent({ model, contents, config })` arguments as the REST body. */
export function fromGoogleGenAIParams(params: { contents?: unknown; config?: Record<string, unknown> }): GeminiRequest {
  const config = params.config ?? {};
  const request: GeminiRequest = { contents: normalizeContents(params.contents) };
  const system = normalizeSystemInstruction(config.systemInstruction);
  if (system) request.systemInstruction = system;
  if (Array.isArray(config.tools)) request.tools = config.tools as Array<Record<string, unknown>>;
  if (config.toolConfig) request.toolConfig = config.toolConfig as Record<string, unknown>;
  const generationConfig: Record<string, unknown> = {};
  for (const key of GENERATION_CONFIG_KEYS) if (config[key] !== undefined) generationConfig[key] = config[key];
  if (Object.keys(generationConfig).length) request.generationConfig = generationConfig;
  return request;
}

/** A REST body as `@google/genai`'s `generateContent` arguments, for a replay through that SDK. */
export function toGoogleGenAIParams(model: string, request: GeminiRequest): { model: string; contents: GeminiContent[]; config: Record<string, unknown> } {
  const config: Record<string, unknown> = { ...request.generationConfig };
  if (request.systemInstruction) config.systemInstruction = request.systemInstruction;
  if (request.tools) config.tools = request.tools;
  if (request.toolConfig) config.toolConfig = request.toolConfig;
  return { model, contents: request.contents, config };
}

// ---------------------------------------------------------------------------------------------------------------
// Gemini → GenAI

export function toGenAI(request: GeminiRequest): GenAIRequest {
  const systemInstructions: SystemInstructions = (request.systemInstruction?.parts ?? []).map(partToGenAI);
  const inputMessages: ChatMessage[] = [];
  for (const content of request.contents) {
    const role = content.role === 'model' ? 'assistant' : 'user';
    if (role === 'assistant') {
      inputMessages.push({ role, parts: content.parts.map(partToGenAI) });
      continue;
    }
    // Function responses are tool messages in the conventions, one per response, before the rest of the turn.
    const rest: MessagePart[] = [];
    for (const part of content.parts) {
      if (part.functionResponse) inputMessages.push({ role: 'tool', parts: [partToGenAI(part)] });
      else rest.push(partToGenAI(part));
    }
    if (rest.length > 0 || content.parts.length === 0) inputMessages.push({ role: 'user', parts: rest });
  }
  const toolDefinitions = (request.tools ?? []).flatMap(toolToGenAI);
  return { systemInstructions, inputMessages, toolDefinitions };
}

/** One output message per candidate. */
export function outputToGenAI(response: GeminiResponse): OutputMessage[] {
  return (response.candidates ?? []).map((candidate) => ({
    role: 'assistant',
    parts: (candidate.content?.parts ?? []).map(partToGenAI),
    finish_reason: finishReason(candidate.finishReason, candidate.content?.parts),
  }));
}

/** Gemini's finishReason as the conventions' finish reason. A stop with function calls is a `tool_call`. */
export function finishReason(reason: string | undefined, parts?: GeminiPart[]): string {
  switch (reason) {
    case 'STOP':
      return parts?.some((p) => p.functionCall) ? 'tool_call' : 'stop';
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    case 'MALFORMED_FUNCTION_CALL':
      return 'error';
    case undefined:
      return 'error';
    default:
      return reason.toLowerCase();
  }
}

function partToGenAI(part: GeminiPart): MessagePart {
  const signature = typeof part.thoughtSignature === 'string' ? { thought_signature: part.thoughtSignature } : {};
  if (typeof part.text === 'string') {
    return { type: part.thought ? 'reasoning' : 'text', content: part.text, ...signature };
  }
  if (part.functionCall) {
    const call = part.functionCall as { id?: string; name?: string; args?: unknown };
    return { type: 'tool_call', id: call.id ?? null, name: String(call.name ?? ''), arguments: call.args ?? {}, ...signature };
  }
  if (part.functionResponse) {
    const response = part.functionResponse as { id?: string; name?: string; response?: unknown };
    return { type: 'tool_call_response', id: response.id ?? null, name: response.name, response: response.response };
  }
  if (part.inlineData) {
    const blob = part.inlineData as { mimeType?: string; data?: string };
    return { type: 'blob', modality: modalityOf(blob.mimeType), mime_type: blob.mimeType ?? null, content: blob.data ?? '' };
  }
  if (part.fileData) {
    const file = part.fileData as { mimeType?: string; fileUri?: string };
    return { type: 'uri', modality: modalityOf(file.mimeType), mime_type: file.mimeType ?? null, uri: file.fileUri ?? '' };
  }
  if (part.executableCode) return { type: 'executable_code', ...(part.executableCode as object) };
  if (part.codeExecutionResult) return { type: 'code_execution_result', ...(part.codeExecutionResult as object) };
  return { type: 'gemini_part', part };
}

function modalityOf(mime: string | undefined): string {
  const top = mime?.split('/')[0];
  return top === 'image' || top === 'video' || top === 'audio' ? top : 'document';
}

function toolToGenAI(tool: Record<string, unknown>): ToolDefinition[] {
  const out: ToolDefinition[] = [];
  for (const [key, value] of Object.entries(tool)) {
    if (key === 'functionDeclarations' && Array.isArray(value)) {
      for (const decl of value as Array<Record<string, unknown>>) {
        out.push({
          type: 'function',
          name: String(decl.name),
          ...(decl.description ? { description: String(decl.description) } : {}),
          ...(decl.parametersJsonSchema !== undefined || decl.parameters !== undefined
            ? { parameters: decl.parametersJsonSchema ?? openApiToJsonSchema(decl.parameters) }
            : {}),
        });
      }
    } else {
      // A built-in tool (googleSearch, codeExecution, urlContext, …): its key says what it is.
      out.push({ type: key, name: key, config: value });
    }
  }
  return out;
}

/** Gemini's OpenAPI-style schema (`type: 'OBJECT'`, `nullable`) as the JSON Schema the conventions use. */
function openApiToJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openApiToJsonSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && typeof value === 'string') out.type = value.toLowerCase();
    else if (key === 'properties' && typeof value === 'object' && value !== null) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, openApiToJsonSchema(v)]));
    } else if (key === 'items' || key === 'anyOf') out[key] = openApiToJsonSchema(value);
    else out[key] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// GenAI → Gemini

const BUILT_IN_TOOLS = new Set(['googleSearch', 'googleSearchRetrieval', 'codeExecution', 'urlContext', 'googleMaps', 'fileSearch', 'computerUse']);

/**
 * A generateContent body for a stored conversation. Tool results become `functionResponse` parts in a user turn
 * (named after their call, their response an object), system messages join `systemInstruction` (Gemini has no
 * system turn), consecutive turns of one role are merged, and what Gemini cannot take is left out: reasoning from
 * another provider, empty text.
 */
export function fromGenAI(input: ReplayInput): GeminiRequest & { model: string } {
  const params = input.params ?? {};
  const systemParts: GeminiPart[] = [];
  for (const part of input.systemInstructions ?? []) if (part.type === 'text' && part.content) systemParts.push({ text: part.content });

  const calls = new FunctionCalls();
  const contents: GeminiContent[] = [];
  for (const message of input.inputMessages) {
    if (message.role === 'system' || message.role === 'developer') {
      for (const part of message.parts) if (part.type === 'text' && part.content) systemParts.push({ text: part.content });
      continue;
    }
    const role = message.role === 'assistant' ? 'model' : 'user';
    const parts = message.parts.flatMap((part) => partFromGenAI(part, role, calls));
    if (parts.length === 0) continue;
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  }
  for (const content of contents) {
    if (content.role === 'user') content.parts.sort((a, b) => Number(!!b.functionResponse) - Number(!!a.functionResponse));
  }

  const request: GeminiRequest & { model: string } = { model: input.model, contents };
  if (systemParts.length) request.systemInstruction = { parts: systemParts };
  const declarations: Array<Record<string, unknown>> = [];
  const builtIns: Array<Record<string, unknown>> = [];
  for (const tool of input.toolDefinitions ?? []) {
    if (tool.type === 'function') {
      declarations.push({
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        ...(tool.parameters !== undefined ? { parametersJsonSchema: tool.parameters } : {}),
      });
    } else if (BUILT_IN_TOOLS.has(tool.type)) {
      builtIns.push({ [tool.type]: tool.config ?? {} });
    }
  }
  if (declarations.length || builtIns.length) request.tools = [...(declarations.length ? [{ functionDeclarations: declarations }] : []), ...builtIns];

  const generationConfig: Record<string, unknown> = {};
  if (params.maxTokens !== undefined) generationConfig.maxOutputTokens = params.maxTokens;
  if (params.temperature !== undefined) generationConfig.temperature = params.temperature;
  if (params.topP !== undefined) generationConfig.topP = params.topP;
  if (params.topK !== undefined) generationConfig.topK = params.topK;
  if (params.stopSequences?.length) generationConfig.stopSequences = params.stopSequences;
  if (params.seed !== undefined) generationConfig.seed = params.seed;
  if (params.frequencyPenalty !== undefined) generationConfig.frequencyPenalty = params.frequencyPenalty;
  if (params.presencePenalty !== undefined) generationConfig.presencePenalty = params.presencePenalty;
  if (params.outputType === 'json') {
    generationConfig.responseMimeType = 'application/json';
    if (params.jsonSchema) generationConfig.responseJsonSchema = params.jsonSchema;
  }
  if (Object.keys(generationConfig).length) request.generationConfig = generationConfig;
  return request;
}

/** Finds the function a response answers (Gemini needs its name) when the stored response has only an id. */
class FunctionCalls {
  #pending: Array<{ id: string | null; name: string }> = [];

  call(id: string | null | undefined, name: string): void {
    this.#pending.push({ id: id ?? null, name });
  }

  nameFor(id: string | null | undefined, name: unknown): string {
    const index = id ? this.#pending.findIndex((p) => p.id === id) : this.#pending.findIndex((p) => p.name === name);
    const found = index >= 0 ? this.#pending.splice(index, 1)[0] : this.#pending.shift();
    return typeof name === 'string' && name ? name : (found?.name ?? 'unknown_function');
  }
}

function partFromGenAI(part: MessagePart, role: 'user' | 'model', calls: FunctionCalls): GeminiPart[] {
  const p = part as Record<string, unknown> & { type: string };
  const signature = typeof p.thought_signature === 'string' ? { thoughtSignature: p.thought_signature } : {};
  switch (p.type) {
    case 'text':
      return p.content ? [{ text: String(p.content), ...signature }] : [];
    case 'reasoning':
      // Only Gemini's own thoughts go back (with their signature); the model ignores them otherwise.
      return role === 'model' && p.thought_signature ? [{ text: String(p.content ?? ''), thought: true, ...signature }] : [];
    case 'tool_call': {
      if (role !== 'model') return [];
      const name = String(p.name);
      calls.call(p.id as string | null, name);
      return [{ functionCall: { ...(p.id ? { id: p.id } : {}), name, args: argsObject(p.arguments) }, ...signature }];
    }
    case 'tool_call_response': {
      const name = calls.nameFor(p.id as string | null, p.name);
      return [{ functionResponse: { ...(p.id ? { id: p.id } : {}), name, response: responseObject(p.response, p.is_error === true) } }];
    }
    case 'blob':
      return [{ inlineData: { mimeType: String(p.mime_type ?? 'application/octet-stream'), data: String(p.content) } }];
    case 'uri': {
      const data = /^data:([^;,]+);base64,(.*)$/s.exec(String(p.uri));
      if (data) return [{ inlineData: { mimeType: data[1], data: data[2] } }];
      return [{ fileData: { ...(p.mime_type ? { mimeType: p.mime_type } : { mimeType: guessMime(String(p.uri), p.modality) }), fileUri: String(p.uri) } }];
    }
    case 'executable_code': {
      const { type: _, ...rest } = p;
      return role === 'model' ? [{ executableCode: rest }] : [];
    }
    case 'code_execution_result': {
      const { type: _, ...rest } = p;
      return role === 'model' ? [{ codeExecutionResult: rest }] : [];
    }
    case 'gemini_part':
      return [p.part as GeminiPart];
    default:
      return [];
  }
}

function guessMime(uri: string, modality: unknown): string {
  const ext = /\.([a-z0-9]+)(?:\?|#|$)/i.exec(uri)?.[1]?.toLowerCase();
  const byExt: Record<string, string> = {
    png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
    pdf: 'application/pdf', mp3: 'audio/mpeg', wav: 'audio/wav', mp4: 'video/mp4', txt: 'text/plain',
  };
  if (ext && byExt[ext]) return byExt[ext];
  return modality === 'image' ? 'image/jpeg' : 'application/octet-stream';
}

function argsObject(args: unknown): Record<string, unknown> {
  if (typeof args === 'string') {
    try {
      return argsObject(JSON.parse(args));
    } catch {
      return { arguments: args };
    }
  }
  if (typeof args === 'object' && args !== null && !Array.isArray(args)) return args as Record<string, unknown>;
  return args === undefined || args === null ? {} : { value: args };
}

/** A `functionResponse.response` must be an object; Google's convention puts other values under `output`/`error`. */
function responseObject(response: unknown, isError: boolean): Record<string, unknown> {
  let value = response;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      // Plain text stays text.
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !isError) return value as Record<string, unknown>;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'object' && v !== null && v.type === 'text')) {
    value = (value as Array<{ content: string }>).map((v) => v.content).join('');
  }
  return isError ? { error: value } : { output: value };
}
