// Traces an `@anthropic-ai/sdk` client in place: `messages.create` (whole and streamed) gets one span per call.
// `messages.stream()` calls `messages.create` on the same resource, so its MessageStream (events, helpers,
// finalMessage()) is traced too, unchanged. What create returns is still an APIPromise: `.withResponse()` and
// `.asResponse()` keep working, and a stream is still the SDK's own Stream object.
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParams, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { context, diag } from '@opentelemetry/api';
import { createInstrumentation, startLlmSpan, type Instrumentation, type InstrumentationOptions, type LlmSpan } from '../instrument/llm-span.ts';
import { describeEndpoint, MessageAccumulator, messageResult, messagesRequest } from './messages.ts';

const WRAPPED = Symbol.for('parallax.anthropic.wrapped');

type CreateFn = (body: MessageCreateParams, options?: unknown) => unknown;

/** The parts of an APIPromise this file relies on (present in @anthropic-ai/sdk since 0.20). */
interface APIPromiseLike<T> extends Promise<T> {
  _thenUnwrap<U>(transform: (data: T, props: unknown) => U): APIPromiseLike<U>;
  _responseProps?(): Promise<unknown>;
  asResponse(): Promise<Response>;
}

export function wrapAnthropic<T extends Anthropic>(client: T, options?: InstrumentationOptions): T {
  const messages = (client as { messages?: { create?: CreateFn } }).messages;
  if (!messages || typeof messages.create !== 'function' || (messages as Record<symbol, unknown>)[WRAPPED]) return client;
  let instrumentation: Instrumentation;
  try {
    instrumentation = createInstrumentation(options);
  } catch (error) {
    diag.debug('@parallax/sdk: could not set up tracing for the Anthropic client; it stays untraced', error);
    return client;
  }
  const original = messages.create;
  const traced: CreateFn = function (this: unknown, body, requestOptions) {
    return tracedCreate(instrumentation, client, original, this ?? messages, body, requestOptions);
  };
  Object.defineProperty(messages, 'create', { value: traced, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(messages, WRAPPED, { value: true });
  return client;
}

function tracedCreate(instrumentation: Instrumentation, client: Anthropic, original: CreateFn, self: unknown, body: MessageCreateParams, requestOptions: unknown): unknown {
  let call: LlmSpan;
  try {
    call = startLlmSpan(instrumentation, messagesRequest(body, describeEndpoint(client.baseURL)));
  } catch (error) {
    diag.debug('@parallax/sdk: could not start the Anthropic span; calling through', error);
    return original.call(self, body, requestOptions);
  }
  // Errors thrown synchronously (bad arguments) reach the caller as they are, and end the span.
  let promise: APIPromiseLike<unknown>;
  try {
    promise = context.with(call.context, () => original.call(self, body, requestOptions)) as APIPromiseLike<unknown>;
  } catch (error) {
    call.fail(error);
    throw error;
  }
  try {
    return observe(promise, call, body.stream === true);
  } catch (error) {
    diag.debug('@parallax/sdk: could not observe the Anthropic call; returning it untraced', error);
    call.end();
    return promise;
  }
}

function observe(promise: APIPromiseLike<unknown>, call: LlmSpan, streaming: boolean): APIPromiseLike<unknown> {
  // The HTTP outcome, watched without reading the body: a failed request (status, network, abort) ends here.
  const responseProps = promise._responseProps?.();
  responseProps?.then(undefined, (error: unknown) => call.fail(error));

  const traced = promise._thenUnwrap((data) => {
    if (streaming) instrumentStream(data as AsyncIterable<RawMessageStreamEvent>, call);
    else call.end(messageResult(data as Parameters<typeof messageResult>[0]));
    return data;
  });
  // A body the caller takes raw is never parsed here: the span then ends with the response, without its content.
  const asResponse = traced.asResponse.bind(traced);
  traced.asResponse = () =>
    asResponse().then((response) => {
      if (!(traced as unknown as { parsedPromise?: unknown }).parsedPromise) call.end();
      return response;
    });
  return traced;
}

/**
 * Traces the SDK's Stream object in place (its class, `controller`, `tee()` and `toReadableStream()` stay as
 * they are): the span ends once, when the stream completes, fails, or is left early (`break`, `abort()`).
 */
function instrumentStream(stream: AsyncIterable<RawMessageStreamEvent>, call: LlmSpan): void {
  const iterate = stream[Symbol.asyncIterator].bind(stream);
  Object.defineProperty(stream, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: () => tracedIterator(iterate(), call),
  });
}

function tracedIterator(inner: AsyncIterator<RawMessageStreamEvent>, call: LlmSpan): AsyncIterator<RawMessageStreamEvent> {
  const accumulator = new MessageAccumulator();
  const finish = () => {
    // The SDK ends a stream its controller aborted without an error: no message_stop means it was cut short.
    if (accumulator.completed) call.end(accumulator.result());
    else call.cancel(accumulator.result());
  };
  return {
    async next() {
      let step: IteratorResult<RawMessageStreamEvent>;
      try {
        step = await inner.next();
      } catch (error) {
        call.fail(error, safeResult(accumulator));
        throw error;
      }
      if (step.done) {
        finish();
        return step;
      }
      call.firstChunk();
      try {
        accumulator.add(step.value);
      } catch (error) {
        diag.debug('@parallax/sdk: could not read an Anthropic stream event', error);
      }
      return step;
    },
    async return(value?: unknown) {
      call.cancel(safeResult(accumulator));
      return (await inner.return?.(value)) ?? { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      call.fail(error, safeResult(accumulator));
      if (inner.throw) return inner.throw(error);
      throw error;
    },
  };
}

function safeResult(accumulator: MessageAccumulator) {
  try {
    return accumulator.result();
  } catch {
    return undefined;
  }
}
