// init(): send spans to the Parallax collector (or any OTLP/HTTP endpoint) with the smallest possible set-up.
// We build a TracerProvider from @opentelemetry/sdk-trace and the OTLP *protobuf* exporter ourselves rather than
// use @opentelemetry/sdk-node: sdk-node would drag gRPC, metrics and logs exporters into every user's app.
import { context, diag, trace, ProxyTracerProvider, type TracerProvider as ApiTracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { setDefaultContentOptions, type ContentOptions } from './content.ts';
import { drainDeferredEnds } from './instrument/deferred-end.ts';
import { SpanStarts } from './instrument/deferred-start.ts';
import { setDefaultTracerProvider } from './instrument/tracer.ts';

export interface InitOptions extends ContentOptions {
  /**
   * The collector's OTLP/HTTP traces URL (…/v1/traces). Default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else http://localhost:4318/v1/traces.
   */
  endpoint?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. Default: `PARALLAX_API_KEY`. */
  apiKey?: string;
  /** Extra export headers, over those of `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_TRACES_HEADERS`. */
  headers?: Record<string, string>;
  /** `service.name` of the spans. Default: `OTEL_SERVICE_NAME`, else `unknown_service:node`. */
  serviceName?: string;
  /** Export somewhere else than OTLP (e.g. an in-memory exporter in tests). */
  exporter?: SpanExporter;
  /** Use this provider as it is (no exporter of ours, nothing registered globally). */
  tracerProvider?: ApiTracerProvider;
}

export interface InitResult {
  /** The provider spans go to. */
  tracerProvider: ApiTracerProvider;
  /** False when the app had already registered a global tracer provider and that one is used. */
  ownsProvider: boolean;
}

interface State {
  result: InitResult;
  provider: TracerProvider | undefined;
  registered: boolean;
  contextManager: AsyncLocalStorageContextManager | undefined;
}

let state: State | undefined;

/**
 * Sets up tracing once per process; later calls only update the content options (call shutdown() first to
 * start over). `OTEL_SDK_DISABLED=true` turns it into a no-op, as for every OpenTelemetry SDK.
 */
export function init(options: InitOptions = {}): InitResult {
  setDefaultContentOptions(options);
  if (state) return state.result;
  if (process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    return { tracerProvider: trace.getTracerProvider(), ownsProvider: false };
  }
  const contextManager = registerContextManager();

  if (options.tracerProvider) {
    setDefaultTracerProvider(options.tracerProvider);
    const result = { tracerProvider: options.tracerProvider, ownsProvider: false };
    state = { result, provider: undefined, registered: false, contextManager };
    return result;
  }

  const existing = globalProvider();
  if (existing) {
    // The app set up OpenTelemetry itself: our spans join its pipeline, and we change nothing in it.
    setDefaultTracerProvider(undefined);
    const result = { tracerProvider: existing, ownsProvider: false };
    state = { result, provider: undefined, registered: false, contextManager };
    return result;
  }

  const exporter = options.exporter ?? new OTLPTraceExporter({ url: tracesEndpoint(options.endpoint), headers: exportHeaders(options) });
  // The default sampler (parent-based, always on) and random ids, through SpanStarts so that LLM spans can be
  // started after the call with the ids and decision taken when it began (instrument/deferred-start.ts).
  const starts = new SpanStarts();
  const provider = new DrainingTracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter }) as SpanProcessor],
    resource: resource(options.serviceName),
    sampler: starts.sampler,
    idGenerator: starts.idGenerator,
  });
  const registered = trace.setGlobalTracerProvider(provider);
  setDefaultTracerProvider(provider, starts);
  const result = { tracerProvider: provider, ownsProvider: true };
  state = { result, provider, registered, contextManager };
  return result;
}

/**
 * The provider init() builds: LLM spans may be started and ended off the caller's path (instrument/deferred-start.ts,
 * instrument/deferred-end.ts), so flushing or shutting it down — through flush()/shutdown() or directly on
 * `init().tracerProvider` — finishes those first.
 */
class DrainingTracerProvider extends TracerProvider {
  override forceFlush(options?: Parameters<TracerProvider['forceFlush']>[0]): Promise<void> {
    drainDeferredEnds();
    return super.forceFlush(options);
  }

  override shutdown(): Promise<void> {
    drainDeferredEnds();
    return super.shutdown();
  }
}

/** The SDK defaults, then OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME, then the option. */
function resource(serviceName: string | undefined) {
  let merged = defaultResource().merge(detectResources({ detectors: [envDetector] }));
  if (serviceName) merged = merged.merge(resourceFromAttributes({ 'service.name': serviceName }));
  return merged;
}

/**
 * Exports every finished span now: call before a short-lived process (script, serverless handler) exits. Spans of
 * calls that have returned are included: the provider init() builds finishes them first (DrainingTracerProvider).
 */
export async function flush(): Promise<void> {
  const provider = state?.provider ?? globalProvider();
  const flushable = provider as { forceFlush?: () => Promise<void> } | undefined;
  try {
    await flushable?.forceFlush?.();
  } catch (error) {
    diag.debug('@parallax/sdk: flush failed', error);
  }
}

/** Flushes, then stops what init() started. Only undoes what init() itself registered. */
export async function shutdown(): Promise<void> {
  const current = state;
  state = undefined;
  if (!current) return;
  try {
    await current.provider?.shutdown();
  } catch (error) {
    diag.debug('@parallax/sdk: shutdown failed', error);
  }
  if (current.registered) trace.disable();
  if (current.contextManager) {
    current.contextManager.disable();
    context.disable();
  }
  setDefaultTracerProvider(undefined);
}

/** The app's own global provider, or undefined when none is registered (the API's proxy has no delegate). */
function globalProvider(): ApiTracerProvider | undefined {
  const provider = trace.getTracerProvider();
  if (provider instanceof ProxyTracerProvider) {
    // Without a delegate the proxy hands out no-op tracers, and getDelegateTracer() has nothing to return.
    return provider.getDelegateTracer('@parallax/sdk') ? provider.getDelegate() : undefined;
  }
  return provider;
}

/** Context must flow through async code for withContext(), traced() and span parenting to work. */
function registerContextManager(): AsyncLocalStorageContextManager | undefined {
  const manager = new AsyncLocalStorageContextManager();
  manager.enable();
  if (context.setGlobalContextManager(manager)) return manager;
  // The app (or an earlier init) already registered one: keep it.
  manager.disable();
  return undefined;
}

export function tracesEndpoint(explicit?: string): string {
  if (explicit) return explicit;
  const traces = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (traces) return traces;
  const base = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** `key=value,key2=value2`, values percent-decoded, as the OTLP exporter specification defines the env vars. */
function parseHeaderList(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!value) return headers;
  for (const pair of value.split(',')) {
    const index = pair.indexOf('=');
    if (index <= 0) continue;
    const key = pair.slice(0, index).trim();
    const raw = pair.slice(index + 1).trim();
    try {
      headers[key] = decodeURIComponent(raw);
    } catch {
      headers[key] = raw;
    }
  }
  return headers;
}

export function exportHeaders(options: Pick<InitOptions, 'apiKey' | 'headers'>): Record<string, string> {
  const headers = {
    ...parseHeaderList(process.env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseHeaderList(process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    ...options.headers,
  };
  const apiKey = options.apiKey ?? process.env.PARALLAX_API_KEY;
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  return headers;
}
