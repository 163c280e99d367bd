// Request-scoped context (session, user, tags, metadata, prompt) carried in the OpenTelemetry context, so
// every LLM span started inside withContext() gets it, however deep the call stack.
import { context, createContextKey, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_PARALLAX_METADATA_PREFIX,
  ATTR_PARALLAX_PROMPT_NAME,
  ATTR_PARALLAX_PROMPT_VERSION,
  ATTR_PARALLAX_TAGS,
  ATTR_SESSION_ID,
  ATTR_USER_ID,
} from './semconv.ts';
import { parentContext, setValueForOurSpans } from './instrument/suppress.ts';
import { getTracer } from './instrument/tracer.ts';

export interface PromptRef {
  name: string;
  version?: string | number;
}

export interface ParallaxContext {
  sessionId?: string;
  userId?: string;
  /** Added to the tags of an enclosing withContext(). */
  tags?: string[];
  /** Merged over the metadata of an enclosing withContext(). */
  metadata?: Record<string, string | number | boolean>;
  prompt?: PromptRef;
}

interface Stored {
  value: ParallaxContext;
  /** Computed once per withContext() so each span start only copies them. */
  attributes: Attributes;
}

const PARALLAX_CONTEXT = createContextKey('parallax.context');

/** Runs `fn` with these values on every span started inside it (sync or async). Nested calls merge. */
export function withContext<T>(values: ParallaxContext, fn: () => T): T {
  const active = context.active();
  const parent = active.getValue(PARALLAX_CONTEXT) as Stored | undefined;
  const merged = parent ? mergeContext(parent.value, values) : values;
  const stored: Stored = { value: merged, attributes: toAttributes(merged) };
  return context.with(setValueForOurSpans(active, PARALLAX_CONTEXT, stored), fn);
}

/** The values set by the innermost withContext() around the current code, if any. */
export function getContext(ctx: Context = context.active()): ParallaxContext | undefined {
  return (ctx.getValue(PARALLAX_CONTEXT) as Stored | undefined)?.value;
}

/** Span attributes for the withContext() values active in `ctx`. */
export function contextAttributes(ctx: Context): Attributes | undefined {
  return (ctx.getValue(PARALLAX_CONTEXT) as Stored | undefined)?.attributes;
}

export interface TracedOptions {
  attributes?: Attributes;
}

/**
 * Runs `fn` inside a new span named `name`, so the LLM calls it makes become its children: one request, one
 * trace. Works for sync and async functions; an error thrown (or rejected) is recorded and passed on unchanged.
 */
export function traced<T>(name: string, fn: (span: Span) => T, options?: TracedOptions): T {
  const parent = parentContext();
  let span: Span | undefined;
  try {
    const ctxAttributes = contextAttributes(parent);
    const attributes = ctxAttributes || options?.attributes ? { ...ctxAttributes, ...options?.attributes } : undefined;
    span = getTracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
  } catch {
    span = undefined;
  }
  if (!span) return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  const active = span;
  let result: T;
  try {
    result = context.with(trace.setSpan(parent, active), fn, undefined, active);
  } catch (error) {
    endWithError(active, error);
    throw error;
  }
  if (isPromiseLike(result)) {
    return result.then(
      (value) => {
        active.end();
        return value;
      },
      (error: unknown) => {
        endWithError(active, error);
        throw error;
      },
    ) as T;
  }
  active.end();
  return result;
}

function endWithError(span: Span, error: unknown): void {
  try {
    const err = error instanceof Error ? error : undefined;
    span.setAttribute(ATTR_ERROR_TYPE, err?.constructor?.name || typeof error);
    if (err) span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err?.message ?? String(error) });
    span.end();
  } catch {
    // Tracing must never change what the caller sees.
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function mergeContext(outer: ParallaxContext, inner: ParallaxContext): ParallaxContext {
  const tags = outer.tags && inner.tags ? [...new Set([...outer.tags, ...inner.tags])] : (inner.tags ?? outer.tags);
  const metadata = outer.metadata && inner.metadata ? { ...outer.metadata, ...inner.metadata } : (inner.metadata ?? outer.metadata);
  return {
    sessionId: inner.sessionId ?? outer.sessionId,
    userId: inner.userId ?? outer.userId,
    tags,
    metadata,
    prompt: inner.prompt ?? outer.prompt,
  };
}

function toAttributes(values: ParallaxContext): Attributes {
  const attributes: Attributes = {};
  if (values.sessionId !== undefined) attributes[ATTR_SESSION_ID] = values.sessionId;
  if (values.userId !== undefined) attributes[ATTR_USER_ID] = values.userId;
  if (values.tags?.length) attributes[ATTR_PARALLAX_TAGS] = [...values.tags];
  if (values.metadata) {
    for (const key of Object.keys(values.metadata)) {
      const value = values.metadata[key];
      if (value !== undefined) attributes[ATTR_PARALLAX_METADATA_PREFIX + key] = value;
    }
  }
  if (values.prompt) {
    attributes[ATTR_PARALLAX_PROMPT_NAME] = values.prompt.name;
    if (values.prompt.version !== undefined) attributes[ATTR_PARALLAX_PROMPT_VERSION] = String(values.prompt.version);
  }
  return attributes;
}
