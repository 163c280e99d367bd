import { trace, type Tracer, type TracerProvider } from '@opentelemetry/api';

const TRACER_NAME = '@parallax/sdk';
const TRACER_VERSION = '0.1.0';

let defaultProvider: TracerProvider | undefined;
let defaultTracer: Tracer | undefined;

/**
 * The provider that spans go to when a wrapper was given none: the one init() chose, else the global one.
 * The global tracer is a proxy, so a client wrapped before init() still reaches the provider init() registers.
 */
export function setDefaultTracerProvider(provider: TracerProvider | undefined): void {
  defaultProvider = provider;
  defaultTracer = undefined;
}

export function getTracer(provider?: TracerProvider): Tracer {
  if (provider) return provider.getTracer(TRACER_NAME, TRACER_VERSION);
  defaultTracer ??= (defaultProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME, TRACER_VERSION);
  return defaultTracer;
}
