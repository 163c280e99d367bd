import type { Assertion, ItemInput, SpanDetail } from '../api/contract.ts';
import type { Storage } from '../store/clickhouse.ts';
import { getTraces, listTraces, type TraceCursor, type TraceQuery } from '../store/traces.ts';
import type { NewItem } from './schema.ts';

/** The trace list's largest page: matching traces are read this many at a time. */
const LIST_PAGE = 500;
/** Traces read in one query: few queries for a large promotion, few enough spans in memory at once. */
const READ_AT_ONCE = 50;

/** The request parameters worth replaying, by their GenAI attribute names. */
const PARAMS: Record<string, string> = {
  'gen_ai.request.temperature': 'temperature',
  'gen_ai.request.max_tokens': 'max_tokens',
  'gen_ai.request.top_p': 'top_p',
  'gen_ai.request.top_k': 'top_k',
  'gen_ai.request.frequency_penalty': 'frequency_penalty',
  'gen_ai.request.presence_penalty': 'presence_penalty',
  'gen_ai.request.seed': 'seed',
  'gen_ai.request.stop_sequences': 'stop_sequences',
  'gen_ai.output.type': 'output_type',
};

/** Why a span cannot become a test case, or null when it can. */
export function unpromotable(span: SpanDetail): string | null {
  if (!span.llm) return `span ${span.spanId} is not an LLM call`;
  if (!span.llm.inputMessages?.length) return `span ${span.spanId} has no recorded input messages (content capture may be off)`;
  return null;
}

/**
 * Turns a stored LLM call into a test case: its conversation as the input, and what the model
 * answered as the expected output unless the caller gives one.
 */
export function itemFromSpan(span: SpanDetail, overrides: { expectedOutput?: string | null | undefined; assertions?: Assertion[] | undefined } = {}): NewItem {
  const llm = span.llm!;
  const params: Record<string, unknown> = {};
  for (const [attribute, name] of Object.entries(PARAMS)) {
    const value = span.attributes[attribute];
    if (value === undefined) continue;
    params[name] = parseAttribute(value);
  }
  const input: ItemInput = {
    systemInstructions: llm.systemInstructions,
    messages: llm.inputMessages ?? [],
    toolDefinitions: llm.toolDefinitions,
    params: Object.keys(params).length ? params : null,
  };
  return {
    input,
    expectedOutput: overrides.expectedOutput !== undefined ? overrides.expectedOutput : outputText(span),
    assertions: overrides.assertions ?? [],
    metadata: { model: llm.requestModel || llm.responseModel, provider: llm.provider },
    source: { traceId: span.traceId, spanId: span.spanId },
  };
}

/** The answer as text: its text parts, or its tool calls as JSON when it only called tools. */
function outputText(span: SpanDetail): string | null {
  const parts = span.llm?.outputMessages?.flatMap((m) => m.parts) ?? [];
  const text = parts.filter((p) => p.type === 'text').map((p) => String((p as { content: unknown }).content));
  if (text.length) return text.join('\n');
  const calls = parts.filter((p) => p.type === 'tool_call').map((p) => ({ name: (p as { name: string }).name, arguments: (p as { arguments?: unknown }).arguments }));
  return calls.length ? JSON.stringify(calls) : null;
}

/** Attribute values are stored as strings; numbers and arrays were JSON. */
function parseAttribute(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The traces a trace-list query selects, in its order: at most `max`, and whether more matched. */
export async function matchingTraces(
  storage: Storage,
  query: Omit<TraceQuery, 'limit' | 'cursor'>,
  max: number,
): Promise<{ traces: { traceId: string; llmCalls: number }[]; capped: boolean }> {
  const found: { traceId: string; llmCalls: number }[] = [];
  let cursor: TraceCursor | undefined;
  // One trace past `max` tells whether the cap cut the selection short.
  while (found.length <= max) {
    const page = await listTraces(storage, { ...query, limit: Math.min(LIST_PAGE, max + 1 - found.length), cursor });
    found.push(...page.traces.map((t) => ({ traceId: t.traceId, llmCalls: t.llmCalls })));
    if (!page.next) break;
    cursor = page.next;
  }
  return { traces: found.slice(0, max), capped: found.length > max };
}

/** One test case per promotable LLM call of each trace, traces in the order given, calls in the order they started. */
export async function itemsFromTraces(storage: Storage, projectId: string, traceIds: string[]): Promise<NewItem[]> {
  const items: NewItem[] = [];
  for (let i = 0; i < traceIds.length; i += READ_AT_ONCE) {
    const traces = await getTraces(storage, projectId, traceIds.slice(i, i + READ_AT_ONCE));
    for (const spans of traces.values()) {
      for (const span of spans) {
        if (!unpromotable(span)) items.push(itemFromSpan(span));
      }
    }
  }
  return items;
}
