// On the provider init() builds, an LLM span is created only when it is finished, after the call (deferred-start.ts).
// What a user relies on must not change: HTTP spans made inside the call are its children, the trace context sent
// with the request names it, a parent's sampling decision is followed, and its start time is when the call began.
import Anthropic from '@anthropic-ai/sdk';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';
import { hrTimeToMilliseconds, suppressTracing, TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { startAnthropicServer, startOpenAIServer, type AnthropicServer, type OpenAIServer } from '@parallax/testing';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traced, withContext } from '../context.ts';
import { flush, init, shutdown } from '../init.ts';
import { RecordingExporter } from '../testing/spans.ts';
import { wrap } from '../wrap.ts';
import { SpanStarts } from './deferred-start.ts';

const w3c = new W3CTraceContextPropagator();
let server: OpenAIServer;
let anthropicServer: AnthropicServer;
let exporter: RecordingExporter;

beforeAll(async () => {
  [server, anthropicServer] = await Promise.all([startOpenAIServer(), startAnthropicServer()]);
});
afterAll(async () => {
  await Promise.all([server.close(), anthropicServer.close()]);
});
beforeEach(() => {
  exporter = new RecordingExporter();
  init({ exporter });
});
afterEach(async () => {
  await shutdown();
});

/** What an app's HTTP auto-instrumentation does around each request: a client span, and the trace context sent. */
interface SeenInCall {
  active: { recording: boolean; spanContext: SpanContext | undefined };
}
function instrumentedFetch(seen: SeenInCall[]): typeof fetch {
  return async (input, requestInit) => {
    const active = trace.getActiveSpan();
    seen.push({ active: { recording: active?.isRecording() ?? false, spanContext: active?.spanContext() } });
    const span = trace.getTracer('app-http').startSpan('POST', { kind: SpanKind.CLIENT });
    const headers = new Headers(requestInit?.headers);
    w3c.inject(trace.setSpan(context.active(), span), headers, { set: (carrier, key, value) => carrier.set(key, value) });
    try {
      return await fetch(input, { ...requestInit, headers });
    } finally {
      span.end();
    }
  };
}

function client(seen: SeenInCall[] = [], tracerProvider?: TracerProvider): OpenAI {
  return wrap(new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0, fetch: instrumentedFetch(seen) }), tracerProvider ? { tracerProvider } : undefined);
}

const hi = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hi' }] };

function named(name: string): ReadableSpan {
  const span = exporter.spans.find((s) => s.name === name);
  if (!span) throw new Error(`no span named ${name} among ${exporter.spans.map((s) => s.name).join(', ')}`);
  return span;
}

/** A context holding a parent that arrived with a request, as an HTTP server instrumentation extracts it. */
function remoteParent(flags: string, tracestate?: string): Context {
  const carrier: Record<string, string> = { traceparent: `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-${flags}` };
  if (tracestate) carrier.tracestate = tracestate;
  return w3c.extract(ROOT_CONTEXT, carrier, { get: (c, key) => c[key], keys: (c) => Object.keys(c) });
}

describe('a span started after the call keeps its place in the trace', () => {
  it('HTTP spans made inside the call are its children, and the request carries its trace context', async () => {
    const seen: SeenInCall[] = [];
    await client(seen).chat.completions.create(hi);
    await flush();
    const llm = named('chat gpt-4o-mini');
    const http = named('POST');
    expect(http.parentSpanContext?.spanId).toBe(llm.spanContext().spanId);
    expect(http.spanContext().traceId).toBe(llm.spanContext().traceId);
    expect(llm.parentSpanContext).toBeUndefined();
    expect(server.lastRequest().headers.traceparent).toBe(`00-${llm.spanContext().traceId}-${http.spanContext().spanId}-01`);
    // The active span during the call is a non-recording stand-in with the LLM span's ids.
    expect(seen[0]!.active).toEqual({ recording: false, spanContext: llm.spanContext() });
  });

  it('a trace context propagated from the active span names the LLM span', async () => {
    let sent: Record<string, string> = {};
    const propagating = wrap(
      new OpenAI({
        baseURL: server.url,
        apiKey: 'test',
        maxRetries: 0,
        fetch: (input, requestInit) => {
          sent = {};
          w3c.inject(context.active(), sent, { set: (carrier, key, value) => (carrier[key] = value) });
          return fetch(input, requestInit);
        },
      }),
    );
    await propagating.chat.completions.create(hi);
    await flush();
    const llm = named('chat gpt-4o-mini');
    expect(sent.traceparent).toBe(`00-${llm.spanContext().traceId}-${llm.spanContext().spanId}-01`);
  });

  it('an Anthropic call, run with tracing suppressed (the SDK traces itself), sends the LLM span as the parent', async () => {
    propagation.setGlobalPropagator(w3c);
    try {
      anthropicServer.enqueue({ text: 'Hello', usage: { input_tokens: 3, output_tokens: 1 } });
      const anthropic = wrap(new Anthropic({ apiKey: 'test', baseURL: anthropicServer.url, maxRetries: 0 }));
      await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] });
      await flush();
    } finally {
      propagation.disable();
    }
    expect(exporter.spans.map((span) => span.name)).toEqual(['chat claude-haiku-4-5']);
    const llm = exporter.spans[0]!.spanContext();
    expect(anthropicServer.requests.at(-1)!.headers.traceparent).toBe(`00-${llm.traceId}-${llm.spanId}-01`);
  });

  it('inside traced() and withContext(): the parent, the trace, the context attributes', async () => {
    await traced('handler', () => withContext({ sessionId: 'sess-1' }, () => client().chat.completions.create(hi)));
    await flush();
    const handler = named('handler');
    const llm = named('chat gpt-4o-mini');
    expect(llm.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
    expect(llm.spanContext().traceId).toBe(handler.spanContext().traceId);
    expect(named('POST').parentSpanContext?.spanId).toBe(llm.spanContext().spanId);
    expect(llm.attributes['session.id']).toBe('sess-1');
  });

  it('a sampled remote parent: its trace, its trace state, and the LLM span as its child', async () => {
    await context.with(remoteParent('01', 'vendor=value'), () => client().chat.completions.create(hi));
    await flush();
    const llm = named('chat gpt-4o-mini');
    expect(llm.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(llm.parentSpanContext).toMatchObject({ spanId: 'b7ad6b7169203331', isRemote: true });
    expect(llm.spanContext().traceState?.serialize()).toBe('vendor=value');
    expect(llm.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(server.lastRequest().headers.tracestate).toBe('vendor=value');
  });

  it('a remote parent that was not sampled: nothing is recorded, and the request says so', async () => {
    await context.with(remoteParent('00'), () => client().chat.completions.create(hi));
    await flush();
    expect(exporter.spans).toEqual([]);
    const traceparent = String(server.lastRequest().headers.traceparent);
    expect(traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
  });

  it('with tracing suppressed: no span, no trace context sent', async () => {
    const seen: SeenInCall[] = [];
    await context.with(suppressTracing(context.active()), () => client(seen).chat.completions.create(hi));
    await flush();
    expect(exporter.spans).toEqual([]);
    expect(server.lastRequest().headers.traceparent).toBeUndefined();
    expect(seen[0]!.active.spanContext?.traceFlags).toBe(TraceFlags.NONE);
  });

  it('the start time is when the call began, not when the span was created', async () => {
    const began = performance.timeOrigin + performance.now();
    await client().chat.completions.create(hi);
    const returned = performance.timeOrigin + performance.now();
    // Keep the thread busy, so that the span is created well after the call.
    while (performance.timeOrigin + performance.now() < returned + 30);
    await flush();
    const llm = named('chat gpt-4o-mini');
    const start = hrTimeToMilliseconds(llm.startTime);
    // Date.now() anchors span times, with millisecond resolution.
    expect(start).toBeGreaterThanOrEqual(began - 1);
    expect(start).toBeLessThanOrEqual(hrTimeToMilliseconds(named('POST').startTime) + 1);
    expect(hrTimeToMilliseconds(llm.endTime)).toBeLessThanOrEqual(returned + 1);
    expect(hrTimeToMilliseconds(llm.duration)).toBeGreaterThan(0);
  });

  it("an app's own provider still starts the span during the call", async () => {
    const own = new InMemorySpanExporter();
    const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: own })] });
    const seen: SeenInCall[] = [];
    await client(seen, tracerProvider).chat.completions.create(hi);
    const [llm] = own.getFinishedSpans();
    expect(seen[0]!.active).toEqual({ recording: true, spanContext: llm!.spanContext() });
  });
});

describe('SpanStarts', () => {
  function setup(processors: SpanProcessor[] = []) {
    const starts = new SpanStarts();
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory }), ...processors],
      sampler: starts.sampler,
      idGenerator: starts.idGenerator,
    });
    return { starts, memory, tracer: provider.getTracer('test') };
  }

  const parents: Array<[string, Context]> = [
    ['no parent', ROOT_CONTEXT],
    ['a sampled local parent', trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED })],
    ['a local parent not sampled', trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.NONE })],
    ['a sampled remote parent', remoteParent('01', 'k=v')],
    ['a remote parent not sampled', remoteParent('00')],
    ['an invalid parent', trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TraceFlags.SAMPLED })],
  ];

  it.each(parents)('plans what the stock parent-based always-on sampler decides, under %s', (_, parent) => {
    const stock = new TracerProvider({ sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }) }).getTracer('stock').startSpan('x', {}, parent);
    const planned = new SpanStarts().plan(parent)!;
    expect(planned.sampled).toBe(stock.isRecording());
    expect(planned.spanContext.traceFlags).toBe(stock.spanContext().traceFlags);
    expect(planned.spanContext.traceState).toBe(stock.spanContext().traceState);
    const parentTraceId = trace.getSpanContext(parent)?.traceId;
    expect(planned.spanContext.traceId === parentTraceId).toBe(stock.spanContext().traceId === parentTraceId);
  });

  it('starts the planned span with the planned ids, the given start time and the parent', () => {
    const { starts, memory, tracer } = setup();
    const parent = parents[1]![1];
    const planned = starts.plan(parent)!;
    const { traceId, spanId } = planned.spanContext;
    const startTime = performance.now() - 50;
    starts.start(tracer, planned, 'chat m', SpanKind.CLIENT, { 'gen_ai.operation.name': 'chat' }, startTime, parent).end();
    const [span] = memory.getFinishedSpans();
    expect(span!.spanContext()).toMatchObject({ traceId, spanId, traceFlags: TraceFlags.SAMPLED });
    expect(span!.parentSpanContext?.spanId).toBe('b'.repeat(16));
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.attributes).toEqual({ 'gen_ai.operation.name': 'chat' });
    expect(hrTimeToMilliseconds(span!.duration)).toBeGreaterThanOrEqual(49);
  });

  it('other spans of the provider, also one started from a span processor, get ids of their own', () => {
    const inner: Span[] = [];
    let tracer: ReturnType<typeof setup>['tracer'];
    const startsAnother: SpanProcessor = {
      onStart: (span) => {
        if (span.name === 'chat m') inner.push(tracer.startSpan('from onStart', {}, ROOT_CONTEXT) as Span);
      },
      onEnd: () => {},
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const made = setup([startsAnother]);
    tracer = made.tracer;
    const planned = made.starts.plan(ROOT_CONTEXT)!;
    const before = tracer.startSpan('before', {}, ROOT_CONTEXT);
    const llm = made.starts.start(tracer, planned, 'chat m', SpanKind.CLIENT, {}, performance.now(), ROOT_CONTEXT);
    const after = tracer.startSpan('after', {}, ROOT_CONTEXT);
    expect(llm.spanContext()).toEqual(planned.spanContext);
    const ids = [before, inner[0]!, after].map((span) => span.spanContext());
    for (const id of ids) {
      expect(id.spanId).not.toBe(planned.spanContext.spanId);
      expect(id.traceId).not.toBe(planned.spanContext.traceId);
      expect(id.traceFlags).toBe(TraceFlags.SAMPLED);
    }
  });

  it('a trace state from the parent is kept as it is', () => {
    const state = new TraceState('k=v');
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: TraceFlags.SAMPLED, traceState: state });
    expect(new SpanStarts().plan(parent)!.spanContext.traceState).toBe(state);
  });
});
