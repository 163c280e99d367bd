// Running a provider SDK's own code with OpenTelemetry tracing suppressed, for SDKs that trace themselves
// (@anthropic-ai/sdk 1.x): their spans would duplicate ours, and the collector would count usage twice.
//
// A helper like Anthropic's `messages.stream()` keeps running in the suppressed context after it returns (its event
// handlers are called from there), so the context also remembers where the caller was: our own spans — an LLM call
// or a traced() block started from such a handler — start from the caller's context and are still recorded. Spans
// of other instrumentations started in those handlers are suppressed, as OpenTelemetry intends inside an
// instrumented call.
import { context, createContextKey, type Context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

const CALLER_CONTEXT = createContextKey('parallax.caller-context');

/** Runs `fn` with tracing suppressed, remembering the caller's context for our own spans. */
export function withTracingSuppressed<A extends unknown[], R>(fn: (...args: A) => R, self: unknown, ...args: A): R {
  const caller = context.active();
  return context.with(suppressTracing(caller).setValue(CALLER_CONTEXT, caller), fn, self, ...args);
}

/** The context our spans start from: the active one, or the caller's when inside withTracingSuppressed(). */
export function parentContext(): Context {
  const active = context.active();
  return (active.getValue(CALLER_CONTEXT) as Context | undefined) ?? active;
}

/** `ctx` with `key` set, also in the remembered caller's context (so withContext() inside a handler still applies). */
export function setValueForOurSpans(ctx: Context, key: symbol, value: unknown): Context {
  const caller = ctx.getValue(CALLER_CONTEXT) as Context | undefined;
  const next = ctx.setValue(key, value);
  return caller ? next.setValue(CALLER_CONTEXT, caller.setValue(key, value)) : next;
}
