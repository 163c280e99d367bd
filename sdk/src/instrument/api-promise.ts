// Tracing a call of a Stainless-generated SDK (openai, @anthropic-ai/sdk) without changing what it returns.
// Their methods return an `APIPromise`: a lazy Promise subclass with `.withResponse()`, `.asResponse()` and
// `._thenUnwrap()`, which parses the body only when someone reads the result. We derive the result with the SDK's
// own `_thenUnwrap` (same request, same class, every helper built on it keeps working) and observe the call at the
// places it can end:
//
// - `responsePromise` (the HTTP exchange) rejects: a network error, an HTTP error status, an abort, a timeout;
// - the body is parsed: our `_thenUnwrap` transform records the result;
// - the body cannot be parsed (a 200 whose body is not JSON): the transform never runs, so the promise's
//   `parseResponse` step — and that of every `_thenUnwrap` derivative the caller makes, e.g. `.parse()` helpers —
//   is observed for a failure, which ends the span as an error instead of leaving it open;
// - `asResponse()` alone takes the raw Response and never parses: the span ends when the response arrives.
//
// `responsePromise` and `parseResponse` are fields of the APIPromise class (openai ≥ 4, @anthropic-ai/sdk ≥ 0.20),
// not documented API. openai 7 also sets `_thenUnwrap` on each instance (its derivatives then parse through a
// closure, not through `parseResponse`), so the derivatives are observed one by one. Without these fields a call is
// still traced; only a body that fails to parse would then leave its span open.
import { diag } from '@opentelemetry/api';
import type { LlmSpan } from './llm-span.ts';

type ParseResponse = (this: unknown, client: unknown, props: unknown) => unknown;

interface StainlessAPIPromise extends Promise<unknown> {
  _thenUnwrap(transform: (data: unknown, props: unknown) => unknown): StainlessAPIPromise;
  responsePromise?: Promise<unknown>;
  parseResponse?: ParseResponse;
  parsedPromise?: Promise<unknown>;
  asResponse?: () => Promise<unknown>;
  [CALL]?: LlmSpan;
  [PARSE]?: ParseResponse;
  [THEN_UNWRAP]?: StainlessAPIPromise['_thenUnwrap'];
  [AS_RESPONSE]?: () => Promise<unknown>;
}

/** Records the parsed body on the span (it may return a traced stream in place of the data). */
export type OnData = (call: LlmSpan, data: any) => unknown;

// State kept on the traced promise itself, so the patched methods are shared functions rather than per-call closures.
const CALL = Symbol('parallax.call');
const PARSE = Symbol('parallax.parseResponse');
const THEN_UNWRAP = Symbol('parallax.thenUnwrap');
const AS_RESPONSE = Symbol('parallax.asResponse');

/**
 * Returns a promise of the same kind as `promise` that resolves to `onData(call, data)`, so that `call` ends exactly
 * once, whichever way the call goes. HTTP, network and parse errors end `call` with the error and still reach the
 * caller unchanged. When `onData` throws, the data passes through untouched.
 */
export function traceAPIPromise<P extends Promise<unknown>>(promise: P, call: LlmSpan, onData: OnData): P {
  const apiPromise = promise as unknown as StainlessAPIPromise;
  if (typeof apiPromise._thenUnwrap !== 'function') {
    // A custom transport returned a plain promise: observe it the ordinary way.
    return promise.then(
      (data) => safely(onData, call, data),
      (error: unknown) => {
        call.fail(error);
        throw error;
      },
    ) as P;
  }
  const traced = apiPromise._thenUnwrap((data) => safely(onData, call, data));
  observeParse(traced, call);
  // The request every derivative shares; it rejects with the SDK's own error object.
  const responsePromise = apiPromise.responsePromise;
  if (typeof responsePromise?.then === 'function') responsePromise.then(undefined, (error: unknown) => call.fail(error));
  const asResponse = traced.asResponse;
  if (typeof asResponse === 'function') {
    traced[AS_RESPONSE] = asResponse;
    traced.asResponse = tracedAsResponse;
  }
  return traced as unknown as P;
}

/** Ends `call` with the error if parsing the body of `promise` (or of a derivative of it) fails. */
function observeParse(promise: StainlessAPIPromise, call: LlmSpan): void {
  promise[CALL] = call;
  const parse = promise.parseResponse;
  if (typeof parse === 'function') {
    promise[PARSE] = parse;
    promise.parseResponse = observedParseResponse as ParseResponse;
  }
  if (Object.hasOwn(promise, '_thenUnwrap')) {
    promise[THEN_UNWRAP] = promise._thenUnwrap;
    promise._thenUnwrap = observedThenUnwrap;
  }
}

function observedParseResponse(this: StainlessAPIPromise, client: unknown, props: unknown): unknown {
  const call = this[CALL]!;
  let parsed: unknown;
  try {
    parsed = this[PARSE]!.call(this, client, props);
  } catch (error) {
    call.fail(error);
    throw error;
  }
  if (parsed instanceof Promise) parsed.then(undefined, (error: unknown) => call.fail(error));
  return parsed;
}

function observedThenUnwrap(this: StainlessAPIPromise, transform: (data: unknown, props: unknown) => unknown): StainlessAPIPromise {
  const derived = this[THEN_UNWRAP]!.call(this, transform);
  observeParse(derived, this[CALL]!);
  return derived;
}

/** A caller that only reads the raw response never parses it: end the span when the response arrives. */
function tracedAsResponse(this: StainlessAPIPromise): Promise<unknown> {
  const call = this[CALL]!;
  const result = this[AS_RESPONSE]!.call(this);
  if (!this.parsedPromise) result.then(() => call.end(), (error: unknown) => call.fail(error));
  return result;
}

function safely(onData: OnData, call: LlmSpan, data: unknown): unknown {
  try {
    return onData(call, data);
  } catch (error) {
    diag.debug('@parallax/sdk: recording the response failed; the call itself is unaffected', error);
    call.end();
    return data;
  }
}
