// Tracing a Stainless SDK stream (openai `Stream`, Anthropic `Stream`) in place, so the caller keeps the same
// object: async iteration, `tee()`, `toReadableStream()` and `controller.abort()` all still work, and all of them
// read through the traced iterator. The span ends exactly once: at the end, on error, on `break`, or on abort.
import { diag } from '@opentelemetry/api';

export interface StreamHooks<T> {
  /** Called for each item; return false to hide it from the caller. */
  item(value: T): boolean;
  /** The stream ended normally. */
  done(): void;
  /** The stream failed with this error (it is rethrown to the caller unchanged). */
  error(error: unknown): void;
  /** The caller stopped the stream early: `break`, `return()`, or an abort. */
  cancel(): void;
}

interface StainlessStream<T> {
  controller?: AbortController;
  iterator?: () => AsyncIterator<T>;
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

/** Instruments `stream` in place and returns it. */
export function traceStream<S>(stream: S, hooks: StreamHooks<any>): S {
  const target = stream as unknown as StainlessStream<unknown>;
  let settled = false;
  // While a next() is in flight its outcome decides how the span ends: the SDK aborts its controller on the way
  // out of a failing stream too, and that must stay an error, not become a cancellation.
  let pending = 0;
  const signal = target.controller?.signal;
  const onAbort = () => {
    if (pending === 0) settle('cancel');
  };
  const settle = (how: 'done' | 'cancel' | 'error', error?: unknown) => {
    if (settled) return;
    settled = true;
    signal?.removeEventListener('abort', onAbort);
    try {
      if (how === 'done') {
        // The SDK ends an aborted stream quietly; that is a cancellation, not a completion.
        if (signal?.aborted) hooks.cancel();
        else hooks.done();
      } else if (how === 'cancel') hooks.cancel();
      else hooks.error(error);
    } catch (failure) {
      diag.debug('@parallax/sdk: ending a stream span failed; the stream is unaffected', failure);
    }
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const wrapIterator = (inner: AsyncIterator<unknown>): AsyncIterator<unknown> => {
    const onResult = (result: IteratorResult<unknown>): IteratorResult<unknown> | Promise<IteratorResult<unknown>> => {
      pending--;
      if (result.done) {
        settle('done');
        return result;
      }
      let show = true;
      if (!settled) {
        try {
          show = hooks.item(result.value);
        } catch (failure) {
          diag.debug('@parallax/sdk: recording a stream item failed; the stream is unaffected', failure);
        }
      }
      return show ? result : next();
    };
    const onError = (error: unknown): never => {
      pending--;
      settle('error', error);
      throw error;
    };
    const next = (): Promise<IteratorResult<unknown>> => {
      pending++;
      return inner.next().then(onResult, onError);
    };
    const iterator: AsyncIterator<unknown> & AsyncIterable<unknown> = {
      next,
      return: (value?: unknown) => {
        settle('cancel');
        return inner.return ? inner.return(value) : Promise.resolve({ done: true, value });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    if (inner.throw) iterator.throw = (error?: unknown) => inner.throw!(error);
    return iterator;
  };

  if (typeof target.iterator === 'function') {
    // The private `iterator` field is what async iteration, tee() and toReadableStream() all read from.
    const original = target.iterator;
    target.iterator = function (this: unknown) {
      return wrapIterator(original.call(this));
    };
  } else {
    const original = target[Symbol.asyncIterator];
    Object.defineProperty(target, Symbol.asyncIterator, {
      configurable: true,
      writable: true,
      value: function (this: unknown) {
        return wrapIterator(original.call(this));
      },
    });
  }
  return stream;
}
