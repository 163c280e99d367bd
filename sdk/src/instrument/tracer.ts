import { trace, type Tracer, type TracerProvider } from '@opentelemetry/api';

const TRACER_NAME = '@parallax/sdk';
const TRACER_VERSION = '0.1.0';

let defaultProvider: TracerProvider | undefined;
let defaultTracer: Tracer | undefined;
let defaultDrainsDeferred = false;

/**
 * The provider that spans go to when a wrapper was given none: the one init() chose, else the global one.
 * The global tracer is a proxy, so a client wrapped before init() still reaches the provider init() registers.
 * `drainsDeferred`: init() built this provider, so its flush() and shutdown() finish deferred span ends first
 * (deferred-end.ts) and LLM spans may end off the caller's path.
 */
export function setDefaultTracerProvider(provider: TracerProvider | undefined, drainsDeferred = false): void {
  defaultProvider = provider;
  defaultTracer = undefined;
  defaultDrainsDeferred = provider !== undefined && drainsDeferred;
}

export function getTracer(provider?: TracerProvider): Tracer {
  if (provider) return provider.getTracer(TRACER_NAME, TRACER_VERSION);
  defaultTracer ??= (defaultProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME, TRACER_VERSION);
  return defaultTracer;
}

/** Whether spans of the default tracer may be finished off the caller's path (see setDefaultTracerProvider). */
export function defaultDefersEnds(): boolean {
  return defaultDrainsDeferred;
}
