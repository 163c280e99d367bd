// Seeded generator of realistic GenAI traffic for the collector benchmarks: the same seed gives the
// same spans, byte for byte. Spans come out as OTLP protobuf export requests (the exact bytes the
// official OTLP exporter sends, through its own serializer) or as rows of the spans table for a
// direct ClickHouse insert.
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { Corpus, orderId, TOOLS, type ToolSpec } from './lib/genai-content.ts';
import { cumulativeWeights, Random } from './lib/random.ts';
import { isContentAttribute, type SpanRow } from '@parallax/collector';

export interface GeneratorOptions {
  seed: number;
  /** How many spans in all; timestamps are spread evenly over the range by this count. */
  spans: number;
  /** End of the time range, ms since the epoch (default: now). Fix it for byte-identical output. */
  now?: number;
  /** Length of the time range ending at `now`. */
  days?: number;
  /** Multiplies message lengths (1: hundreds to a few thousand characters per message). */
  messageScale?: number;
  /** Distinct users; traffic per user is Zipf-skewed. */
  users?: number;
}

/** One generated span, independent of how it is sent. */
export interface GenSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** @opentelemetry/api SpanKind: 0 internal, 1 server, 2 client. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  events: { name: string; timeNs: bigint; attributes: Record<string, string> }[];
  resource: GenResource;
}

export interface GenResource {
  serviceName: string;
  environment: string;
  attributes: Record<string, string>;
  otel: Resource;
}

interface ModelSpec {
  provider: string;
  model: string;
  /** Share of traces using it as their main model. */
  weight: number;
  /** What the provider reports back (OpenAI dates its snapshots). */
  responseModel: string;
  medianLatencyMs: number;
  host: string;
  /** USD per million tokens; null for a model no price list knows (self-hosted). */
  price: { input: number; output: number; cacheRead: number; cacheWrite: number } | null;
  reasoning: boolean;
}

export const MODELS: readonly ModelSpec[] = [
  model('openai', 'gpt-4o', 18, 'gpt-4o-2024-08-06', 2500, 'api.openai.com', [2.5, 10, 1.25, 0], false),
  model('openai', 'gpt-4o-mini', 24, 'gpt-4o-mini-2024-07-18', 900, 'api.openai.com', [0.15, 0.6, 0.075, 0], false),
  model('openai', 'gpt-5', 9, 'gpt-5-2025-08-07', 8000, 'api.openai.com', [1.25, 10, 0.125, 0], true),
  model('anthropic', 'claude-sonnet-4-6', 15, 'claude-sonnet-4-6', 4000, 'api.anthropic.com', [3, 15, 0.3, 3.75], false),
  model('anthropic', 'claude-haiku-4-5', 10, 'claude-haiku-4-5', 1200, 'api.anthropic.com', [1, 5, 0.1, 1.25], false),
  model('gcp.gemini', 'gemini-2.5-flash', 12, 'gemini-2.5-flash', 1000, 'generativelanguage.googleapis.com', [0.3, 2.5, 0.03, 0], true),
  model('gcp.gemini', 'gemini-2.5-pro', 5, 'gemini-2.5-pro', 6000, 'generativelanguage.googleapis.com', [1.25, 10, 0.125, 0], true),
  // Reached through an OpenAI-compatible base URL: the provider is openai, the model has no price.
  model('openai', 'acme-llama-3.3-70b-ft', 7, 'acme-llama-3.3-70b-ft', 1500, 'llm.internal.acme.dev', null, false),
];

function model(
  provider: string,
  name: string,
  weight: number,
  responseModel: string,
  medianLatencyMs: number,
  host: string,
  price: [number, number, number, number] | null,
  reasoning: boolean,
): ModelSpec {
  return {
    provider,
    model: name,
    weight,
    responseModel,
    medianLatencyMs,
    host,
    price: price && { input: price[0], output: price[1], cacheRead: price[2], cacheWrite: price[3] },
    reasoning,
  };
}

interface ServiceSpec {
  name: string;
  weight: number;
  rootName: string;
  tools: readonly ToolSpec[];
}

export const SERVICES: readonly ServiceSpec[] = [
  { name: 'support-agent', weight: 35, rootName: 'POST /api/support/chat', tools: pickTools('get_order', 'issue_refund', 'get_customer', 'create_ticket') },
  { name: 'search-api', weight: 25, rootName: 'GET /api/search', tools: pickTools('search_docs') },
  { name: 'doc-summarizer', weight: 15, rootName: 'summarize_document', tools: pickTools('search_docs', 'read_file') },
  { name: 'code-review-bot', weight: 10, rootName: 'review_pull_request', tools: pickTools('read_file', 'run_sql') },
  { name: 'sales-assistant', weight: 15, rootName: 'POST /api/assistant', tools: pickTools('get_customer', 'run_sql', 'get_weather') },
];

function pickTools(...names: string[]): ToolSpec[] {
  return names.map((n) => TOOLS.find((t) => t.name === n)!);
}

export const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
const ENVIRONMENT_WEIGHTS = cumulativeWeights([75, 18, 7]);
export const TAGS = ['beta', 'premium', 'free-tier', 'eval', 'mobile', 'web', 'api', 'experiment-a', 'experiment-b'];

const MODEL_WEIGHTS = cumulativeWeights(MODELS.map((m) => m.weight));
const SERVICE_WEIGHTS = cumulativeWeights(SERVICES.map((s) => s.weight));
const MS = 1_000_000n;

/**
 * Yields traces (arrays of spans, root first) in start-time order until `spans` spans are out;
 * the last trace is cut short to hit the count exactly.
 */
export function* generateTraces(options: GeneratorOptions): Generator<GenSpan[]> {
  const random = new Random(options.seed);
  const corpus = new Corpus(options.seed);
  const now = options.now ?? Date.now();
  const rangeMs = (options.days ?? 30) * 86_400_000;
  const startMs = now - rangeMs;
  const scale = options.messageScale ?? 1;
  const users = options.users ?? 20_000;
  const resources = new Map<string, GenResource>();
  let emitted = 0;
  while (emitted < options.spans) {
    // Start times advance with the span count, so the data fills the range evenly and in order.
    const at = startMs + (emitted / options.spans) * rangeMs + random.next() * 1000;
    const trace = buildTrace(random, corpus, resources, at, scale, users, now);
    const room = options.spans - emitted;
    const out = trace.length > room ? trace.slice(0, room) : trace;
    emitted += out.length;
    yield out;
  }
}

/** The spans of `generateTraces`, one by one. */
export function* generateSpans(options: GeneratorOptions): Generator<GenSpan> {
  for (const trace of generateTraces(options)) yield* trace;
}

function buildTrace(
  random: Random,
  corpus: Corpus,
  resources: Map<string, GenResource>,
  atMs: number,
  scale: number,
  users: number,
  nowMs: number,
): GenSpan[] {
  const service = SERVICES[random.weighted(SERVICE_WEIGHTS)]!;
  const environment = ENVIRONMENTS[random.weighted(ENVIRONMENT_WEIGHTS)]!;
  const resource = resourceFor(resources, service.name, environment);
  const userRank = random.zipf(users, 1.05);
  const day = Math.floor(atMs / 86_400_000);
  const context: Attributes = {
    'user.id': userId(userRank),
    'session.id': `sess-${userRank.toString(36)}-${day.toString(36)}-${random.int(0, 3)}`,
  };
  const tagCount = random.weighted(cumulativeWeights([40, 35, 18, 7]));
  if (tagCount > 0) {
    const tags = new Set<string>();
    while (tags.size < tagCount) tags.add(random.pick(TAGS));
    context['parallax.tags'] = [...tags];
  }
  const traceId = random.hex(16);
  const main = MODELS[random.weighted(MODEL_WEIGHTS)]!;
  const spans: GenSpan[] = [];
  const startNs = BigInt(Math.floor(atMs)) * MS + BigInt(random.int(0, 999_999));

  const history: Message[] = [];
  for (let turn = random.weighted(cumulativeWeights([55, 30, 15])); turn > 0; turn--) {
    history.push(textMessage('user', corpus.text(random, scaled(random.int(80, 600), scale))));
    history.push(textMessage('assistant', corpus.text(random, scaled(random.int(150, 900), scale))));
  }
  history.push(textMessage('user', userTurn(random, corpus, scale)));
  const system = corpus.systemPrompts[random.int(0, corpus.systemPrompts.length - 1)]!;
  const systemText = scale >= 1 ? system : system.slice(0, Math.max(120, Math.floor(system.length * scale)));

  if (random.chance(0.35)) {
    spans.push(llmSpan(random, corpus, { traceId, parent: '', model: main, startNs, history, system: systemText, tools: null, final: true, context, resource, scale }));
    return clampToNow(spans, nowMs);
  }

  // An agent: root span, then LLM calls that ask for tools, tool runs, and a final answer.
  const root: GenSpan = {
    traceId,
    spanId: random.hex(8),
    parentSpanId: '',
    name: service.rootName,
    kind: service.rootName.includes('/') ? 1 : 0,
    startNs,
    endNs: startNs,
    attributes: { ...context, ...(service.rootName.includes('/') ? { 'http.request.method': service.rootName.split(' ')[0]!, 'http.route': service.rootName.split(' ')[1]! } : {}) },
    status: { code: 0, message: '' },
    events: [],
    resource,
  };
  spans.push(root);
  const children = random.int(1, 7);
  let cursor = startNs + BigInt(random.int(1, 20)) * MS;
  let failed = false;
  for (let i = 0; i < children && !failed; i++) {
    // Odd counts start and end with an LLM call; even counts start with a retrieval tool.
    const isTool = children % 2 === 0 ? i % 2 === 0 : i % 2 === 1;
    if (isTool) {
      const spec = random.pick(service.tools);
      const callId = `call_${random.hex(12)}`;
      const span = toolSpan(random, { traceId, parent: root.spanId, startNs: cursor, spec, callId, context, resource });
      history.push({ role: 'assistant', parts: [{ type: 'tool_call', id: callId, name: spec.name, arguments: toolArguments(random, spec) }] });
      history.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: callId, response: toolResult(random, corpus, scale) }] });
      spans.push(span);
      cursor = span.endNs + BigInt(random.int(1, 15)) * MS;
    } else {
      // Agents sometimes hand a sub-step to a cheaper model.
      const use = random.chance(0.15) ? MODELS[random.weighted(MODEL_WEIGHTS)]! : main;
      const final = i >= children - 1;
      const span = llmSpan(random, corpus, { traceId, parent: root.spanId, model: use, startNs: cursor, history, system: systemText, tools: service.tools, final, context, resource, scale });
      spans.push(span);
      if (span.status.code === 2) {
        failed = true;
        root.status = { code: 2, message: span.status.message };
      }
      if (!final) history.push(textMessage('assistant', corpus.text(random, scaled(random.int(60, 300), scale))));
      cursor = span.endNs + BigInt(random.int(1, 15)) * MS;
    }
  }
  root.endNs = cursor + BigInt(random.int(1, 30)) * MS;
  return clampToNow(spans, nowMs);
}

/** Traces that would end in the future (only the newest few) are shifted back to end by `now`. */
function clampToNow(spans: GenSpan[], nowMs: number): GenSpan[] {
  const nowNs = BigInt(Math.floor(nowMs)) * MS;
  let end = 0n;
  for (const s of spans) if (s.endNs > end) end = s.endNs;
  if (end <= nowNs) return spans;
  const shift = end - nowNs;
  for (const s of spans) {
    s.startNs -= shift;
    s.endNs -= shift;
    for (const e of s.events) e.timeNs -= shift;
  }
  return spans;
}

type Part =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id: string; name: string; arguments: Record<string, unknown> }
  | { type: 'tool_call_response'; id: string; response: string };
interface Message {
  role: 'user' | 'assistant' | 'tool';
  parts: Part[];
  finish_reason?: string;
}

function textMessage(role: Message['role'], content: string): Message {
  return { role, parts: [{ type: 'text', content }] };
}

function userTurn(random: Random, corpus: Corpus, scale: number): string {
  const text = corpus.text(random, scaled(random.int(100, 1500), scale));
  // A third of user turns quote an order id: the needle a person searches for later.
  return random.chance(0.33) ? `${text} My order is ${orderId(random)}.` : text;
}

function toolArguments(random: Random, spec: ToolSpec): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const key of Object.keys((spec.parameters as { properties: object }).properties)) {
    args[key] = key === 'order_id' ? orderId(random) : key === 'amount' ? random.int(5, 500) : key === 'limit' ? 5 : `${key}-${random.hex(3)}`;
  }
  return args;
}

function toolResult(random: Random, corpus: Corpus, scale: number): string {
  return JSON.stringify({ ok: true, id: random.hex(6), summary: corpus.text(random, scaled(random.int(200, 1500), scale)) });
}

function scaled(chars: number, scale: number): number {
  return Math.max(20, Math.round(chars * scale));
}

interface LlmCall {
  traceId: string;
  parent: string;
  model: ModelSpec;
  startNs: bigint;
  history: Message[];
  system: string;
  tools: readonly ToolSpec[] | null;
  final: boolean;
  context: Attributes;
  resource: GenResource;
  scale: number;
}

const ERRORS = [
  { type: '429', message: 'Rate limit reached for requests per minute. Please try again in 20s.' },
  { type: 'timeout', message: 'Request timed out after 60000 ms.' },
  { type: '500', message: 'The server had an error while processing your request.' },
  { type: 'context_length_exceeded', message: "This model's maximum context length was exceeded." },
];

function llmSpan(random: Random, corpus: Corpus, call: LlmCall): GenSpan {
  const m = call.model;
  const streaming = random.chance(0.4);
  const failed = random.chance(0.025);
  const durationMs = Math.max(80, random.logNormal(m.medianLatencyMs, 0.6));
  const endNs = call.startNs + BigInt(Math.round(durationMs * 1e6));
  const input = JSON.stringify(call.history);
  const system = JSON.stringify([{ type: 'text', content: call.system }]);
  const toolDefinitions = call.tools ? JSON.stringify(call.tools.map((t) => ({ type: 'function', ...t }))) : '';
  const inputTokens = Math.round((input.length + system.length + toolDefinitions.length) / 4);
  const attributes: Attributes = {
    'gen_ai.operation.name': m.provider === 'gcp.gemini' ? 'generate_content' : 'chat',
    'gen_ai.provider.name': m.provider,
    'gen_ai.request.model': m.model,
    'gen_ai.request.max_tokens': 4096,
    'gen_ai.request.temperature': random.pick([0, 0.2, 0.7, 1]),
    'server.address': m.host,
    'server.port': 443,
    ...call.context,
    'gen_ai.system_instructions': system,
    'gen_ai.input.messages': input,
  };
  if (toolDefinitions) attributes['gen_ai.tool.definitions'] = toolDefinitions;
  const span: GenSpan = {
    traceId: call.traceId,
    spanId: random.hex(8),
    parentSpanId: call.parent,
    name: `${attributes['gen_ai.operation.name']} ${m.model}`,
    kind: 2,
    startNs: call.startNs,
    endNs,
    attributes,
    status: { code: 0, message: '' },
    events: [],
    resource: call.resource,
  };
  if (failed) {
    const error = random.pick(ERRORS);
    attributes['error.type'] = error.type;
    span.status = { code: 2, message: error.message };
    span.events.push({ name: 'exception', timeNs: endNs, attributes: { 'exception.type': error.type, 'exception.message': error.message } });
    return span;
  }
  let output: Message;
  if (call.final || !call.tools) {
    output = { role: 'assistant', parts: [{ type: 'text', content: corpus.text(random, scaled(random.int(200, 1500), call.scale)) }], finish_reason: 'stop' };
  } else {
    const spec = random.pick(call.tools);
    output = {
      role: 'assistant',
      parts: [{ type: 'tool_call', id: `call_${random.hex(12)}`, name: spec.name, arguments: toolArguments(random, spec) }],
      finish_reason: 'tool_calls',
    };
  }
  const outputText = JSON.stringify([output]);
  const reasoningTokens = m.reasoning ? random.int(0, 2000) : 0;
  const outputTokens = Math.round(outputText.length / 4) + reasoningTokens;
  // Prompt caching: a repeated system prompt is often served from the provider's cache.
  const cacheRead = random.chance(0.45) ? Math.min(inputTokens, Math.round(system.length / 4)) : 0;
  const cacheWrite = m.provider === 'anthropic' && cacheRead === 0 && random.chance(0.3) ? Math.round(system.length / 4) : 0;
  attributes['gen_ai.response.model'] = m.responseModel;
  attributes['gen_ai.response.id'] = `resp_${random.hex(12)}`;
  attributes['gen_ai.response.finish_reasons'] = [output.finish_reason!];
  attributes['gen_ai.usage.input_tokens'] = inputTokens;
  attributes['gen_ai.usage.output_tokens'] = outputTokens;
  if (cacheRead) attributes['gen_ai.usage.cache_read.input_tokens'] = cacheRead;
  if (cacheWrite) attributes['gen_ai.usage.cache_creation.input_tokens'] = cacheWrite;
  if (reasoningTokens) attributes['gen_ai.usage.reasoning.output_tokens'] = reasoningTokens;
  if (streaming) attributes['gen_ai.response.time_to_first_chunk'] = Math.round(durationMs * random.next() * 0.3) / 1000;
  attributes['gen_ai.output.messages'] = outputText;
  return span;
}

function toolSpan(
  random: Random,
  call: { traceId: string; parent: string; startNs: bigint; spec: ToolSpec; callId: string; context: Attributes; resource: GenResource },
): GenSpan {
  const durationMs = Math.max(2, random.logNormal(150, 1));
  const failed = random.chance(0.01);
  return {
    traceId: call.traceId,
    spanId: random.hex(8),
    parentSpanId: call.parent,
    name: `tool ${call.spec.name}`,
    kind: 0,
    startNs: call.startNs,
    endNs: call.startNs + BigInt(Math.round(durationMs * 1e6)),
    attributes: { ...call.context, 'gen_ai.tool.name': call.spec.name, 'gen_ai.tool.call.id': call.callId },
    status: failed ? { code: 2, message: `${call.spec.name} failed: upstream returned 503` } : { code: 0, message: '' },
    events: [],
    resource: call.resource,
  };
}

export function userId(rank: number): string {
  return `user-${String(rank).padStart(5, '0')}`;
}

function resourceFor(cache: Map<string, GenResource>, serviceName: string, environment: string): GenResource {
  const key = `${serviceName}/${environment}`;
  let resource = cache.get(key);
  if (!resource) {
    const attributes = {
      'service.name': serviceName,
      'service.version': '2.14.0',
      'deployment.environment.name': environment,
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': '3.1.1',
      'host.name': `${serviceName}-${environment}-7f9c`,
    };
    // One Resource object per service: the serializer groups spans by resource identity, as an SDK does.
    resource = { serviceName, environment, attributes, otel: resourceFromAttributes(attributes) };
    cache.set(key, resource);
  }
  return resource;
}

// ---- OTLP ------------------------------------------------------------------------------------

const SCOPE = { name: '@parallax/sdk', version: '0.1.0' };

/** The spans as the SDK hands them to an exporter. */
export function toReadableSpan(span: GenSpan): ReadableSpan {
  const spanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: 1 };
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => spanContext,
    parentSpanContext: span.parentSpanId ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: 1, isRemote: false } : undefined,
    startTime: hrTime(span.startNs),
    endTime: hrTime(span.endNs),
    duration: hrTime(span.endNs - span.startNs),
    status: span.status.message ? { code: span.status.code, message: span.status.message } : { code: span.status.code },
    attributes: span.attributes,
    links: [],
    events: span.events.map((e) => ({ name: e.name, time: hrTime(e.timeNs), attributes: e.attributes })),
    ended: true,
    resource: span.resource.otel,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as ReadableSpan;
}

/** One OTLP/HTTP protobuf request body, serialized by the OTLP exporter's own serializer. */
export function toExportRequest(spans: GenSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans.map(toReadableSpan));
  if (!bytes) throw new Error(`the OTLP serializer returned nothing for ${spans.length} spans`);
  return bytes;
}

function hrTime(ns: bigint): HrTime {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

// ---- rows --------------------------------------------------------------------------------------

/** A row of the spans table, exactly as the collector stores it. */
export type SpanTableRow = SpanRow;

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];
const MODEL_BY_NAME = new Map(MODELS.map((m) => [m.model, m]));

/**
 * The row the collector stores for this span (same columns and values; the cost comes from this
 * file's price table instead of @pydantic/genai-prices, so it can differ in the last digits).
 * For seeding query benchmarks with a direct insert.
 */
export function toSpanRow(span: GenSpan, projectId: string): SpanTableRow {
  const a = span.attributes;
  const attributes: Record<string, string> = {};
  for (const key in a) {
    // The collector keeps a conversation in the message columns only.
    if (isContentAttribute(key)) continue;
    const value = a[key]!;
    attributes[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const operation = (a['gen_ai.operation.name'] as string | undefined) ?? '';
  const requestModel = (a['gen_ai.request.model'] as string | undefined) ?? '';
  const inputTokens = (a['gen_ai.usage.input_tokens'] as number | undefined) ?? 0;
  const outputTokens = (a['gen_ai.usage.output_tokens'] as number | undefined) ?? 0;
  const cacheRead = (a['gen_ai.usage.cache_read.input_tokens'] as number | undefined) ?? 0;
  const cacheWrite = (a['gen_ai.usage.cache_creation.input_tokens'] as number | undefined) ?? 0;
  const price = operation ? MODEL_BY_NAME.get(requestModel)?.price ?? null : null;
  const costInput = price
    ? ((inputTokens - cacheRead - cacheWrite) * price.input + cacheRead * price.cacheRead + cacheWrite * price.cacheWrite) / 1e6
    : null;
  const costOutput = price ? (outputTokens * price.output) / 1e6 : null;
  const ttft = a['gen_ai.response.time_to_first_chunk'];
  return {
    project_id: projectId,
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    name: span.name,
    kind: KINDS[span.kind]!,
    start_time: clickhouseTime(span.startNs),
    end_time: clickhouseTime(span.endNs),
    duration_ms: Number(span.endNs - span.startNs) / 1e6,
    status_code: STATUS[span.status.code]!,
    status_message: span.status.message,
    service_name: span.resource.serviceName,
    scope_name: SCOPE.name,
    resource_attributes: span.resource.attributes,
    attributes,
    events: span.events.length
      ? JSON.stringify(span.events.map((e) => ({ name: e.name, timeUnixNano: String(e.timeNs), attributes: e.attributes })))
      : '',
    operation,
    provider: (a['gen_ai.provider.name'] as string | undefined) ?? '',
    model: requestModel,
    request_model: requestModel,
    response_model: (a['gen_ai.response.model'] as string | undefined) ?? '',
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    reasoning_tokens: (a['gen_ai.usage.reasoning.output_tokens'] as number | undefined) ?? 0,
    cost_total: costInput === null || costOutput === null ? null : costInput + costOutput,
    cost_input: costInput,
    cost_output: costOutput,
    finish_reasons: (a['gen_ai.response.finish_reasons'] as string[] | undefined) ?? [],
    ttft_ms: typeof ttft === 'number' ? ttft * 1000 : null,
    input_messages: (a['gen_ai.input.messages'] as string | undefined) ?? '',
    output_messages: (a['gen_ai.output.messages'] as string | undefined) ?? '',
    system_instructions: (a['gen_ai.system_instructions'] as string | undefined) ?? '',
    tool_definitions: (a['gen_ai.tool.definitions'] as string | undefined) ?? '',
    session_id: (a['session.id'] as string | undefined) ?? '',
    user_id: (a['user.id'] as string | undefined) ?? '',
    environment: span.resource.environment,
    tags: (a['parallax.tags'] as string[] | undefined) ?? [],
  };
}

/** `2026-11-24 06:00:00.123456789`, what a DateTime64(9, 'UTC') column parses exactly. */
export function clickhouseTime(ns: bigint): string {
  const iso = new Date(Number(ns / MS)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}
