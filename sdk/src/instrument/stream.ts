// Tracing a Stainless SDK stream (openai `Stream`, Anthropic `Stream`) in place, so the caller keeps the same
// object: async iteration, `tee()`, `toReadableStream()` and `controller.abort()` all still work, and all of them
// read through the traced iterator. The span ends exactly once: at the end, on error, on `break`, on abort, or —
// for a stream nobody reads to the end and nobody can reach any more — when it is garbage-collected (see
// abandoned.ts).
import { diag } from '@opentelemetry/api';
import { endWhenAbandoned } from './abandoned.ts';
import type { LlmSpan } from './llm-span.ts';

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

const KEEP_ALIVE = Symbol('parallax.stream');

interface StainlessStream<T> {
  controller?: AbortController;
  iterator?: () => AsyncIterator<T>;
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

/**
 * How the stream's span ends. Deliberately holds no reference to the stream: the abort listener and the
 * abandoned-stream registry keep this object alive, and they must not keep the stream alive with it.
 */
class Settler {
  settled = false;
  /**
   * While a next() is in flight its outcome decides how the span ends: the SDK aborts its controller on the way
   * out of a failing stream too, and that must stay an error, not become a cancellation.
   */
  pending = 0;
  readonly hooks: StreamHooks<any>;
  readonly signal: AbortSignal | undefined;

  constructor(hooks: StreamHooks<any>, signal: AbortSignal | undefined) {
    this.hooks = hooks;
    this.signal = signal;
  }

  onAbort = (): void => {
    if (this.pending === 0) this.settle('cancel');
  };

  settle(how: 'done' | 'cancel' | 'error', error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    try {
      if (how === 'done') {
        // The SDK ends an aborted stream quietly; that is a cancellation, not a completion.
        if (this.signal?.aborted) this.hooks.cancel();
        else this.hooks.done();
      } else if (how === 'cancel') this.hooks.cancel();
      else this.hooks.error(error);
    } catch (failure) {
      diag.debug('@parallax/sdk: ending a stream span failed; the stream is unaffected', failure);
    }
  }
}

/** Instruments `stream` in place and returns it. `call` is ended as abandoned if the stream is collected unsettled. */
export function traceStream<S>(stream: S, call: LlmSpan, hooks: StreamHooks<any>): S {
  const target = stream as unknown as StainlessStream<unknown>;
  const signal = target.controller?.signal;
  const settler = new Settler(hooks, signal);
  signal?.addEventListener('abort', settler.onAbort, { once: true });
  endWhenAbandoned(stream as object, call);

  const wrapIterator = (inner: AsyncIterator<unknown>): AsyncIterator<unknown> => {
    const onResult = (result: IteratorResult<unknown>): IteratorResult<unknown> | Promise<IteratorResult<unknown>> => {
      settler.pending--;
      if (result.done) {
        settler.settle('done');
        return result;
      }
      let show = true;
      if (!settler.settled) {
        try {
          show = hooks.item(result.value);
        } catch (failure) {
          diag.debug('@parallax/sdk: recording a stream item failed; the stream is unaffected', failure);
        }
      }
      return show ? result : next();
    };
    const onError = (error: unknown): never => {
      settler.pending--;
      settler.settle('error', error);
      throw error;
    };
    const next = (): Promise<IteratorResult<unknown>> => {
      settler.pending++;
      return inner.next().then(onResult, onError);
    };
    const iterator: AsyncIterator<unknown> & AsyncIterable<unknown> & { [KEEP_ALIVE]: unknown } = {
      // Whoever holds an iterator (a for-await loop, a tee() branch, toReadableStream()) can still read the stream,
      // so it must keep the stream from being collected as abandoned.
      [KEEP_ALIVE]: stream,
      next,
      return: (value?: unknown) => {
        settler.settle('cancel');
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
