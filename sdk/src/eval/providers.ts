// Calls a model named by a ModelConfig through its provider's official SDK, wrapped with wrap() so every call
// of an experiment is traced like any production call. The item's conversation is replayed through the
// adapters (GenAI messages → each provider's request), the response is streamed so time to first token is
// real, and failures come back as values the runner can decide to retry. The SDKs' own retries are off: the
// runner retries, once, with one policy for every provider.
import type { MessagePart, OutputMessage, ReplayParams, ToolDefinition } from '../adapters/messages.ts';
import { fromGenAI as anthropicRequest } from '../adapters/anthropic.ts';
import { fromGenAI as geminiRequest, toGoogleGenAIParams } from '../adapters/google.ts';
import { genAIToChatRequest } from '../adapters/openai.ts';
import { MessageAccumulator } from '../anthropic/messages.ts';
import { GeminiStreamAccumulator } from '../google-genai/generate-content.ts';
import type { LlmResult } from '../instrument/llm-span.ts';
import { ChatStreamState } from '../openai/chat.ts';
import { wrap, type WrapOptions } from '../wrap.ts';
import type { EvalItem, ModelConfig, ProviderName, TokenUsage } from './types.ts';

/** Where keys and base URLs come from. Tests pass them; the CLI leaves them to the environment. */
export interface ProviderOptions {
  /** Keys by provider. Default: OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY (or GOOGLE_API_KEY), OPENAI_COMPATIBLE_API_KEY (optional). */
  apiKeys?: Partial<Record<ProviderName, string>>;
  /** Base URLs by provider, under a config's own `baseUrl`. Default: OPENAI_BASE_URL, ANTHROPIC_BASE_URL, GEMINI_BASE_URL. */
  baseUrls?: Partial<Record<ProviderName, string>>;
  /** The environment to read; default process.env. */
  env?: Record<string, string | undefined>;
  /** Passed to wrap(): where the spans go, content capture. */
  wrap?: WrapOptions;
}

/** Why a call failed, with what the runner needs to decide on a retry. */
export interface ModelError {
  message: string;
  /** http: the API answered with an error status; network: no answer; timeout/cancelled: we stopped it. */
  kind: 'http' | 'network' | 'timeout' | 'cancelled' | 'other';
  status: number | null;
  /** 429, 408, 409, 5xx and network failures. */
  retryable: boolean;
  /** What the provider asked us to wait (Retry-After, retry-after-ms, Gemini's RetryInfo), in ms. */
  retryAfterMs: number | null;
}

export interface ModelCallResult {
  /** The text of the first answer ('' when it only called tools). */
  output: string;
  outputMessages: OutputMessage[];
  usage: TokenUsage;
  /** The model the provider says answered (may be a dated version of the requested one). */
  responseModel: string | null;
  latencyMs: number;
  /** From sending the request to the first streamed piece of the answer (text, reasoning or tool call). */
  ttftMs: number | null;
  error: ModelError | null;
}

/** A conversation to send: an item's input, or a prompt the library builds (a judge's). */
export type ModelInput = EvalItem['input'];

export interface CallOptions {
  signal?: AbortSignal;
  /** Bounds this one attempt. */
  timeoutMs?: number;
}

export interface EmbeddingResult {
  vectors: number[][];
  inputTokens: number;
}

/** Sends conversations and embedding requests; one SDK client per provider, key and base URL, reused. */
export interface ModelCaller {
  call(config: ModelConfig, input: ModelInput, options?: CallOptions): Promise<ModelCallResult>;
  embed(provider: ProviderName, model: string, texts: string[], options?: CallOptions & { baseUrl?: string }): Promise<EmbeddingResult>;
  /** The reason a config cannot be called (missing key, unknown provider), or null. */
  problem(config: Pick<ModelConfig, 'provider' | 'baseUrl' | 'id'>): string | null;
}

// An OpenAI-compatible server gets a key of its own: the OpenAI key must not go to whatever base URL a
// configuration names.
const KEY_ENV: Record<ProviderName, string> = {
  openai: 'OPENAI_API_KEY',
  openai_compatible: 'OPENAI_COMPATIBLE_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
};

const BASE_URL_ENV: Record<ProviderName, string> = {
  openai: 'OPENAI_BASE_URL',
  openai_compatible: 'OPENAI_BASE_URL',
  anthropic: 'ANTHROPIC_BASE_URL',
  gemini: 'GEMINI_BASE_URL',
};

export const PROVIDERS: readonly ProviderName[] = ['openai', 'anthropic', 'gemini', 'openai_compatible'];

const ZERO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

export function createModelCaller(options: ProviderOptions = {}): ModelCaller {
  const env = options.env ?? process.env;
  const clients = new Map<string, Promise<unknown>>();

  const keyFor = (provider: ProviderName): string | undefined =>
    options.apiKeys?.[provider] ?? (env[KEY_ENV[provider]] || (provider === 'gemini' ? env.GOOGLE_API_KEY : undefined) || undefined);
  const baseUrlFor = (provider: ProviderName, own?: string): string | undefined =>
    own ?? options.baseUrls?.[provider] ?? (env[BASE_URL_ENV[provider]] || undefined);

  function problem(config: Pick<ModelConfig, 'provider' | 'baseUrl' | 'id'>): string | null {
    if (!PROVIDERS.includes(config.provider)) {
      return `config ${config.id}: unknown provider "${String(config.provider)}" (use one of ${PROVIDERS.join(', ')})`;
    }
    if (config.provider === 'openai_compatible') {
      if (!baseUrlFor('openai_compatible', config.baseUrl)) return `config ${config.id}: an openai_compatible model needs a base URL (model@http://host/v1, or OPENAI_BASE_URL)`;
      return installed('openai_compatible') ? null : `config ${config.id}: calling an OpenAI-compatible server needs the openai package: npm install openai`;
    }
    if (!keyFor(config.provider)) return `config ${config.id}: set ${KEY_ENV[config.provider]} to call ${config.provider}`;
    return installed(config.provider) ? null : `config ${config.id}: calling ${config.provider} needs the ${PACKAGE_OF[config.provider]} package: npm install ${PACKAGE_OF[config.provider]}`;
  }

  function client<T>(provider: ProviderName, baseUrl: string | undefined): Promise<T> {
    const key = keyFor(provider) ?? (provider === 'openai_compatible' ? 'none' : undefined);
    const id = `${provider}|${baseUrl ?? ''}|${key ?? ''}`;
    let made = clients.get(id);
    if (!made) {
      made = makeClient(provider, key, baseUrl, options.wrap);
      // A failed import is not cached, so a later call reports it again instead of a stale rejection.
      made.catch(() => clients.delete(id));
      clients.set(id, made);
    }
    return made as Promise<T>;
  }

  async function call(config: ModelConfig, input: ModelInput, callOptions: CallOptions = {}): Promise<ModelCallResult> {
    const started = performance.now();
    const stop = new Stopper(callOptions);
    let firstToken: number | null = null;
    const markFirst = () => {
      firstToken ??= performance.now() - started;
    };
    try {
      const configProblem = problem(config);
      if (configProblem) throw new ConfigProblem(configProblem);
      const params = replayParams(input.params, config.params);
      const conversation = conversationOf(input, config.systemPrompt);
      let result: LlmResult;
      if (config.provider === 'anthropic') {
        result = await callAnthropic(await client<AnthropicClient>('anthropic', baseUrlFor('anthropic', config.baseUrl)), config, conversation, params, stop.signal, markFirst);
      } else if (config.provider === 'gemini') {
        result = await callGemini(await client<GeminiClient>('gemini', baseUrlFor('gemini', config.baseUrl)), config, conversation, params, stop.signal, markFirst);
      } else {
        result = await callOpenAI(await client<OpenAIClient>(config.provider, baseUrlFor(config.provider, config.baseUrl)), config, conversation, params, stop.signal, markFirst);
      }
      // The SDKs end an aborted stream quietly, as if it were complete: an abort decides, not the stream.
      if (stop.signal.aborted) throw new StreamCutShort('the stream was stopped');
      const outputMessages = result.output?.() ?? [];
      return {
        output: textOf(outputMessages[0]?.parts ?? []),
        outputMessages,
        usage: usageOf(result),
        responseModel: result.model ?? null,
        latencyMs: performance.now() - started,
        ttftMs: firstToken,
        error: null,
      };
    } catch (error) {
      return {
        output: '',
        outputMessages: [],
        usage: ZERO_USAGE,
        responseModel: null,
        latencyMs: performance.now() - started,
        ttftMs: firstToken,
        error: describeError(error, stop, callOptions.timeoutMs),
      };
    } finally {
      stop.dispose();
    }
  }

  async function embed(provider: ProviderName, model: string, texts: string[], embedOptions: CallOptions & { baseUrl?: string } = {}): Promise<EmbeddingResult> {
    const configProblem = problem({ provider, baseUrl: embedOptions.baseUrl, id: `${provider}:${model}` });
    if (configProblem) throw new ConfigProblem(configProblem);
    const stop = new Stopper(embedOptions);
    try {
      const baseUrl = baseUrlFor(provider, embedOptions.baseUrl);
      if (provider === 'gemini') {
        const ai = await client<GeminiClient>('gemini', baseUrl);
        const response = await ai.models.embedContent({ model, contents: texts, config: { abortSignal: stop.signal } });
        const vectors = (response.embeddings ?? []).map((e) => e.values ?? []);
        const tokens = (response as { usageMetadata?: { promptTokenCount?: number } }).usageMetadata?.promptTokenCount ?? 0;
        return { vectors, inputTokens: tokens };
      }
      if (provider === 'anthropic') throw new ConfigProblem('Anthropic has no embeddings API: use an openai, openai_compatible or gemini embedding model for semantic similarity');
      const openai = await client<OpenAIClient>(provider, baseUrl);
      const response = await openai.embeddings.create({ model, input: texts }, { signal: stop.signal });
      const vectors = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      return { vectors, inputTokens: response.usage?.prompt_tokens ?? 0 };
    } catch (error) {
      if (error instanceof ConfigProblem) throw error;
      const described = describeError(error, stop, embedOptions.timeoutMs);
      throw new ModelCallError(`embedding with ${provider}:${model} failed: ${described.message}`, described);
    } finally {
      stop.dispose();
    }
  }

  return { call, embed, problem };
}

/** A configuration that cannot work (missing key, no embeddings API): not retried, reported as it is. */
export class ConfigProblem extends Error {
  override name = 'ConfigProblem';
}

/** A failed embedding request, with its classified error. */
export class ModelCallError extends Error {
  override name = 'ModelCallError';
  readonly detail: ModelError;

  constructor(message: string, detail: ModelError) {
    super(message);
    this.detail = detail;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Clients

type OpenAIClient = import('openai').OpenAI;
type AnthropicClient = import('@anthropic-ai/sdk').Anthropic;
type GeminiClient = import('@google/genai').GoogleGenAI;

const PACKAGE_OF: Record<ProviderName, string> = {
  openai: 'openai',
  openai_compatible: 'openai',
  anthropic: '@anthropic-ai/sdk',
  gemini: '@google/genai',
};

/** Whether the provider's SDK can be imported (they are optional peer dependencies). */
function installed(provider: ProviderName): boolean {
  try {
    import.meta.resolve(PACKAGE_OF[provider]);
    return true;
  } catch {
    return false;
  }
}

async function makeClient(provider: ProviderName, apiKey: string | undefined, baseUrl: string | undefined, wrapOptions: WrapOptions | undefined): Promise<unknown> {
  let made: unknown;
  try {
    if (provider === 'anthropic') {
      const { Anthropic } = await import('@anthropic-ai/sdk');
      made = new Anthropic({ apiKey: apiKey ?? null, ...(baseUrl ? { baseURL: baseUrl } : {}), maxRetries: 0 });
    } else if (provider === 'gemini') {
      const { GoogleGenAI } = await import('@google/genai');
      made = new GoogleGenAI({ apiKey: apiKey ?? '', httpOptions: { ...(baseUrl ? { baseUrl } : {}), retryOptions: { attempts: 1 } } });
    } else {
      const { OpenAI } = await import('openai');
      made = new OpenAI({ apiKey: apiKey ?? '', ...(baseUrl ? { baseURL: baseUrl } : {}), maxRetries: 0 });
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ConfigProblem(`calling ${provider} needs the ${PACKAGE_OF[provider]} package: npm install ${PACKAGE_OF[provider]}`);
    }
    throw error;
  }
  return wrap(made, wrapOptions);
}

// ---------------------------------------------------------------------------------------------------------------
// Request building

interface Conversation {
  systemInstructions: MessagePart[];
  messages: ModelInput['messages'];
  tools: ToolDefinition[];
}

function conversationOf(input: ModelInput, systemPrompt: string | undefined): Conversation {
  const tools = (input.toolDefinitions ?? []) as Conversation['tools'];
  if (systemPrompt === undefined) return { systemInstructions: input.systemInstructions ?? [], messages: input.messages, tools };
  // The override replaces the system prompt wherever the item kept it: instructions and leading system turns.
  let start = 0;
  while (start < input.messages.length && (input.messages[start]!.role === 'system' || input.messages[start]!.role === 'developer')) start++;
  return {
    systemInstructions: systemPrompt ? [{ type: 'text', content: systemPrompt }] : [],
    messages: input.messages.slice(start),
    tools,
  };
}

/** Provider-neutral parameters, plus the keys no adapter knows, which go to the provider as they are. */
export interface MappedParams {
  replay: ReplayParams;
  passthrough: Record<string, unknown>;
}

const PARAM_ALIASES: Record<string, keyof ReplayParams> = {
  max_tokens: 'maxTokens',
  max_completion_tokens: 'maxTokens',
  max_output_tokens: 'maxTokens',
  maxOutputTokens: 'maxTokens',
  maxTokens: 'maxTokens',
  temperature: 'temperature',
  top_p: 'topP',
  topP: 'topP',
  top_k: 'topK',
  topK: 'topK',
  seed: 'seed',
  frequency_penalty: 'frequencyPenalty',
  frequencyPenalty: 'frequencyPenalty',
  presence_penalty: 'presencePenalty',
  presencePenalty: 'presencePenalty',
  stop: 'stopSequences',
  stop_sequences: 'stopSequences',
  stopSequences: 'stopSequences',
};

/**
 * The item's recorded parameters (as the collector stores them: `temperature`, `max_tokens`, `output_type`, …,
 * or a provider's own `response_format` / `responseMimeType`) under the configuration's, which win.
 */
export function replayParams(itemParams: Record<string, unknown> | null | undefined, configParams: Record<string, unknown> | undefined): MappedParams {
  const replay: ReplayParams = {};
  const passthrough: Record<string, unknown> = {};
  for (const source of [itemParams ?? {}, configParams ?? {}]) {
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined || value === null) continue;
      const alias = PARAM_ALIASES[key];
      if (alias === 'stopSequences') replay.stopSequences = Array.isArray(value) ? value.map(String) : [String(value)];
      else if (alias) {
        const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
        if (!Number.isFinite(n)) throw new ConfigProblem(`parameter ${key}=${JSON.stringify(value)} is not a number`);
        (replay as Record<string, unknown>)[alias] = n;
      }
      else if (key === 'output_type' || key === 'outputType') replay.outputType = value === 'json' ? 'json' : 'text';
      else if (key === 'json_schema' || key === 'jsonSchema' || key === 'responseJsonSchema' || key === 'responseSchema') {
        replay.outputType = 'json';
        replay.jsonSchema = schemaOf(value);
      } else if (key === 'response_format') {
        const format = value as { type?: string; json_schema?: { schema?: Record<string, unknown> } };
        if (format.type === 'json_object') replay.outputType = 'json';
        else if (format.type === 'json_schema') {
          replay.outputType = 'json';
          if (format.json_schema?.schema) replay.jsonSchema = format.json_schema.schema;
        } else if (format.type === 'text') replay.outputType = 'text';
      } else if (key === 'responseMimeType') {
        replay.outputType = value === 'application/json' ? 'json' : 'text';
      } else if (key === 'output_config' && typeof value === 'object') {
        const format = (value as { format?: { type?: string; schema?: Record<string, unknown> } }).format;
        if (format?.type === 'json_schema') {
          replay.outputType = 'json';
          if (format.schema) replay.jsonSchema = format.schema;
        }
      } else passthrough[key] = value;
    }
  }
  if (replay.outputType === 'text') delete replay.jsonSchema;
  return { replay, passthrough };
}

function schemaOf(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') return JSON.parse(value) as Record<string, unknown>;
  return value as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// One call per provider, streamed

async function callOpenAI(
  client: OpenAIClient,
  config: ModelConfig,
  conversation: Conversation,
  { replay, passthrough }: MappedParams,
  signal: AbortSignal,
  markFirst: () => void,
): Promise<LlmResult> {
  const extra: Record<string, unknown> = {};
  // OpenAI's own models want max_completion_tokens (o-series refuse max_tokens); OpenAI-compatible servers
  // (vLLM, Ollama, llama.cpp) mostly know only max_tokens.
  if (replay.maxTokens !== undefined) extra[config.provider === 'openai' ? 'max_completion_tokens' : 'max_tokens'] = replay.maxTokens;
  if (replay.temperature !== undefined) extra.temperature = replay.temperature;
  if (replay.topP !== undefined) extra.top_p = replay.topP;
  if (replay.topK !== undefined && config.provider === 'openai_compatible') extra.top_k = replay.topK;
  if (replay.seed !== undefined) extra.seed = replay.seed;
  if (replay.frequencyPenalty !== undefined) extra.frequency_penalty = replay.frequencyPenalty;
  if (replay.presencePenalty !== undefined) extra.presence_penalty = replay.presencePenalty;
  if (replay.stopSequences?.length) extra.stop = replay.stopSequences;
  if (replay.outputType === 'json') {
    extra.response_format = replay.jsonSchema
      ? { type: 'json_schema', json_schema: { name: 'output', schema: replay.jsonSchema } }
      : { type: 'json_object' };
  }
  const request = genAIToChatRequest(conversation, config.model, { ...passthrough, ...extra });
  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }, { signal });
  const state = new ChatStreamState(true, false);
  for await (const chunk of stream) {
    const delta = chunk.choices?.[0]?.delta as { content?: string | null; tool_calls?: unknown[]; reasoning_content?: string; refusal?: string | null } | undefined;
    if (delta && (delta.content || delta.tool_calls?.length || delta.reasoning_content || delta.refusal)) markFirst();
    state.add(chunk);
  }
  return state.result();
}

async function callAnthropic(
  client: AnthropicClient,
  config: ModelConfig,
  conversation: Conversation,
  { replay, passthrough }: MappedParams,
  signal: AbortSignal,
  markFirst: () => void,
): Promise<LlmResult> {
  const request = anthropicRequest({
    model: config.model,
    systemInstructions: conversation.systemInstructions,
    inputMessages: conversation.messages,
    toolDefinitions: conversation.tools,
    params: replay,
  });
  const stream = await client.messages.create({ ...passthrough, ...request, stream: true } as never, { signal });
  const accumulator = new MessageAccumulator();
  for await (const event of stream as unknown as AsyncIterable<Parameters<MessageAccumulator['add']>[0]>) {
    if (event.type === 'content_block_delta' || (event.type === 'content_block_start' && event.content_block.type === 'tool_use')) markFirst();
    accumulator.add(event);
  }
  if (!accumulator.completed) throw new StreamCutShort('the Anthropic stream ended before message_stop');
  return accumulator.result();
}

async function callGemini(
  client: GeminiClient,
  config: ModelConfig,
  conversation: Conversation,
  { replay, passthrough }: MappedParams,
  signal: AbortSignal,
  markFirst: () => void,
): Promise<LlmResult> {
  const body = geminiRequest({
    model: config.model,
    systemInstructions: conversation.systemInstructions,
    inputMessages: conversation.messages,
    toolDefinitions: conversation.tools,
    params: replay,
  });
  const params = toGoogleGenAIParams(config.model, body);
  const stream = await client.models.generateContentStream({
    model: params.model,
    contents: params.contents as never,
    config: { ...passthrough, ...params.config, abortSignal: signal },
  });
  const accumulator = new GeminiStreamAccumulator();
  for await (const chunk of stream) {
    if (chunk.candidates?.some((c) => c.content?.parts?.some((p) => (typeof p.text === 'string' && p.text !== '') || p.functionCall))) markFirst();
    accumulator.add(chunk as never);
  }
  if (!accumulator.finished) throw new StreamCutShort('the Gemini stream ended without a finish reason');
  return accumulator.result();
}

class StreamCutShort extends Error {
  override name = 'StreamCutShort';
}

function textOf(parts: readonly MessagePart[]): string {
  let text = '';
  for (const part of parts) if (part.type === 'text') text += String((part as { content: unknown }).content ?? '');
  return text;
}

function usageOf(result: LlmResult): TokenUsage {
  const usage = result.usage;
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    cacheReadTokens: usage?.cacheReadInputTokens ?? 0,
    cacheWriteTokens: usage?.cacheCreationInputTokens ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Cancellation, timeouts and errors

/** One attempt's signal: aborted by the caller's signal or by the attempt's own timeout, and which one it was. */
class Stopper {
  readonly signal: AbortSignal;
  timedOut = false;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #outer: AbortSignal | undefined;
  readonly #onAbort = () => this.#controller.abort(this.#outer?.reason);

  constructor(options: CallOptions) {
    this.signal = this.#controller.signal;
    this.#outer = options.signal;
    if (this.#outer?.aborted) this.#controller.abort(this.#outer.reason);
    else this.#outer?.addEventListener('abort', this.#onAbort, { once: true });
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      this.#timer = setTimeout(() => {
        this.timedOut = true;
        this.#controller.abort(new Error('timeout'));
      }, options.timeoutMs);
    }
  }

  get cancelled(): boolean {
    return !this.timedOut && this.#outer?.aborted === true;
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#outer?.removeEventListener('abort', this.#onAbort);
  }
}

const RETRYABLE_STATUS = new Set([408, 409, 429]);

function describeError(error: unknown, stop: Stopper, timeoutMs: number | undefined): ModelError {
  if (stop.timedOut) return { message: `timed out after ${timeoutMs} ms`, kind: 'timeout', status: null, retryable: false, retryAfterMs: null };
  if (stop.cancelled) return { message: 'cancelled', kind: 'cancelled', status: null, retryable: false, retryAfterMs: null };
  if (error instanceof ConfigProblem) return { message: error.message, kind: 'other', status: null, retryable: false, retryAfterMs: null };
  const e = error as { status?: unknown; headers?: unknown; message?: unknown; name?: unknown; cause?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (typeof e?.status === 'number') {
    const status = e.status;
    return {
      message: `HTTP ${status}: ${conciseMessage(message)}`,
      kind: 'http',
      status,
      retryable: RETRYABLE_STATUS.has(status) || status >= 500,
      retryAfterMs: retryAfterFromHeaders(e.headers) ?? retryDelayFromBody(message),
    };
  }
  // The SDKs' error classes keep `name` as "Error"; their constructors are named.
  const name = [typeof e?.name === 'string' ? e.name : '', (error as object | null)?.constructor?.name ?? ''].join(' ');
  const network =
    /\b(APIConnectionError|APIConnectionTimeoutError|StreamCutShort)\b/.test(name) ||
    (error instanceof TypeError && /fetch failed|terminated|network/i.test(message)) ||
    /ECONNRESET|ECONNREFUSED|EPIPE|socket hang up|terminated|other side closed/i.test(`${message} ${String((e?.cause as { message?: string })?.message ?? '')}`);
  if (network) return { message: `network: ${conciseMessage(message)}`, kind: 'network', status: null, retryable: true, retryAfterMs: null };
  // An error event inside an otherwise good stream (OpenAI's `server_error`, Anthropic's `overloaded_error`).
  if (/\bAPIError\b/.test(name) || /overloaded|server_error|internal/i.test(message)) {
    return { message: conciseMessage(message), kind: 'http', status: null, retryable: true, retryAfterMs: null };
  }
  return { message: conciseMessage(message), kind: 'other', status: null, retryable: false, retryAfterMs: null };
}

/** Gemini's ApiError message is the whole JSON error body; the reader wants its message. */
function conciseMessage(message: string): string {
  const start = message.indexOf('{');
  if (start >= 0) {
    try {
      const body = JSON.parse(message.slice(start)) as { error?: { message?: string } };
      if (body.error?.message) return `${message.slice(0, start)}${body.error.message}`.trim();
    } catch {
      // Not JSON after all: the message as it is.
    }
  }
  return message;
}

function header(headers: unknown, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
}

/** `retry-after-ms` (OpenAI, Anthropic), else `Retry-After` in seconds or as an HTTP date. */
export function retryAfterFromHeaders(headers: unknown, now = Date.now()): number | null {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = header(headers, 'retry-after');
  if (value === null || value.trim() === '') return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Gemini says how long to wait in the error body: `google.rpc.RetryInfo` `retryDelay: "2s"`. */
function retryDelayFromBody(message: string): number | null {
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(message);
  return match ? Number(match[1]) * 1000 : null;
}
