// Tracing a call of a Stainless-generated SDK (openai, @anthropic-ai/sdk) without changing what it returns.
// Their methods return an `APIPromise`: a lazy Promise subclass with `.withResponse()`, `.asResponse()` and
// `._thenUnwrap()`. Awaiting it into a plain Promise would lose those, so we derive the result with the SDK's own
// `_thenUnwrap` (same request, same class) and watch the shared response promise for transport and HTTP errors.
import { diag } from '@opentelemetry/api';
import type { LlmSpan } from './llm-span.ts';

interface StainlessAPIPromise<T> extends Promise<T> {
  _thenUnwrap<U>(transform: (data: T, props: unknown) => U): StainlessAPIPromise<U>;
  asResponse(): Promise<unknown>;
}

/**
 * Returns a promise of the same kind as `promise` that resolves to `onData(data)` (which records the result on
 * `call`, and may return a traced stream in place of the data). HTTP and network errors end `call` with the
 * error and still reach the caller unchanged. When `onData` throws, the data passes through untouched.
 */
export function traceAPIPromise<P extends Promise<unknown>>(promise: P, call: LlmSpan, onData: (data: any) => unknown): P {
  const apiPromise = promise as unknown as StainlessAPIPromise<unknown>;
  if (typeof apiPromise._thenUnwrap !== 'function') {
    // A custom transport returned a plain promise: observe it the ordinary way.
    return promise.then(
      (data) => safely(onData, data, call),
      (error: unknown) => {
        call.fail(error);
        throw error;
      },
    ) as P;
  }
  const traced = apiPromise._thenUnwrap((data) => safely(onData, data, call));
  // `responsePromise` is the request both APIPromises share; it rejects with the SDK's own error object.
  const responsePromise = (apiPromise as unknown as { responsePromise?: Promise<unknown> }).responsePromise;
  if (responsePromise && typeof responsePromise.then === 'function') {
    responsePromise.then(undefined, (error: unknown) => call.fail(error));
  }
  // A caller that only reads the raw response never parses it: end the span when the response arrives.
  const asResponse = traced.asResponse;
  if (typeof asResponse === 'function') {
    Object.defineProperty(traced, 'asResponse', {
      configurable: true,
      writable: true,
      value: function (this: typeof traced) {
        const result = asResponse.call(this);
        if (!(this as unknown as { parsedPromise?: unknown }).parsedPromise) {
          result.then(() => call.end(), (error: unknown) => call.fail(error));
        }
        return result;
      },
    });
  }
  return traced as unknown as P;
}

function safely(onData: (data: any) => unknown, data: unknown, call: LlmSpan): unknown {
  try {
    return onData(data);
  } catch (error) {
    diag.debug('@parallax/sdk: recording the response failed; the call itself is unaffected', error);
    call.end();
    return data;
  }
}
