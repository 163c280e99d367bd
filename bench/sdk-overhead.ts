// What wrap() costs an app: the raw `openai` client against the wrapped one, side by side in one run.
// The "server" is an in-process fetch that answers from pre-built bytes, so no network time hides the overhead.
// Spans go through the pipeline init() sets up (TracerProvider + BatchSpanProcessor + async context) to an exporter
// that drops them: exporting happens off the call path, and its cost is the collector's, not the caller's.
//
// Creating and ending the span run after the caller has its result (sdk/src/instrument/deferred-start.ts and
// deferred-end.ts, one setImmediate).
// So that this work is measured rather than left for after the loop, the fake server answers after a macrotask, as
// a socket does, and two wall times are taken:
// - caller's path: one idle event-loop turn between calls, outside the timed window, where deferred work runs —
//   what a caller waits for when the network takes longer than that work (always, against a real provider);
// - back to back: no gap, so the previous call's deferred work lands inside the next call's window — what a
//   process that never idles (CPU-bound) pays.
// The CPU rows count everything, deferred work included: each block of calls ends with the turn that drains it.
//
//   node bench/sdk-overhead.ts            (or `pnpm bench` for every benchmark)
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { flush, init, shutdown, wrap } from '@parallax/sdk';
import { createInstrumentation, startLlmSpan } from '../sdk/src/instrument/llm-span.ts';
import { traceChatStream } from '../sdk/src/openai/wrap.ts';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CALLS = Number(process.env.BENCH_CALLS ?? 30_000);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 60);
const SHORT_STREAM = 10;
/** Long enough that the per-stream cost (one span) is noise next to the per-chunk cost. */
const LONG_STREAM = 2000;

// ------------------------------------------------------------------------------------------------------------
// The in-process OpenAI

const completionBody = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_767_225_600,
  model: 'gpt-4o-mini-2024-07-18',
  system_fingerprint: 'fp_bench',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'The capital of France is Paris. It has been the capital since 508 AD.', refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
});

const encoder = new TextEncoder();

function sseBytes(chunks: number, includeUsage: boolean): Uint8Array[] {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_767_225_600, model: 'gpt-4o-mini-2024-07-18' };
  const events: string[] = [];
  const usage = includeUsage ? { usage: null } : {};
  events.push(JSON.stringify({ ...base, ...usage, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }));
  for (let i = 0; i < chunks; i++) events.push(JSON.stringify({ ...base, ...usage, choices: [{ index: 0, delta: { content: ` tok${i}` }, finish_reason: null }] }));
  events.push(JSON.stringify({ ...base, ...usage, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
  if (includeUsage) events.push(JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 42, completion_tokens: chunks, total_tokens: 42 + chunks } }));
  events.push('[DONE]');
  return events.map((e) => encoder.encode(`data: ${e}\n\n`));
}

const streams = new Map<string, Uint8Array[]>();
for (const n of [SHORT_STREAM, LONG_STREAM]) for (const usage of [false, true]) streams.set(`${n}:${usage}`, sseBytes(n, usage));

/** One turn of the event loop: what a socket's response waits for at the least. */
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

const fakeFetch: typeof fetch = async (_url, init) => {
  const body = JSON.parse(String(init?.body));
  await macrotask();
  if (!body.stream) {
    return new Response(completionBody, { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'req_bench' } });
  }
  const events = streams.get(`${body.messages.length === 1 ? SHORT_STREAM : LONG_STREAM}:${body.stream_options?.include_usage === true}`)!;
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < events.length) controller.enqueue(events[i++]!);
      else controller.close();
    },
  });
  return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream', 'x-request-id': 'req_bench' } });
};

// ------------------------------------------------------------------------------------------------------------
// Clients

class DroppingExporter implements SpanExporter {
  exported = 0;
  last: ReadableSpan | undefined;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.exported += spans.length;
    this.last = spans.at(-1);
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const exporter = new DroppingExporter();
init({ exporter });

const options = { apiKey: 'bench', baseURL: 'https://api.openai.com/v1', fetch: fakeFetch, maxRetries: 0 };
const raw = new OpenAI(options);
const wrapped = wrap(new OpenAI(options));
const wrappedNoContent = wrap(new OpenAI(options), { captureContent: false });

const request = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system' as const, content: 'You are a helpful geography assistant. Answer in one or two sentences.' },
    { role: 'user' as const, content: 'What is the capital of France, and since when?' },
  ],
  temperature: 0.2,
  max_tokens: 200,
};
/**
 * The OpenTelemetry SDK used the plain way, measured apart: the raw client with the least a tracer must do around a
 * call — start a span with the attributes wrap() starts with, run the call in its context, observe the parsed body
 * through the promise's own parse step, and after the caller has its result set every other attribute wrap() records
 * (content JSON made once, ahead: serialising is ours) and end the span at the time the call ended. Attribute objects
 * are literals built per call, as wrap() builds them. Its CPU time is OpenTelemetry's share of the whole. wrap() on
 * init()'s provider creates its span only after the call (sdk/src/instrument/deferred-start.ts), so on the caller's
 * path it does less OpenTelemetry work than this span, and can cost less than it.
 */
function bareSpanClient(content: { system: string; input: string; output: string }): OpenAI {
  const client = new OpenAI(options);
  type Parse = (this: unknown, client: unknown, props: unknown) => Promise<any>;
  type Create = (this: unknown, body: any, requestOptions: unknown) => { parseResponse: Parse };
  const completions = client.chat.completions as unknown as { create: Create };
  const create = completions.create;
  const tracer = trace.getTracer('bench-bare-span');
  completions.create = function (body, requestOptions) {
    const parent = context.active();
    const attributes = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': body.model,
      'server.address': 'api.openai.com',
      'server.port': 443,
    };
    const span = tracer.startSpan(`chat ${body.model}`, { kind: SpanKind.CLIENT, attributes }, parent);
    const promise = context.with(trace.setSpan(parent, span), create, this, body, requestOptions);
    const parse = promise.parseResponse;
    promise.parseResponse = function (client, props) {
      return parse.call(this, client, props).then((data) => {
        const ended = performance.now();
        setImmediate(() => {
          span.setAttributes({
            'gen_ai.request.temperature': body.temperature,
            'gen_ai.request.max_tokens': body.max_tokens,
            'gen_ai.response.id': data.id,
            'gen_ai.response.model': data.model,
            'gen_ai.response.finish_reasons': [data.choices[0].finish_reason],
            'gen_ai.usage.input_tokens': data.usage.prompt_tokens,
            'gen_ai.usage.output_tokens': data.usage.completion_tokens,
            'openai.response.system_fingerprint': data.system_fingerprint,
            'gen_ai.system_instructions': content.system,
            'gen_ai.input.messages': content.input,
            'gen_ai.output.messages': content.output,
          });
          span.end(ended);
        });
        return data;
      });
    };
    return promise;
  };
  return client;
}

const shortStream = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Count.' }], stream: true as const };
const longStream = { ...shortStream, messages: [{ role: 'system' as const, content: 'long' }, ...shortStream.messages] };

// ------------------------------------------------------------------------------------------------------------
// Measurement

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

interface Samples {
  /** Wall-clock µs of each call, sorted. */
  wall: number[];
  /** CPU µs (user + system) within each call's timed window, sorted: not inflated when the machine deschedules us. */
  pathCpu: number[];
  /** CPU µs (user + system) per call of each block, sorted: steadier than wall time on a shared machine. */
  cpu: number[];
}

/**
 * Per-call latency, the clients interleaved in small blocks so drift (JIT, GC, other processes) hits all alike.
 * `gap`: an idle event-loop turn after each call, outside the timed window (see the top of this file).
 */
async function latencies(clients: OpenAI[], calls: number, block: number, gap: boolean, run: (c: OpenAI) => Promise<unknown>): Promise<Samples[]> {
  const samples = clients.map((): Samples => ({ wall: [], pathCpu: [], cpu: [] }));
  for (let done = 0; done < calls; done += block) {
    for (let c = 0; c < clients.length; c++) {
      const client = clients[c]!;
      const out = samples[c]!;
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < block; i++) {
        const cpuAtStart = process.cpuUsage();
        const start = performance.now();
        await run(client);
        out.wall.push((performance.now() - start) * 1000);
        const used = process.cpuUsage(cpuAtStart);
        out.pathCpu.push(used.user + used.system);
        if (gap) await macrotask();
      }
      // The block's deferred work runs inside its CPU time, not the next client's.
      if (!gap) await macrotask();
      const cpu = process.cpuUsage(cpuStart);
      out.cpu.push((cpu.user + cpu.system) / block);
    }
  }
  for (const s of samples) for (const list of [s.wall, s.pathCpu, s.cpu]) list.sort((a, b) => a - b);
  return samples;
}

async function consume(client: OpenAI, params: ChatCompletionCreateParamsStreaming): Promise<number> {
  let n = 0;
  for await (const _ of await client.chat.completions.create(params)) n++;
  return n;
}

async function retainedAfter(client: OpenAI, calls: number): Promise<{ retained: number; churn: number }> {
  await flush();
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  for (let i = 0; i < calls; i++) {
    await client.chat.completions.create(request);
    await macrotask();
    if (i % 500 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  await flush();
  gc();
  gc();
  return { retained: process.memoryUsage().heapUsed - before, churn: peak - before };
}

/**
 * Our per-chunk work alone: the traced iterator and the chat stream state over chunks already parsed, against the
 * same chunks iterated bare. End to end, each chunk costs the openai client ~10 µs of SSE parsing, whose noise
 * buries a fraction of a microsecond; here nothing else runs. Median CPU µs per chunk of `rounds` interleaved runs.
 */
async function tracedIteratorPerChunk(captureContent: boolean, rounds: number): Promise<{ bare: number; traced: number }> {
  const chunks = Array.from({ length: LONG_STREAM }, (_, i) => ({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1_767_225_600,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, delta: { content: ` tok${i}` }, finish_reason: null }],
  }));
  // The shape of the SDK's Stream that the tracer relies on: an `iterator` field and a controller.
  const stream = () => ({
    controller: new AbortController(),
    iterator: async function* () {
      yield* chunks;
    },
    [Symbol.asyncIterator]() {
      return this.iterator();
    },
  });
  const instrumentation = createInstrumentation({ captureContent });
  const traced = () => traceChatStream(stream(), startLlmSpan(instrumentation, { operation: 'chat', provider: 'openai', model: 'gpt-4o-mini' }), false);
  const read = async (s: AsyncIterable<unknown>) => {
    for await (const _ of s);
  };
  const bare: number[] = [];
  const tracedCpu: number[] = [];
  for (let r = -5; r < rounds; r++) {
    for (const [make, out] of [[stream, bare], [traced, tracedCpu]] as const) {
      const start = process.cpuUsage();
      await read(make());
      const cpu = process.cpuUsage(start);
      if (r >= 0) out.push((cpu.user + cpu.system) / LONG_STREAM);
    }
  }
  bare.sort((a, b) => a - b);
  tracedCpu.sort((a, b) => a - b);
  return { bare: percentile(bare, 0.5), traced: percentile(tracedCpu, 0.5) };
}

const fmt = (us: number) => `${us >= 0 ? ' ' : ''}${us.toFixed(2)} µs`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** The attributes of the span `client` records for one call (its deferred work done, the span exported). */
async function recordedAttributes(client: OpenAI, scope: string) {
  await client.chat.completions.create(request);
  await macrotask();
  await flush();
  const span = exporter.last!;
  if (span.instrumentationScope.name !== scope) throw new Error(`expected a span of ${scope}, got one of ${span.instrumentationScope.name}`);
  return span.attributes;
}

async function main(): Promise<void> {
  const load = loadavg();
  const recorded = await recordedAttributes(wrapped, '@parallax/sdk');
  const bare = bareSpanClient({
    system: String(recorded['gen_ai.system_instructions']),
    input: String(recorded['gen_ai.input.messages']),
    output: String(recorded['gen_ai.output.messages']),
  });
  const bareKeys = Object.keys(await recordedAttributes(bare, 'bench-bare-span')).sort().join();
  if (bareKeys !== Object.keys(recorded).sort().join()) throw new Error(`the bare span records other attributes than wrap(): ${bareKeys}`);
  // Warm-up: JIT every path of every client.
  for (let i = 0; i < 2000; i++) {
    for (const c of [raw, wrapped, wrappedNoContent, bare]) {
      await c.chat.completions.create(request);
      await macrotask();
    }
  }
  for (let i = 0; i < 20; i++) {
    for (const c of [raw, wrapped]) {
      await consume(c, shortStream);
      await consume(c, longStream);
    }
  }

  const [rawCalls, wrappedCalls, noContentCalls, bareCalls] = await latencies([raw, wrapped, wrappedNoContent, bare], CALLS, 200, true, (c) =>
    c.chat.completions.create(request),
  );
  const [rawBackToBack, wrappedBackToBack] = await latencies([raw, wrapped], CALLS, 200, false, (c) => c.chat.completions.create(request));
  const [rawShort, wrappedShort] = await latencies([raw, wrapped], STREAMS * 20, 20, true, (c) => consume(c, shortStream));
  const [rawLong, wrappedLong] = await latencies([raw, wrapped], STREAMS, 1, true, (c) => consume(c, longStream));

  type Key = 'wall' | 'pathCpu' | 'cpu';
  const added = (w: Samples, r: Samples, p: number, key: Key = 'wall') => percentile(w[key], p) - percentile(r[key], p);
  // Per chunk: the long stream's added time less the per-stream part (measured on the short stream).
  const perChunk = (p: number, key: Key = 'wall') =>
    (added(wrappedLong!, rawLong!, p, key) - added(wrappedShort!, rawShort!, 0.5, key)) / (LONG_STREAM - SHORT_STREAM);

  const iteratorOn = await tracedIteratorPerChunk(true, 40);
  const iteratorOff = await tracedIteratorPerChunk(false, 40);
  const rawMemory = await retainedAfter(raw, 10_000);
  const wrappedMemory = await retainedAfter(wrapped, 10_000);

  const row = (label: string, r: Samples, w: Samples, p: number, key: Key = 'wall'): [string, string, string, string] => [
    label,
    fmt(percentile(r[key], p)),
    fmt(percentile(w[key], p)),
    fmt(percentile(w[key], p) - percentile(r[key], p)),
  ];
  const rows: Array<[string, string, string, string]> = [
    row("call, wall time p50 (caller's path)", rawCalls!, wrappedCalls!, 0.5),
    row("call, wall time p99 (caller's path)", rawCalls!, wrappedCalls!, 0.99),
    row("call, CPU on the caller's path p50", rawCalls!, wrappedCalls!, 0.5, 'pathCpu'),
    row('call, CPU time incl. deferred (median of blocks)', rawCalls!, wrappedCalls!, 0.5, 'cpu'),
    row('  … back to back, wall p50', rawBackToBack!, wrappedBackToBack!, 0.5),
    row('  … back to back, wall p99', rawBackToBack!, wrappedBackToBack!, 0.99),
    row('  … back to back, CPU', rawBackToBack!, wrappedBackToBack!, 0.5, 'cpu'),
    row('  … content capture off, wall p50', rawCalls!, noContentCalls!, 0.5),
    row("  … content capture off, caller's path CPU", rawCalls!, noContentCalls!, 0.5, 'pathCpu'),
    row('  … content capture off, CPU', rawCalls!, noContentCalls!, 0.5, 'cpu'),
    row('  … bare OTel span started in the call, ended after it, wall p50', rawCalls!, bareCalls!, 0.5),
    row("  … bare OTel span started in the call, ended after it, caller's path CPU", rawCalls!, bareCalls!, 0.5, 'pathCpu'),
    row('  … bare OTel span started in the call, ended after it, CPU', rawCalls!, bareCalls!, 0.5, 'cpu'),
    row(`stream of ${SHORT_STREAM} chunks, wall p50`, rawShort!, wrappedShort!, 0.5),
    row(`stream of ${LONG_STREAM} chunks, wall p50`, rawLong!, wrappedLong!, 0.5),
    row(`stream of ${LONG_STREAM} chunks, wall p99`, rawLong!, wrappedLong!, 0.99),
    ['per stream chunk, wall p50', '', '', fmt(perChunk(0.5))],
    ['per stream chunk, wall p99', '', '', fmt(perChunk(0.99))],
    ['per stream chunk, CPU (median)', '', '', fmt(perChunk(0.5, 'cpu'))],
    ['per chunk, traced iterator alone, CPU', fmt(iteratorOn.bare), fmt(iteratorOn.traced), fmt(iteratorOn.traced - iteratorOn.bare)],
    ['  … content capture off', fmt(iteratorOff.bare), fmt(iteratorOff.traced), fmt(iteratorOff.traced - iteratorOff.bare)],
    ['heap retained after 10k calls', kib(rawMemory.retained), kib(wrappedMemory.retained), kib(wrappedMemory.retained - rawMemory.retained)],
    ['peak heap growth during 10k calls', kib(rawMemory.churn), kib(wrappedMemory.churn), kib(wrappedMemory.churn - rawMemory.churn)],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['', 'raw openai', 'traced', 'added'][i]!.length));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ');
  console.log(`\nsdk-overhead: openai client, in-process fetch, ${CALLS} calls and ${STREAMS} streams of ${LONG_STREAM} chunks per client, Node ${process.version}`);
  console.log(`load average at start ${load.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(line(['', 'raw openai', 'traced', 'added']));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  const theirs = added(bareCalls!, rawCalls!, 0.5, 'cpu');
  const total = added(wrappedCalls!, rawCalls!, 0.5, 'cpu');
  const p50 = added(wrappedCalls!, rawCalls!, 0.5);
  const theirsOnPath = added(bareCalls!, rawCalls!, 0.5);
  const pathCpu = added(wrappedCalls!, rawCalls!, 0.5, 'pathCpu');
  const theirsPathCpu = added(bareCalls!, rawCalls!, 0.5, 'pathCpu');
  const vsBare = (ours: number, bareSpan: number) => `${(ours - bareSpan >= 0 ? '+' : '')}${(ours - bareSpan).toFixed(1)} µs`;
  console.log(`\nadded per call, content on, against a bare OpenTelemetry SDK span (started in the call, ended after it):`);
  console.log(`  caller's path      wrap() ${p50.toFixed(1)} µs, bare span ${theirsOnPath.toFixed(1)} µs, wrap() ${vsBare(p50, theirsOnPath)}`);
  console.log(`  its CPU            wrap() ${pathCpu.toFixed(1)} µs, bare span ${theirsPathCpu.toFixed(1)} µs, wrap() ${vsBare(pathCpu, theirsPathCpu)}`);
  console.log(`  CPU with deferred  wrap() ${total.toFixed(1)} µs, bare span ${theirs.toFixed(1)} µs, wrap() ${vsBare(total, theirs)}`);
  const backToBack = added(wrappedBackToBack!, rawBackToBack!, 0.5);
  console.log(
    `\ngoals: < 20 µs per call at p50 (caller's path) → ${p50 < 20 ? 'met' : 'NOT met'} (${p50.toFixed(1)} µs; its CPU ${pathCpu.toFixed(1)} µs; back to back ${backToBack.toFixed(1)} µs; CPU with deferred work ${total.toFixed(1)} µs); ` +
      `< 1 µs per chunk at p50 → ${perChunk(0.5) < 1 ? 'met' : 'NOT met'} (${perChunk(0.5).toFixed(2)} µs)`,
  );
  console.log('wall figures include other processes on the machine; CPU figures are this process only (GC threads included).');
  console.log(`spans exported (dropped): ${exporter.exported}`);
  await shutdown();
}

await main();

// The published OpenAI instrumentation, for scale: it needs openai@6, installed in its own folder.
const comparison = join(import.meta.dirname, 'openai6');
if (existsSync(join(comparison, 'node_modules', 'openai'))) {
  spawnSync(process.execPath, [join(comparison, 'compare.ts')], { stdio: 'inherit', cwd: comparison, env: process.env });
} else {
  console.log(`\n(for a comparison with @opentelemetry/instrumentation-openai on openai@6: npm install in ${comparison}, then run again)`);
}
