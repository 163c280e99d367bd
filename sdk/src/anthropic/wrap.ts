// Traces an `@anthropic-ai/sdk` client in place: `messages.create` and `beta.messages.create` (whole and streamed)
// get one span per call. `messages.stream()`, `messages.parse()` and their beta twins (and the beta tool runner)
// call `create` on the same resource, so their MessageStream (events, helpers, finalMessage()) and parsed output are
// traced too, unchanged. What create returns is still the SDK's APIPromise: `.withResponse()` and `.asResponse()`
// keep working, and a stream is still the SDK's own Stream object.
//
// `messages.countTokens()` is left alone: it is not a model call (no generation, no usage, no cost), so a span in
// the GenAI conventions would only add a zero-cost "call" to every per-model count. The SDK's own
// `anthropic.messages.count_tokens` span, when the app has OpenTelemetry, carries no `gen_ai.usage.*` either.
//
// One call, one span: @anthropic-ai/sdk 1.x traces itself (an `anthropic.messages.create` span with
// `gen_ai.usage.*`) whenever a tracer provider is registered globally, so a wrapped call would otherwise be two LLM
// spans and the collector would count its tokens and cost twice. The original method therefore runs in a context
// where tracing is suppressed (`suppressTracing`, the OpenTelemetry mechanism instrumentations use against this):
// the SDK's tracer then makes non-recording spans. That also silences HTTP client spans under ours and trace-context
// injection, so we put our own span's `traceparent` (via the registered propagator) on the request, as the SDK would
// have done with its own. We suppress only for clients that trace themselves (`client.openTelemetry.traces.enabled`,
// a public getter in 1.x); older clients keep HTTP spans and propagation as with the other providers.
import type Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParams, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { context, diag, propagation, type Context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { traceAPIPromise, type OnData } from '../instrument/api-promise.ts';
import { createInstrumentation, startLlmSpan, type Instrumentation, type InstrumentationOptions, type LlmSpan } from '../instrument/llm-span.ts';
import { traceStream } from '../instrument/stream.ts';
import { withTracingSuppressed } from '../instrument/suppress.ts';
import { describeEndpoint, MessageAccumulator, messageResult, messagesRequest, type Endpoint } from './messages.ts';

const WRAPPED = Symbol.for('parallax.anthropic.wrapped');

type AnyFunction = (this: unknown, ...args: any[]) => any;

interface MessagesLike {
  create: AnyFunction;
  stream?: AnyFunction;
}

interface AnthropicLike {
  baseURL: string;
  messages: MessagesLike;
  beta?: { messages?: MessagesLike };
  withOptions?: AnyFunction;
  openTelemetry?: { propagation?: boolean; traces?: { enabled?: boolean } };
}

/** What every traced call of one client shares. */
interface ClientTracing {
  instrumentation: Instrumentation;
  endpoint: Endpoint;
  /** The SDK traces itself: run it with tracing suppressed. */
  suppress: boolean;
  /** ...and put our trace context on the request, since the suppressed SDK will not. */
  propagate: boolean;
}

export function wrapAnthropic<T extends Anthropic>(client: T, options?: InstrumentationOptions): T {
  const c = client as unknown as AnthropicLike;
  const messages = c.messages;
  if (!messages || typeof messages.create !== 'function' || (messages as unknown as Record<symbol, unknown>)[WRAPPED]) return client;
  let tracing: ClientTracing;
  try {
    const telemetry = c.openTelemetry;
    const suppress = telemetry?.traces?.enabled === true;
    tracing = { instrumentation: createInstrumentation(options), endpoint: describeEndpoint(c.baseURL), suppress, propagate: suppress && telemetry?.propagation !== false };
  } catch (error) {
    diag.debug('@parallax/sdk: could not set up tracing for the Anthropic client; it stays untraced', error);
    return client;
  }
  instrumentMessages(messages, tracing);
  const beta = c.beta?.messages;
  if (beta && typeof beta.create === 'function') instrumentMessages(beta, tracing);
  // withOptions() builds a new client: trace it too, with the same settings.
  if (typeof c.withOptions === 'function') {
    const withOptions = c.withOptions;
    Object.defineProperty(c, 'withOptions', {
      configurable: true,
      writable: true,
      value: function (this: unknown, ...args: unknown[]) {
        return wrapAnthropic(withOptions.apply(this, args), options);
      },
    });
  }
  return client;
}

function instrumentMessages(messages: MessagesLike, tracing: ClientTracing): void {
  const create = messages.create;
  define(messages, 'create', function (this: unknown, body: MessageCreateParams, requestOptions?: unknown) {
    return tracedCreate(tracing, create, this ?? messages, body, requestOptions);
  });
  const stream = messages.stream;
  if (tracing.suppress && typeof stream === 'function') {
    // The MessageStream helper starts the SDK's own span before it calls create: run it suppressed as well.
    define(messages, 'stream', function (this: unknown, ...args: unknown[]) {
      return withTracingSuppressed(stream, this ?? messages, ...args);
    });
  }
  Object.defineProperty(messages, WRAPPED, { value: true });
}

function define(target: object, name: string, value: AnyFunction): void {
  Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
}

function tracedCreate(tracing: ClientTracing, original: AnyFunction, self: unknown, body: MessageCreateParams, requestOptions: unknown): unknown {
  if (body === null || typeof body !== 'object') return original.call(self, body, requestOptions);
  let call: LlmSpan;
  try {
    call = startLlmSpan(tracing.instrumentation, messagesRequest(body, tracing.endpoint));
  } catch (error) {
    diag.debug('@parallax/sdk: could not start the Anthropic span; calling through', error);
    return original.call(self, body, requestOptions);
  }
  let promise: Promise<unknown>;
  try {
    if (tracing.suppress) {
      const sent = tracing.propagate ? withTraceHeaders(requestOptions, call.context) : requestOptions;
      promise = context.with(suppressTracing(call.context), original, self, body, sent);
    } else {
      promise = context.with(call.context, original, self, body, requestOptions);
    }
  } catch (error) {
    // Errors thrown synchronously (bad arguments) reach the caller as they are, and end the span.
    call.fail(error);
    throw error;
  }
  return traceAPIPromise(promise, call, body.stream === true ? onStream : onMessage);
}

/**
 * The request options with our span's trace context (`traceparent`, …) added to the headers. Headers the caller
 * set win; headers given as a `Headers` object or an array are left as they are.
 */
function withTraceHeaders(requestOptions: unknown, ctx: Context): unknown {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (!Object.keys(carrier).length) return requestOptions;
  const options = (requestOptions ?? {}) as { headers?: unknown };
  const headers = options.headers;
  if (headers == null) return { ...options, headers: carrier };
  if (typeof headers !== 'object' || Array.isArray(headers) || headers instanceof Headers) return requestOptions;
  return { ...options, headers: { ...carrier, ...headers } };
}

function onMessage(call: LlmSpan, message: Message): Message {
  call.end(messageResult(message));
  return message;
}

/**
 * Traces the SDK's Stream object in place (its class, `controller`, `tee()` and `toReadableStream()` stay as
 * they are): the span ends once, when the stream completes, fails, is left early (`break`, `abort()`), or is
 * collected unread.
 */
const onStream: OnData = (call, stream) => {
  const accumulator = new MessageAccumulator();
  return traceStream(stream, call, {
    item(event: RawMessageStreamEvent) {
      call.chunk();
      try {
        accumulator.add(event);
      } catch (error) {
        diag.debug('@parallax/sdk: could not read an Anthropic stream event', error);
      }
      return true;
    },
    // The SDK ends a stream its controller aborted without an error: no message_stop means it was cut short.
    done: () => (accumulator.completed ? call.end(safeResult(accumulator)) : call.cancel(safeResult(accumulator))),
    error: (error) => call.fail(error, safeResult(accumulator)),
    cancel: () => call.cancel(safeResult(accumulator)),
  });
};

function safeResult(accumulator: MessageAccumulator) {
  try {
    return accumulator.result();
  } catch {
    return undefined;
  }
}
