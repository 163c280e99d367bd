// The GenAI semantic conventions (v1.41) message schema: the one shape every provider adapter converts to and
// from. It is what the SDK writes into `gen_ai.input.messages`, `gen_ai.output.messages` and
// `gen_ai.system_instructions`, and what the collector stores and returns (collector/src/api/contract.ts
// `MessagePart` / `ChatMessage` — keep the two structurally compatible).

export interface TextPart {
  type: 'text';
  content: string;
}

export interface ReasoningPart {
  type: 'reasoning';
  content: string;
}

export interface ToolCallRequestPart {
  type: 'tool_call';
  id?: string | null;
  name: string;
  /** Parsed JSON arguments when the provider sent valid JSON, otherwise the raw string. */
  arguments?: unknown;
}

export interface ToolCallResponsePart {
  type: 'tool_call_response';
  id?: string | null;
  response: unknown;
}

/** Inline data (base64), e.g. a `data:` image URL or input audio. */
export interface BlobPart {
  type: 'blob';
  modality?: Modality | string;
  mime_type?: string | null;
  content: string;
}

/** Data referenced by URI (e.g. an http image URL). */
export interface UriPart {
  type: 'uri';
  modality?: Modality | string;
  mime_type?: string | null;
  uri: string;
}

/** Data referenced by a provider file id. */
export interface FilePart {
  type: 'file';
  modality?: Modality | string;
  mime_type?: string | null;
  file_id: string;
}

/** A part type the conventions allow providers to add; kept so nothing is dropped. */
export interface GenericPart {
  type: string;
  [key: string]: unknown;
}

export type Modality = 'image' | 'video' | 'audio';

export type MessagePart =
  | TextPart
  | ReasoningPart
  | ToolCallRequestPart
  | ToolCallResponsePart
  | BlobPart
  | UriPart
  | FilePart
  | GenericPart;

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatMessage {
  role: Role | string;
  parts: MessagePart[];
  name?: string | null;
}

export interface OutputMessage extends ChatMessage {
  /** `stop`, `length`, `content_filter`, `tool_call`, `error` or a provider's own reason. */
  finish_reason: string;
}

/** `gen_ai.system_instructions`: the system/developer prompt as parts, not as a message. */
export type SystemInstructions = MessagePart[];

/** One entry of `gen_ai.tool.definitions`. */
export interface ToolDefinition {
  type: 'function' | string;
  name: string;
  description?: string;
  parameters?: unknown;
  [key: string]: unknown;
}

/** A whole conversation as the adapters exchange it: enough to record a call and to replay it. */
export interface GenAIConversation {
  systemInstructions: SystemInstructions;
  messages: ChatMessage[];
  tools: ToolDefinition[];
}

// Replay: what every adapter's toGenAI() returns and fromGenAI() takes.

/** A request as GenAI messages: what toGenAI() returns. */
export interface GenAIRequest {
  systemInstructions: SystemInstructions;
  inputMessages: ChatMessage[];
  toolDefinitions: ToolDefinition[];
}

/** Provider-neutral generation settings for a replay; each adapter maps what its provider supports. */
export interface ReplayParams {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  seed?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** `json` asks for JSON output; with `jsonSchema`, output in that schema. */
  outputType?: 'text' | 'json';
  jsonSchema?: Record<string, unknown>;
}

export interface ReplayInput extends Partial<GenAIRequest> {
  inputMessages: ChatMessage[];
  model: string;
  params?: ReplayParams;
}
