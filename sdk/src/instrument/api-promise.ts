// Tracing a call of a Stainless-generated SDK (openai, @anthropic-ai/sdk) without changing what it returns.
// Their methods return an `APIPromise`: a lazy Promise subclass with `.withResponse()`, `.asResponse()` and
// `._thenUnwrap()`, which parses the body only when someone reads the result. We hand the caller the SDK's own
// promise (same object, same class, every helper built on it keeps working) and observe the call at the places it
// can end:
//
// - `responsePromise` (the HTTP exchange) rejects: a network error, an HTTP error status, an abort, a timeout;
// - the body is parsed: the promise's `parseResponse` step, which awaiting it and `.withResponse()` go through,
//   records the result, or ends the span as an error when the body cannot be parsed (a 200 whose body is not JSON);
// - a `_thenUnwrap` derivative the caller makes (e.g. `.parse()` helpers) parses: in openai 7 derivatives parse
//   through a closure, not through `parseResponse`, so their transform records the result and their own parse step
//   is observed for a failure; in older SDKs they parse through our `parseResponse`;
// - `asResponse()` alone takes the raw Response and never parses: the span ends when the response arrives.
//
// Observing `parseResponse` instead of deriving a traced promise with `_thenUnwrap` saves a promise layer per call
// (an APIPromise, its private-field WeakMap entry, an async wrapper): a few microseconds on every call.
//
// `responsePromise` and `parseResponse` are fields of the APIPromise class (openai ≥ 4, @anthropic-ai/sdk ≥ 0.20),
// not documented API. Without them a call is still traced, through a `_thenUnwrap` derivative; only a body that
// fails to parse would then leave its span open.
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
  [ON_DATA]?: OnData;
  [PARSE]?: ParseResponse;
  [THEN_UNWRAP]?: StainlessAPIPromise['_thenUnwrap'];
  [AS_RESPONSE]?: () => Promise<unknown>;
}

/** Records the parsed body on the span (it may instrument a stream in place; it returns what the caller gets). */
export type OnData = (call: LlmSpan, data: any) => unknown;

// State kept on the traced promise itself, so the patched methods are shared functions rather than per-call closures.
const CALL = Symbol('parallax.call');
const ON_DATA = Symbol('parallax.onData');
const PARSE = Symbol('parallax.parseResponse');
const THEN_UNWRAP = Symbol('parallax.thenUnwrap');
const AS_RESPONSE = Symbol('parallax.asResponse');

/**
 * Returns `promise` itself (or, for a plain promise, one chained on it) resolving to `onData(call, data)`, so that
 * `call` ends exactly once, whichever way the call goes. HTTP, network and parse errors end `call` with the error and
 * still reach the caller unchanged. When `onData` throws, the data passes through untouched.
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
  // The request every derivative shares; it rejects with the SDK's own error object.
  const responsePromise = apiPromise.responsePromise;
  if (typeof responsePromise?.then === 'function') responsePromise.then(undefined, (error: unknown) => call.fail(error));
  const parse = apiPromise.parseResponse;
  const traced = typeof parse === 'function' ? apiPromise : apiPromise._thenUnwrap((data) => safely(onData, call, data));
  traced[CALL] = call;
  if (typeof parse === 'function') {
    traced[ON_DATA] = onData;
    traced[PARSE] = parse;
    traced.parseResponse = tracedParseResponse as ParseResponse;
    if (Object.hasOwn(traced, '_thenUnwrap')) {
      traced[THEN_UNWRAP] = traced._thenUnwrap;
      traced._thenUnwrap = tracedThenUnwrap;
    }
  }
  const asResponse = traced.asResponse;
  if (typeof asResponse === 'function') {
    traced[AS_RESPONSE] = asResponse;
    traced.asResponse = tracedAsResponse;
  }
  return traced as unknown as P;
}

/** The promise's own parse step, recording the result, or the failure to parse. */
function tracedParseResponse(this: StainlessAPIPromise, client: unknown, props: unknown): unknown {
  const call = this[CALL]!;
  const onData = this[ON_DATA]!;
  let parsed: unknown;
  try {
    parsed = this[PARSE]!.call(this, client, props);
  } catch (error) {
    call.fail(error);
    throw error;
  }
  if (!(parsed instanceof Promise)) return safely(onData, call, parsed);
  return parsed.then(
    (data) => safely(onData, call, data),
    (error: unknown) => {
      call.fail(error);
      throw error;
    },
  );
}

/** openai 7: a derivative parses through a closure, so its transform records the result first. */
function tracedThenUnwrap(this: StainlessAPIPromise, transform: (data: unknown, props: unknown) => unknown): StainlessAPIPromise {
  const call = this[CALL]!;
  const onData = this[ON_DATA]!;
  const derived = this[THEN_UNWRAP]!.call(this, (data, props) => transform(safely(onData, call, data), props));
  observeParseFailure(derived, call);
  return derived;
}

/** Ends `call` with the error if parsing the body of `promise` (or of a derivative of it) fails. */
function observeParseFailure(promise: StainlessAPIPromise, call: LlmSpan): void {
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
  observeParseFailure(derived, this[CALL]!);
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
