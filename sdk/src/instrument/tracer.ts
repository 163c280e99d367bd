import { trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import type { SpanStarts } from './deferred-start.ts';

const TRACER_NAME = '@parallax/sdk';
const TRACER_VERSION = '0.1.0';

let defaultProvider: TracerProvider | undefined;
let defaultTracer: Tracer | undefined;
let defaultStarts: SpanStarts | undefined;

/**
 * The provider that spans go to when a wrapper was given none: the one init() chose, else the global one.
 * The global tracer is a proxy, so a client wrapped before init() still reaches the provider init() registers.
 * `starts`: init() built this provider with these ids and sampler installed, and its flush() and shutdown() finish
 * deferred spans first, so LLM spans may be started and ended off the caller's path (deferred-start.ts,
 * deferred-end.ts).
 */
export function setDefaultTracerProvider(provider: TracerProvider | undefined, starts?: SpanStarts): void {
  defaultProvider = provider;
  defaultTracer = undefined;
  defaultStarts = provider === undefined ? undefined : starts;
}

export function getTracer(provider?: TracerProvider): Tracer {
  if (provider) return provider.getTracer(TRACER_NAME, TRACER_VERSION);
  defaultTracer ??= (defaultProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME, TRACER_VERSION);
  return defaultTracer;
}

/** How spans of the default tracer are started off the caller's path, when they may be (see setDefaultTracerProvider). */
export function defaultSpanStarts(): SpanStarts | undefined {
  return defaultStarts;
}
