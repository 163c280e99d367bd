// Tracing for the official `openai` client (also AzureOpenAI and any OpenAI-compatible server via baseURL):
// chat.completions, responses, embeddings and the legacy completions (`text_completion`).
// The resource methods are patched on the client instance itself, so the caller keeps the same object and type,
// and the SDK's own helpers (chat.completions.parse / .stream / .runTools, responses.parse / .stream), which all
// call `client.<resource>.create`, are traced through the same path.
import { context, diag } from '@opentelemetry/api';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { Completion, CompletionCreateParams } from 'openai/resources/completions';
import type { Response, ResponseCreateParams, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import { traceAPIPromise, type OnData } from '../instrument/api-promise.ts';
import { createInstrumentation, startLlmSpan, type Instrumentation, type InstrumentationOptions, type LlmRequest, type LlmSpan } from '../instrument/llm-span.ts';
import { traceStream } from '../instrument/stream.ts';
import { chatRequest, chatResult, ChatStreamState } from './chat.ts';
import { completionRequest, completionResult, CompletionStreamState } from './completions.ts';
import { embeddingsRequest, embeddingsResult } from './embeddings.ts';
import { describeEndpoint, type Endpoint } from './endpoint.ts';
import { responsesRequest, responsesResult, ResponsesStreamState } from './responses.ts';

export interface OpenAIWrapOptions extends InstrumentationOptions {
  /** `gen_ai.provider.name` for this client, when the one derived from its baseURL is not right. */
  providerName?: string;
  /**
   * Ask streamed chat completions for usage (`stream_options.include_usage`) when the caller did not, and hide the
   * extra usage-only chunk from the caller. Default true; turn off for a server that rejects `stream_options`.
   */
  streamUsage?: boolean;
}

const WRAPPED = Symbol.for('parallax.sdk.wrapped');

type AnyFunction = (this: unknown, ...args: any[]) => any;

interface OpenAILike {
  baseURL?: string;
  apiVersion?: string;
  chat: { completions: { create: AnyFunction } };
  responses?: { create: AnyFunction };
  completions?: { create: AnyFunction };
  embeddings?: { create: AnyFunction };
  withOptions?: AnyFunction;
}

/** True for an `openai` client (OpenAI, AzureOpenAI) by its shape, without importing the package. */
export function isOpenAIClient(client: unknown): boolean {
  const c = client as Partial<OpenAILike> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.chat?.completions?.create === 'function' &&
    typeof c.embeddings?.create === 'function' &&
    typeof c.baseURL === 'string'
  );
}

export function wrapOpenAI<T>(client: T, options: OpenAIWrapOptions = {}): T {
  const c = client as unknown as OpenAILike & { [WRAPPED]?: true };
  if (c[WRAPPED]) return client;
  const instrumentation = createInstrumentation(options);
  const described = describeEndpoint(c.baseURL, typeof c.apiVersion === 'string' && c.apiVersion !== '');
  const endpoint: Endpoint = options.providerName ? { ...described, provider: options.providerName } : described;
  const streamUsage = options.streamUsage ?? true;

  patch(c.chat.completions, 'create', (original) => chatCreate(original, instrumentation, endpoint, streamUsage));
  if (c.responses) patch(c.responses, 'create', (original) => responsesCreate(original, instrumentation, endpoint));
  if (c.embeddings) patch(c.embeddings, 'create', (original) => embeddingsCreate(original, instrumentation, endpoint));
  if (c.completions) patch(c.completions, 'create', (original) => completionsCreate(original, instrumentation, endpoint, streamUsage));
  // withOptions() builds a new client: trace it too, with the same settings.
  if (typeof c.withOptions === 'function') {
    patch(c, 'withOptions', (original) =>
      function withOptions(this: unknown, ...args: unknown[]) {
        return wrapOpenAI(original.apply(this, args), options);
      },
    );
  }
  Object.defineProperty(c, WRAPPED, { value: true, enumerable: false });
  return client;
}

function patch<O extends object>(target: O, method: string, make: (original: AnyFunction) => AnyFunction): void {
  const original = (target as Record<string, unknown>)[method];
  if (typeof original !== 'function') return;
  Object.defineProperty(target, method, { value: make(original as AnyFunction), configurable: true, writable: true, enumerable: false });
}

/**
 * The shared shape of a traced method: start the span (never letting that fail the call), run the SDK's method
 * inside the span's context, and hand back the SDK's own APIPromise with the result recorded on the way.
 */
function tracedCall(original: AnyFunction, self: unknown, request: LlmRequest, sent: unknown, requestOptions: unknown, instrumentation: Instrumentation, onData: OnData): unknown {
  const call = startLlmSpan(instrumentation, request);
  let promise: Promise<unknown>;
  try {
    promise = context.with(call.context, original, self, sent, requestOptions);
  } catch (error) {
    call.fail(error);
    throw error;
  }
  return traceAPIPromise(promise, call, onData);
}

/** Describes the request; a failure there (an odd body) leaves the call untraced rather than failing it. */
function describe<B>(build: (body: B, endpoint: Endpoint) => LlmRequest, body: B, endpoint: Endpoint): LlmRequest | undefined {
  try {
    return build(body, endpoint);
  } catch (error) {
    diag.debug('@parallax/sdk: could not trace an OpenAI call; it runs untraced', error);
    return undefined;
  }
}

function chatCreate(original: AnyFunction, instrumentation: Instrumentation, endpoint: Endpoint, streamUsage: boolean): AnyFunction {
  return function create(this: unknown, body: ChatCompletionCreateParams, requestOptions?: unknown) {
    if (body === null || typeof body !== 'object') return original.call(this, body, requestOptions);
    const request = describe(chatRequest, body, endpoint);
    if (!request) return original.call(this, body, requestOptions);
    if (body.stream !== true) return tracedCall(original, this, request, body, requestOptions, instrumentation, onChatCompletion);
    if (streamUsage && body.stream_options?.include_usage !== true) {
      const sent = { ...body, stream_options: { ...body.stream_options, include_usage: true } };
      return tracedCall(original, this, request, sent, requestOptions, instrumentation, onChatStreamHidingUsage);
    }
    return tracedCall(original, this, request, body, requestOptions, instrumentation, onChatStream);
  };
}

function onChatCompletion(call: LlmSpan, completion: ChatCompletion): ChatCompletion {
  call.end(chatResult(completion));
  return completion;
}

const onChatStream: OnData = (call, stream) => traceChatStream(stream, call, false);
const onChatStreamHidingUsage: OnData = (call, stream) => traceChatStream(stream, call, true);

/** Exported for the benchmark, which times it apart from the HTTP and SSE parsing around it. */
export function traceChatStream<S>(stream: S, call: LlmSpan, hideUsage: boolean): S {
  const state = new ChatStreamState(call.capturesContent, hideUsage);
  return traceStream<S>(stream, call, {
    item(chunk: ChatCompletionChunk) {
      call.chunk();
      return state.add(chunk);
    },
    done: () => call.end(state.result()),
    error: (error) => call.fail(error, state.result()),
    cancel: () => call.cancel(state.result()),
  });
}

function completionsCreate(original: AnyFunction, instrumentation: Instrumentation, endpoint: Endpoint, streamUsage: boolean): AnyFunction {
  return function create(this: unknown, body: CompletionCreateParams, requestOptions?: unknown) {
    if (body === null || typeof body !== 'object') return original.call(this, body, requestOptions);
    const request = describe(completionRequest, body, endpoint);
    if (!request) return original.call(this, body, requestOptions);
    if (body.stream !== true) return tracedCall(original, this, request, body, requestOptions, instrumentation, onCompletion);
    if (streamUsage && body.stream_options?.include_usage !== true) {
      const sent = { ...body, stream_options: { ...body.stream_options, include_usage: true } };
      return tracedCall(original, this, request, sent, requestOptions, instrumentation, onCompletionStreamHidingUsage);
    }
    return tracedCall(original, this, request, body, requestOptions, instrumentation, onCompletionStream);
  };
}

function onCompletion(call: LlmSpan, completion: Completion): Completion {
  call.end(completionResult(completion));
  return completion;
}

const onCompletionStream: OnData = (call, stream) => traceCompletionStream(stream, call, false);
const onCompletionStreamHidingUsage: OnData = (call, stream) => traceCompletionStream(stream, call, true);

function traceCompletionStream<S>(stream: S, call: LlmSpan, hideUsage: boolean): S {
  const state = new CompletionStreamState(call.capturesContent, hideUsage);
  return traceStream<S>(stream, call, {
    item(chunk: Completion) {
      call.chunk();
      return state.add(chunk);
    },
    done: () => call.end(state.result()),
    error: (error) => call.fail(error, state.result()),
    cancel: () => call.cancel(state.result()),
  });
}

function responsesCreate(original: AnyFunction, instrumentation: Instrumentation, endpoint: Endpoint): AnyFunction {
  return function create(this: unknown, body: ResponseCreateParams, requestOptions?: unknown) {
    if (body === null || typeof body !== 'object') return original.call(this, body, requestOptions);
    const request = describe(responsesRequest, body, endpoint);
    if (!request) return original.call(this, body, requestOptions);
    return tracedCall(original, this, request, body, requestOptions, instrumentation, body.stream === true ? onResponsesStream : onResponse);
  };
}

function onResponse(call: LlmSpan, response: Response): Response {
  call.end(responsesResult(response));
  return response;
}

/** A Responses stream that ends with `response.failed` (the HTTP call itself succeeded). */
class ResponseFailedError extends Error {}

function onResponsesStream<S>(call: LlmSpan, stream: S): S {
  const state = new ResponsesStreamState();
  return traceStream<S>(stream, call, {
    item(event: ResponseStreamEvent) {
      state.add(event);
      if (state.producing) call.chunk();
      return true;
    },
    done() {
      const failed = state.failed;
      if (failed) call.fail(new ResponseFailedError(failed.error?.message ?? 'The response failed.'), state.result());
      else call.end(state.result());
    },
    error: (error) => call.fail(error, state.result()),
    cancel: () => call.cancel(state.result()),
  });
}

function embeddingsCreate(original: AnyFunction, instrumentation: Instrumentation, endpoint: Endpoint): AnyFunction {
  return function create(this: unknown, body: EmbeddingCreateParams, requestOptions?: unknown) {
    if (body === null || typeof body !== 'object') return original.call(this, body, requestOptions);
    const request = describe(embeddingsRequest, body, endpoint);
    if (!request) return original.call(this, body, requestOptions);
    return tracedCall(original, this, request, body, requestOptions, instrumentation, onEmbeddings);
  };
}

function onEmbeddings(call: LlmSpan, response: CreateEmbeddingResponse): CreateEmbeddingResponse {
  call.end(embeddingsResult(response));
  return response;
}
