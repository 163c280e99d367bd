// Traces a legacy `@google/generative-ai` client in place: every model from `getGenerativeModel()` gets one span
// per `generateContent`, `generateContentStream`, `embedContent` and `batchEmbedContents` call, and every chat
// from its `startChat()` one per `sendMessage` / `sendMessageStream`. Results keep their shape: a stream is still
// `{ stream, response }`.
//
// A stream's span ends when its `response` promise settles, not when the caller stops reading `stream`: this SDK
// keeps downloading the whole response either way (both come from one tee'd body), so that is when the call ends.
import type { GenerativeModel, GoogleGenerativeAI } from '@google/generative-ai';
import { context, diag } from '@opentelemetry/api';
import { normalizeContents, normalizeSystemInstruction, type GeminiContent, type GeminiRequest } from '../adapters/google.ts';
import { createInstrumentation, startLlmSpan, type Instrumentation, type InstrumentationOptions, type LlmRequest, type LlmSpan } from '../instrument/llm-span.ts';
import {
  describeEndpoint,
  embedRequest,
  embedResult,
  GeminiStreamAccumulator,
  generateContentRequest,
  generateContentResult,
  type GeminiEndpoint,
} from '../google-genai/generate-content.ts';

const WRAPPED = Symbol.for('parallax.google-generative-ai.wrapped');

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

interface ModelLike {
  model: string;
  generationConfig?: Record<string, unknown>;
  tools?: Array<Record<string, unknown>>;
  toolConfig?: Record<string, unknown>;
  systemInstruction?: unknown;
  _requestOptions?: { baseUrl?: string };
}

interface ChatLike {
  params?: { history?: GeminiContent[]; generationConfig?: Record<string, unknown>; tools?: Array<Record<string, unknown>>; toolConfig?: Record<string, unknown>; systemInstruction?: unknown };
  _history?: GeminiContent[];
}

interface StreamResult {
  stream: AsyncGenerator<unknown>;
  response: Promise<unknown>;
}

export function wrapGoogleGenerativeAI<T extends GoogleGenerativeAI>(genAI: T, options?: InstrumentationOptions): T {
  const target = genAI as unknown as Record<string | symbol, unknown> & { getGenerativeModel?: (...args: unknown[]) => GenerativeModel };
  if (typeof target.getGenerativeModel !== 'function' || target[WRAPPED]) return genAI;
  let instrumentation: Instrumentation;
  try {
    instrumentation = createInstrumentation(options);
  } catch (error) {
    diag.debug('@parallax/sdk: could not set up tracing for the GoogleGenerativeAI client; it stays untraced', error);
    return genAI;
  }
  const getGenerativeModel = target.getGenerativeModel;
  Object.defineProperty(genAI, 'getGenerativeModel', {
    configurable: true,
    writable: true,
    value: function (this: unknown, ...args: unknown[]) {
      const model = getGenerativeModel.apply(this ?? genAI, args);
      try {
        wrapModel(model as unknown as ModelLike, instrumentation);
      } catch (error) {
        diag.debug('@parallax/sdk: could not trace a GenerativeModel; it stays untraced', error);
      }
      return model;
    },
  });
  Object.defineProperty(genAI, WRAPPED, { value: true });
  return genAI;
}

function wrapModel(model: ModelLike, instrumentation: Instrumentation): void {
  const m = model as unknown as Record<string, AsyncMethod | ((...args: unknown[]) => unknown)>;
  // The model's request options are fixed when getGenerativeModel() makes it: parse its base URL once.
  const described = describeEndpoint(model._requestOptions?.baseUrl, false);
  const endpoint = (): GeminiEndpoint => described;
  const patch = (name: string, value: (...args: unknown[]) => unknown) => Object.defineProperty(model, name, { value, writable: true, configurable: true });
  const original = (name: string) => (m[name] as AsyncMethod).bind(model);

  const generateContent = original('generateContent');
  patch('generateContent', (request: unknown, requestOptions?: unknown) =>
    traceWhole(instrumentation, () => generateContentRequest(model.model, modelRequest(model, request), endpoint()), () => generateContent(request, requestOptions), (r) =>
      generateContentResult((r as { response: Parameters<typeof generateContentResult>[0] }).response),
    ),
  );

  const generateContentStream = original('generateContentStream');
  patch('generateContentStream', (request: unknown, requestOptions?: unknown) =>
    traceStream(instrumentation, () => generateContentRequest(model.model, modelRequest(model, request), endpoint()), () => generateContentStream(request, requestOptions), signalOf(requestOptions)),
  );

  const embedContent = original('embedContent');
  patch('embedContent', (request: unknown, requestOptions?: unknown) =>
    traceWhole(instrumentation, () => embedRequest(model.model, endpoint()), () => embedContent(request, requestOptions), (r) =>
      embedResult([(r as { embedding?: { values?: number[] } }).embedding]),
    ),
  );

  const batchEmbedContents = original('batchEmbedContents');
  patch('batchEmbedContents', (request: unknown, requestOptions?: unknown) =>
    traceWhole(instrumentation, () => embedRequest(model.model, endpoint()), () => batchEmbedContents(request, requestOptions), (r) =>
      embedResult((r as { embeddings?: Array<{ values?: number[] }> }).embeddings ?? []),
    ),
  );

  const startChat = (m.startChat as (...args: unknown[]) => unknown).bind(model);
  patch('startChat', (...args: unknown[]) => {
    const chat = startChat(...args) as ChatLike & Record<string, AsyncMethod>;
    try {
      wrapChat(chat, model, instrumentation, endpoint);
    } catch (error) {
      diag.debug('@parallax/sdk: could not trace a ChatSession; it stays untraced', error);
    }
    return chat;
  });
}

function wrapChat(chat: ChatLike & Record<string, AsyncMethod>, model: ModelLike, instrumentation: Instrumentation, endpoint: () => GeminiEndpoint): void {
  // The request a turn sends: the session's settings, its history so far and the new message.
  const turnRequest = (message: unknown): GeminiRequest => {
    const params = chat.params ?? {};
    const request: GeminiRequest = { contents: [...(chat._history ?? []), newContent(message)] };
    const system = normalizeSystemInstruction(params.systemInstruction);
    if (system) request.systemInstruction = system;
    if (params.tools) request.tools = params.tools;
    if (params.generationConfig && Object.keys(params.generationConfig).length) request.generationConfig = params.generationConfig;
    return request;
  };
  const sendMessage = chat.sendMessage!.bind(chat);
  const sendMessageStream = chat.sendMessageStream!.bind(chat);
  const patch = (name: string, value: AsyncMethod) => Object.defineProperty(chat, name, { value, writable: true, configurable: true });
  patch('sendMessage', (message: unknown, requestOptions?: unknown) =>
    traceWhole(instrumentation, () => generateContentRequest(model.model, turnRequest(message), endpoint()), () => sendMessage(message, requestOptions), (r) =>
      generateContentResult((r as { response: Parameters<typeof generateContentResult>[0] }).response),
    ),
  );
  patch('sendMessageStream', (message: unknown, requestOptions?: unknown) =>
    traceStream(instrumentation, () => generateContentRequest(model.model, turnRequest(message), endpoint()), () => sendMessageStream(message, requestOptions), signalOf(requestOptions)),
  );
}

/** The body the model sends for `request`, as the SDK builds it: the model's settings under the request's own. */
function modelRequest(model: ModelLike, request: unknown): GeminiRequest {
  const own = (typeof request === 'object' && request !== null && !Array.isArray(request) && 'contents' in request ? request : { contents: normalizeContents(request) }) as Partial<GeminiRequest> & { systemInstruction?: unknown };
  const merged: GeminiRequest = { contents: normalizeContents(own.contents) };
  const system = normalizeSystemInstruction(own.systemInstruction ?? model.systemInstruction);
  if (system) merged.systemInstruction = system;
  const tools = own.tools ?? model.tools;
  if (tools) merged.tools = tools;
  const generationConfig = own.generationConfig ?? model.generationConfig;
  if (generationConfig && Object.keys(generationConfig).length) merged.generationConfig = generationConfig;
  return merged;
}

/** A chat message as the SDK turns it into a Content: function responses go in a `function` turn. */
function newContent(message: unknown): GeminiContent {
  const parts = normalizeContents(Array.isArray(message) ? message : [message]).flatMap((c) => c.parts);
  return { role: parts.some((p) => p.functionResponse) ? 'function' : 'user', parts };
}

function signalOf(requestOptions: unknown): AbortSignal | undefined {
  const signal = (requestOptions as { signal?: unknown } | undefined)?.signal;
  return signal instanceof AbortSignal ? signal : undefined;
}

function start(instrumentation: Instrumentation, describe: () => LlmRequest): LlmSpan | undefined {
  try {
    return startLlmSpan(instrumentation, describe());
  } catch (error) {
    diag.debug('@parallax/sdk: could not start the Gemini span; calling through', error);
    return undefined;
  }
}

function safely<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch (error) {
    diag.debug('@parallax/sdk: could not read the Gemini response', error);
    return undefined;
  }
}

async function traceWhole(instrumentation: Instrumentation, describe: () => LlmRequest, run: () => Promise<unknown>, result: (r: unknown) => ReturnType<typeof generateContentResult>): Promise<unknown> {
  const call = start(instrumentation, describe);
  if (!call) return run();
  try {
    const value = await context.with(call.context, run);
    call.end(safely(() => result(value)));
    return value;
  } catch (error) {
    call.fail(error);
    throw error;
  }
}

async function traceStream(instrumentation: Instrumentation, describe: () => LlmRequest, run: () => Promise<unknown>, signal: AbortSignal | undefined): Promise<unknown> {
  const call = start(instrumentation, describe);
  if (!call) return run();
  let result: StreamResult;
  try {
    result = (await context.with(call.context, run)) as StreamResult;
  } catch (error) {
    call.fail(error);
    throw error;
  }
  try {
    return {
      ...result,
      stream: firstChunkTimed(result.stream, call),
      response: result.response.then(
        (response) => {
          // This SDK's aggregate keeps each chunk's text as its own part; the accumulator joins them.
          call.end(
            safely(() => {
              const accumulator = new GeminiStreamAccumulator();
              accumulator.add(response as Parameters<GeminiStreamAccumulator['add']>[0]);
              return accumulator.result();
            }),
          );
          return response;
        },
        (error: unknown) => {
          // This SDK reports an abort mid-stream as a plain read error; the caller's signal says what happened.
          if (isAbort(error) || signal?.aborted) call.cancel();
          else call.fail(error);
          throw error;
        },
      ),
    };
  } catch (error) {
    diag.debug('@parallax/sdk: could not observe the Gemini stream; returning it untraced', error);
    call.end();
    return result;
  }
}

async function* firstChunkTimed<T>(stream: AsyncGenerator<T>, call: LlmSpan): AsyncGenerator<T, void, undefined> {
  for await (const chunk of stream) {
    call.chunk();
    yield chunk;
  }
}

/** The caller's abort: a DOM AbortError, or this SDK's own wrapper of one. */
function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.constructor?.name === 'GoogleGenerativeAIAbortError');
}
