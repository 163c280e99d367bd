// One LLM call = one span, in the GenAI semantic conventions (v1.41). Every provider wrapper (OpenAI,
// Anthropic, Gemini) goes through this file, so the attribute set and the error handling are the same for all.
//
// Usage from a wrapper:
//
//   const instrumentation = createInstrumentation(wrapOptions);          // once per wrapped client
//   const call = startLlmSpan(instrumentation, {                          // at the start of each call
//     operation: 'chat', provider: 'anthropic', model: body.model, serverAddress, serverPort,
//     maxTokens: body.max_tokens, temperature: body.temperature,
//     content: () => ({ systemInstructions, messages, tools }),         // only called when capture is on
//   });
//   // run the provider call inside call.context so HTTP spans become children:
//   const result = context.with(call.context, () => original(...));
//   call.chunk();                                                         // streams: on every chunk
//   call.end({ id, model, finishReasons, usage, output: () => outputMessages });
//   call.fail(error);                                                     // on error (partial result optional)
//   call.cancel(partialResult);                                           // stream stopped by the caller
//   call.abandon();                                                       // stream collected unread (abandoned.ts)
//
// Guarantees: no method throws (a tracing failure is logged with diag.debug and dropped); end/fail/cancel
// are idempotent — only the first one counts, so a stream's span ends exactly once. On the provider init() built,
// the OpenTelemetry span is neither created nor ended on the caller's path: the call runs with a non-recording
// stand-in carrying the span's planned ids (deferred-start.ts), and after the caller has its result the span is
// created with the start time taken when the call began, given its attributes, and ended at the time the call ended
// (deferred-end.ts). The exported span is the same either way; span processors see its onStart() late, just before
// its onEnd(). On an app's own provider the span starts and ends during the call.
import {
  diag,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { ChatMessage, MessagePart, OutputMessage, ToolDefinition } from '../adapters/messages.ts';
import { contentPolicy, detachContent, redactMessages, redactParts, serializeCapped, type ContentOptions, type ContentPolicy } from '../content.ts';
import { contextAttributes } from '../context.ts';
import * as sc from '../semconv.ts';
import { deferEnd, type DeferredEnd } from './deferred-end.ts';
import { StandInSpan, type PlannedSpan, type SpanStarts } from './deferred-start.ts';
import { parentContext } from './suppress.ts';
import { defaultSpanStarts, getTracer } from './tracer.ts';

export interface InstrumentationOptions extends ContentOptions {
  /** Send this client's spans to this provider instead of the one init() set up (or the global one). */
  tracerProvider?: TracerProvider;
}

/** Settings resolved once per wrapped client. */
export interface Instrumentation {
  readonly tracer: () => Tracer;
  readonly content: () => ContentPolicy;
  /**
   * How spans may be started off the caller's path (deferred-start.ts), and then ended off it too (deferred-end.ts):
   * only on init()'s provider. Undefined: the span starts and ends at once.
   */
  readonly starts: () => SpanStarts | undefined;
}

export function createInstrumentation(options?: InstrumentationOptions): Instrumentation {
  const provider = options?.tracerProvider;
  const fixed = provider ? getTracer(provider) : undefined;
  return {
    tracer: fixed ? () => fixed : () => getTracer(),
    content: contentPolicy(options),
    starts: fixed ? () => undefined : defaultSpanStarts,
  };
}

export interface RequestContent {
  systemInstructions?: MessagePart[];
  messages?: ChatMessage[];
  tools?: ToolDefinition[];
}

export interface LlmRequest {
  /** `gen_ai.operation.name`: chat, embeddings, generate_content, text_completion, … */
  operation: string;
  /** `gen_ai.provider.name`: openai, azure.ai.openai, anthropic, gcp.gemini, gcp.vertex_ai, … */
  provider: string;
  model?: string | undefined;
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
  temperature?: number | null | undefined;
  maxTokens?: number | null | undefined;
  topP?: number | null | undefined;
  topK?: number | null | undefined;
  frequencyPenalty?: number | null | undefined;
  presencePenalty?: number | null | undefined;
  stopSequences?: string[] | null | undefined;
  seed?: number | null | undefined;
  choiceCount?: number | null | undefined;
  /** text, json, image, speech */
  outputType?: string | undefined;
  encodingFormats?: string[] | undefined;
  /** Any further attributes to set at start. */
  attributes?: Attributes | undefined;
  /** Builds the content attributes; called only when content capture is on and the span is recorded. */
  content?: (() => RequestContent) | undefined;
}

export interface LlmUsage {
  /** All input tokens, cached ones included. */
  inputTokens?: number | null | undefined;
  outputTokens?: number | null | undefined;
  cacheReadInputTokens?: number | null | undefined;
  cacheCreationInputTokens?: number | null | undefined;
  reasoningOutputTokens?: number | null | undefined;
}

export interface LlmResult {
  id?: string | null | undefined;
  model?: string | null | undefined;
  finishReasons?: string[] | undefined;
  usage?: LlmUsage | undefined;
  /** Builds `gen_ai.output.messages`; called only when content capture is on. */
  output?: (() => OutputMessage[]) | undefined;
  attributes?: Attributes | undefined;
}

function swallow(what: string, error: unknown): void {
  diag.debug(`@parallax/sdk: ${what} failed; the call itself is unaffected`, error);
}

/**
 * Starts the span for one LLM call (on init()'s provider: plans it, deferred-start.ts). Never throws; with a broken
 * tracer it returns an inert LlmSpan.
 *
 * The span starts with the attributes the conventions want at creation, for samplers (operation, provider, model,
 * server), and the withContext() ones; the request parameters join the result attributes when the span is
 * finished. The OTel SDK validates start attributes twice and later ones once, so that is less work, and none of
 * it on the caller's path when the span is deferred.
 */
export function startLlmSpan(instrumentation: Instrumentation, request: LlmRequest, parent: Context = parentContext()): LlmSpan {
  try {
    const attributes: Attributes = {
      [sc.ATTR_GEN_AI_OPERATION_NAME]: request.operation,
      [sc.ATTR_GEN_AI_PROVIDER_NAME]: request.provider,
    };
    if (request.model) attributes[sc.ATTR_GEN_AI_REQUEST_MODEL] = request.model;
    if (request.serverAddress) attributes[sc.ATTR_SERVER_ADDRESS] = request.serverAddress;
    if (request.serverPort) attributes[sc.ATTR_SERVER_PORT] = request.serverPort;
    const fromContext = contextAttributes(parent);
    if (fromContext) Object.assign(attributes, fromContext);

    const name = request.model ? `${request.operation} ${request.model}` : request.operation;
    const tracer = instrumentation.tracer();
    const starts = instrumentation.starts();
    if (starts) {
      const planned = starts.plan(parent);
      const standIn = planned ? new StandInSpan(planned) : trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
      const start = planned?.sampled ? { starts, tracer, planned, name, attributes, parent } : undefined;
      const call = new LlmSpan(standIn, trace.setSpan(parent, standIn), instrumentation.content, start);
      if (start) call.recordRequest(request);
      return call;
    }
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    const call = new LlmSpan(span, trace.setSpan(parent, span), instrumentation.content, undefined);
    if (span.isRecording()) call.recordRequest(request);
    return call;
  } catch (error) {
    swallow('starting the LLM span', error);
    return new LlmSpan(trace.wrapSpanContext(INVALID_SPAN_CONTEXT), parent, instrumentation.content, undefined);
  }
}

/** A span planned on the caller's path and started when it is finished (deferred-start.ts). */
interface DeferredStart {
  starts: SpanStarts;
  tracer: Tracer;
  planned: PlannedSpan;
  name: string;
  attributes: Attributes;
  parent: Context;
}

/** The request parameters as attributes: plain values, copied now, recorded when the span is finished. */
function requestAttributes(request: LlmRequest): Attributes {
  const attributes: Attributes = {};
  if (request.temperature != null) attributes[sc.ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
  if (request.maxTokens != null) attributes[sc.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxTokens;
  if (request.topP != null) attributes[sc.ATTR_GEN_AI_REQUEST_TOP_P] = request.topP;
  if (request.topK != null) attributes[sc.ATTR_GEN_AI_REQUEST_TOP_K] = request.topK;
  if (request.frequencyPenalty != null) attributes[sc.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY] = request.frequencyPenalty;
  if (request.presencePenalty != null) attributes[sc.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY] = request.presencePenalty;
  if (request.stopSequences?.length) attributes[sc.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = request.stopSequences.slice();
  if (request.seed != null) attributes[sc.ATTR_GEN_AI_REQUEST_SEED] = request.seed;
  if (request.choiceCount != null && request.choiceCount !== 1) attributes[sc.ATTR_GEN_AI_REQUEST_CHOICE_COUNT] = request.choiceCount;
  if (request.outputType) attributes[sc.ATTR_GEN_AI_OUTPUT_TYPE] = request.outputType;
  if (request.encodingFormats?.length) attributes[sc.ATTR_GEN_AI_REQUEST_ENCODING_FORMATS] = request.encodingFormats.slice();
  if (request.attributes) Object.assign(attributes, request.attributes);
  return attributes;
}

/** What is taken when the call ends; the span is finished from it, at once or deferred (deferred-end.ts). */
interface Ending {
  /** performance.now() of the end: the span's end time, however late it is finished. */
  time: number;
  /** Every attribute but the content ones. */
  attributes: Attributes;
  /** The output, converted and detached from the response; serialised when the span is finished. */
  output: OutputMessage[] | undefined;
  /** Set by fail(): recorded as an exception event and the ERROR status. */
  failure?: { error: unknown };
}

export class LlmSpan implements DeferredEnd {
  /** The span: the real one, or until a deferred start creates it when finishing, the stand-in the context holds. */
  #span: Span;
  /** The parent context with this span (or its stand-in, with the same ids) active: run the provider call in it. */
  readonly context: Context;
  #policy: () => ContentPolicy;
  /** Set when the span is started and ended off the caller's path; cleared when it is started. */
  #deferredStart: DeferredStart | undefined;
  /** Whether finishing the span is queued (deferred-end.ts) rather than done when the call ends. */
  #defer: boolean;
  /** Whether the span is recorded (sampled); the stand-in of a deferred start never is, the span will be. */
  #recorded: boolean;
  /** performance.now() of the start: a deferred start's start time, and the origin of the time to first chunk. */
  #started = performance.now();
  /**
   * performance.now() of the last progress timestamped: the start, the response, the first chunk. Not every chunk:
   * reading the clock costs more than the rest of our per-chunk work together.
   */
  #lastProgress = this.#started;
  #firstChunkAt: number | undefined;
  #ended = false;
  #requestAttributes: Attributes | undefined;
  /** Converted when the call starts (the caller may change its request later), serialised when the span is finished. */
  #requestContent: RequestContent | undefined;
  #ending: Ending | undefined;
  #truncated: string[] | undefined;
  /** Called once when the call ends (abandoned.ts unregisters the stream). */
  onEnd: ((call: LlmSpan) => void) | undefined;

  constructor(span: Span, context: Context, policy: () => ContentPolicy, deferredStart: DeferredStart | undefined) {
    this.#span = span;
    this.context = context;
    this.#policy = policy;
    this.#deferredStart = deferredStart;
    this.#defer = deferredStart !== undefined;
    this.#recorded = this.#defer || span.isRecording();
  }

  get ended(): boolean {
    return this.#ended;
  }

  get recording(): boolean {
    return !this.#ended && this.#recorded;
  }

  /** Whether content attributes will be recorded for this call. */
  get capturesContent(): boolean {
    return this.recording && this.#policy().capture;
  }

  /** The call made progress (its response arrived): an abandoned stream's span ends at the last progress. */
  progress(): void {
    this.#lastProgress = performance.now();
  }

  /** A stream chunk arrived; the first one is recorded as `gen_ai.response.time_to_first_chunk` (seconds). */
  chunk(): void {
    if (this.#firstChunkAt !== undefined || this.#ended) return;
    this.#firstChunkAt = this.#lastProgress = performance.now();
  }

  /** Takes the request's parameters and (when captured) its content now; both are recorded when the span is finished. */
  recordRequest(request: LlmRequest): void {
    try {
      this.#requestAttributes = requestAttributes(request);
      if (!request.content || !this.#policy().capture) return;
      const { systemInstructions, messages, tools } = request.content();
      this.#requestContent = {
        systemInstructions: systemInstructions?.length ? detachContent(systemInstructions) : undefined,
        messages: messages?.length ? detachContent(messages) : undefined,
        tools: tools?.length ? detachContent(tools) : undefined,
      };
    } catch (error) {
      swallow('recording the request content', error);
    }
  }

  /** Ends the span as a success. */
  end(result?: LlmResult): void {
    if (this.#ended) return;
    this.#close(performance.now(), result, undefined);
  }

  /** Ends the span as a failure: `error.type`, status ERROR, the exception as an event. */
  fail(error: unknown, partial?: LlmResult): void {
    if (this.#ended) return;
    this.#close(performance.now(), partial, undefined, { error });
  }

  /** Ends the span of a stream the caller stopped early (break, abort): what arrived is kept, not an error. */
  cancel(partial?: LlmResult): void {
    if (this.#ended) return;
    this.#close(performance.now(), partial, sc.ATTR_PARALLAX_STREAM_CANCELLED);
  }

  /**
   * Ends the span of a stream that was garbage-collected before anyone read it to the end (abandoned.ts): not an
   * error of the call, so the status stays unset; the end time is the call's last progress, not the collection.
   */
  abandon(): void {
    if (this.#ended) return;
    this.#close(this.#lastProgress, undefined, sc.ATTR_PARALLAX_STREAM_ABANDONED);
  }

  /** Takes what the span needs from the result now, and finishes the span now or queues that for later. */
  #close(time: number, result: LlmResult | undefined, flag: string | undefined, failure?: { error: unknown }): void {
    this.#ended = true;
    if (this.onEnd) {
      try {
        this.onEnd(this);
      } catch (error) {
        swallow('the end hook', error);
      }
    }
    if (!this.#recorded) return;
    const ending: Ending = { time, attributes: this.#requestAttributes ?? {}, output: undefined, failure };
    this.#requestAttributes = undefined;
    try {
      const attributes = ending.attributes;
      if (this.#firstChunkAt !== undefined) attributes[sc.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (this.#firstChunkAt - this.#started) / 1000;
      if (flag) attributes[flag] = true;
      if (failure) attributes[sc.ATTR_ERROR_TYPE] = errorType(failure.error);
      if (result) {
        addResultAttributes(attributes, result);
        if (result.output && this.#policy().capture) {
          const output = result.output();
          if (output.length) ending.output = detachContent(output);
        }
      }
    } catch (error) {
      swallow('recording the response', error);
    }
    if (this.#defer) {
      this.#ending = ending;
      deferEnd(this);
    } else {
      this.#finish(ending);
    }
  }

  /** The deferred part of ending: called by deferred-end.ts. */
  finishDeferred(): void {
    const ending = this.#ending;
    this.#ending = undefined;
    if (ending) this.#finish(ending);
  }

  #finish(ending: Ending): void {
    const span = this.#startSpan();
    if (!span) return;
    try {
      span.setAttributes(ending.attributes);
    } catch (error) {
      swallow('recording the response', error);
    }
    this.#recordContent(ending.output);
    if (ending.failure) {
      try {
        const error = ending.failure.error;
        const err = error instanceof Error ? error : undefined;
        if (err) span.recordException(err, ending.time);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err?.message ?? String(error) });
      } catch (failure) {
        swallow('recording the error', failure);
      }
    }
    try {
      if (this.#truncated) span.setAttribute(sc.ATTR_PARALLAX_CONTENT_TRUNCATED, this.#truncated);
      span.end(ending.time);
    } catch (error) {
      swallow('ending the span', error);
    }
  }

  /** The span to finish: for a deferred start, created now, as planned when the call began. */
  #startSpan(): Span | undefined {
    const start = this.#deferredStart;
    if (!start) return this.#span;
    this.#deferredStart = undefined;
    try {
      const { starts, tracer, planned, name, attributes, parent } = start;
      this.#span = starts.start(tracer, planned, name, SpanKind.CLIENT, attributes, this.#started, parent);
      return this.#span;
    } catch (error) {
      swallow('starting the LLM span', error);
      return undefined;
    }
  }

  /** Redacts and serialises the content: the request's, then the output. A throwing redact hook leaves that part out. */
  #recordContent(output: OutputMessage[] | undefined): void {
    const request = this.#requestContent;
    this.#requestContent = undefined;
    if (!request && !output) return;
    const policy = this.#policy();
    if (request) {
      try {
        const { systemInstructions, messages, tools } = request;
        if (systemInstructions) {
          const parts = policy.redact ? redactParts(systemInstructions, policy.redact) : systemInstructions;
          this.#setJson(sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, parts, policy.maxLength);
        }
        if (messages) {
          const redacted = policy.redact ? redactMessages(messages, policy.redact, 'input') : messages;
          this.#setJson(sc.ATTR_GEN_AI_INPUT_MESSAGES, redacted, policy.maxLength);
        }
        if (tools) this.#setJson(sc.ATTR_GEN_AI_TOOL_DEFINITIONS, tools, policy.maxLength);
      } catch (error) {
        swallow('recording the request content', error);
      }
    }
    if (output) {
      try {
        const redacted = policy.redact ? redactMessages(output, policy.redact, 'output') : output;
        this.#setJson(sc.ATTR_GEN_AI_OUTPUT_MESSAGES, redacted, policy.maxLength);
      } catch (error) {
        swallow('recording the response', error);
      }
    }
  }

  #setJson(attribute: string, value: unknown[], maxLength: number): void {
    const { json, truncated } = serializeCapped(value, maxLength);
    this.#span.setAttribute(attribute, json);
    if (truncated) (this.#truncated ??= []).push(attribute);
  }
}

/**
 * The result's attributes, taken when the call ends: plain values and arrays we built, so the caller changing the
 * response afterwards changes nothing. Zero and empty values are left out where absence reads the same (each
 * attribute costs the OTel SDK a validation pass).
 */
function addResultAttributes(attributes: Attributes, result: LlmResult): void {
  if (result.id) attributes[sc.ATTR_GEN_AI_RESPONSE_ID] = result.id;
  if (result.model) attributes[sc.ATTR_GEN_AI_RESPONSE_MODEL] = result.model;
  if (result.finishReasons?.length) attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = result.finishReasons;
  const usage = result.usage;
  if (usage) {
    if (usage.inputTokens != null) attributes[sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.inputTokens;
    if (usage.outputTokens != null) attributes[sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = usage.outputTokens;
    // OpenAI reports the detail counters on every call, mostly as 0.
    if (usage.cacheReadInputTokens) attributes[sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cacheReadInputTokens;
    if (usage.cacheCreationInputTokens) attributes[sc.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = usage.cacheCreationInputTokens;
    if (usage.reasoningOutputTokens) attributes[sc.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningOutputTokens;
  }
  if (result.attributes) Object.assign(attributes, result.attributes);
}

/** Low-cardinality error kind: the SDK's error class (RateLimitError, APIConnectionError, …) or the JS type. */
export function errorType(error: unknown): string {
  if (error instanceof Error) {
    const name = error.constructor?.name;
    return name && name !== 'Object' ? name : error.name || 'Error';
  }
  return typeof error;
}
