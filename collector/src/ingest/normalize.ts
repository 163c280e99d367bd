import type { Attributes, AttributeValue, OtlpScopeSpans } from '../otlp/decode.ts';
import { isContentAttribute } from './content-attributes.ts';
import { extractGenAI } from './genai.ts';
import type { PriceOverride } from '../store/price-overrides.ts';
import { priceCall } from './pricing.ts';

/** One row of the spans table, as inserted (JSONEachRow). */
export interface SpanRow {
  project_id: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: string;
  start_time: string;
  end_time: string;
  duration_ms: number;
  status_code: string;
  status_message: string;
  service_name: string;
  scope_name: string;
  resource_attributes: Record<string, string>;
  attributes: Record<string, string>;
  events: string;
  operation: string;
  provider: string;
  model: string;
  request_model: string;
  response_model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_total: number | null;
  cost_input: number | null;
  cost_output: number | null;
  finish_reasons: string[];
  ttft_ms: number | null;
  input_messages: string;
  output_messages: string;
  system_instructions: string;
  tool_definitions: string;
  session_id: string;
  user_id: string;
  environment: string;
  tags: string[];
}

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];

/** Maps decoded OTLP spans to rows: every span stored whole, GenAI spans with their columns and cost. */
export function toSpanRows(projectId: string, scopes: OtlpScopeSpans[], priceOverrides: readonly PriceOverride[] = []): SpanRow[] {
  const rows: SpanRow[] = [];
  for (const scope of scopes) {
    const resourceAttributes = stringMap(scope.resource);
    const serviceName = resourceAttributes['service.name'] ?? '';
    const environment =
      resourceAttributes['deployment.environment.name'] ?? resourceAttributes['deployment.environment'] ?? '';
    for (const span of scope.spans) {
      const genai = extractGenAI(span.attributes, span.events, scope.scopeName);
      const hasMessages = !!genai && !!(genai.inputMessages || genai.outputMessages || genai.systemInstructions || genai.toolDefinitions);
      const attributes = stringMap(span.attributes, hasMessages ? isContentAttribute : undefined);
      const model = genai ? genai.requestModel || genai.responseModel : '';
      const durationMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
      const cost = genai
        ? priceCall(
            {
              provider: genai.provider,
              models: [genai.responseModel, genai.requestModel],
              usage: genai,
              at: new Date(Number(span.startTimeUnixNano / 1_000_000n)),
              durationMs,
            },
            priceOverrides,
          )
        : null;
      rows.push({
        project_id: projectId,
        trace_id: span.traceId,
        span_id: span.spanId,
        parent_span_id: span.parentSpanId,
        name: span.name,
        kind: KINDS[span.kind] ?? 'UNSPECIFIED',
        start_time: clickhouseTime(span.startTimeUnixNano),
        end_time: clickhouseTime(span.endTimeUnixNano),
        duration_ms: durationMs,
        status_code: STATUS[span.status.code] ?? 'UNSET',
        status_message: span.status.message,
        service_name: serviceName,
        scope_name: scope.scopeName,
        resource_attributes: resourceAttributes,
        attributes,
        events: span.events.length
          ? JSON.stringify(
              span.events.map((e) => ({ name: e.name, timeUnixNano: String(e.timeUnixNano), attributes: stringMap(e.attributes) })),
            )
          : '',
        operation: genai?.operation ?? '',
        provider: genai?.provider ?? '',
        model,
        request_model: genai?.requestModel ?? '',
        response_model: genai?.responseModel ?? '',
        input_tokens: genai?.inputTokens ?? 0,
        output_tokens: genai?.outputTokens ?? 0,
        cache_read_tokens: genai?.cacheReadTokens ?? 0,
        cache_write_tokens: genai?.cacheWriteTokens ?? 0,
        reasoning_tokens: genai?.reasoningTokens ?? 0,
        cost_total: cost?.total ?? null,
        cost_input: cost?.input ?? null,
        cost_output: cost?.output ?? null,
        finish_reasons: genai?.finishReasons ?? [],
        ttft_ms: genai?.ttftMs ?? null,
        input_messages: genai?.inputMessages ?? '',
        output_messages: genai?.outputMessages ?? '',
        system_instructions: genai?.systemInstructions ?? '',
        tool_definitions: genai?.toolDefinitions ?? '',
        session_id: genai?.sessionId || attributes['session.id'] || attributes['gen_ai.conversation.id'] || '',
        user_id: genai?.userId || attributes['user.id'] || attributes['enduser.id'] || '',
        environment,
        tags: tagList(span.attributes['parallax.tags']),
      });
    }
  }
  return rows;
}

const NANOS_PER_SECOND = 1_000_000_000n;
const SECONDS_PER_DAY = 86_400;
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
// Every span has two times to format and a request's spans mostly share their day: the date part
// is computed once per day, the rest from integers (Date and toISOString cost more than the rest).
const datesByDay = new Map<number, string>();

/** `2026-11-24 06:00:00.123456789`: what a DateTime64(9, 'UTC') column parses exactly. */
export function clickhouseTime(unixNano: bigint): string {
  const seconds = unixNano / NANOS_PER_SECOND;
  const fraction = String(unixNano - seconds * NANOS_PER_SECOND).padStart(9, '0');
  const second = Number(seconds);
  const day = Math.floor(second / SECONDS_PER_DAY);
  let date = datesByDay.get(day);
  if (date === undefined) {
    date = new Date(day * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
    if (datesByDay.size >= 4096) datesByDay.clear();
    datesByDay.set(day, date);
  }
  const ofDay = second - day * SECONDS_PER_DAY;
  const hours = Math.floor(ofDay / 3600);
  const minutes = Math.floor((ofDay % 3600) / 60);
  return `${date} ${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[ofDay % 60]}.${fraction}`;
}

function stringMap(attributes: Attributes, leaveOut?: (key: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in attributes) {
    const value = attributes[key]!;
    if (value === null || leaveOut?.(key)) continue;
    // String() writes finite numbers and booleans as JSON.stringify does, for less.
    out[key] =
      typeof value === 'string' ? value : typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) ? String(value) : JSON.stringify(value);
  }
  return out;
}

function tagList(value: AttributeValue | undefined): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value) return value.split(',').map((t) => t.trim()).filter(Boolean);
  return [];
}
