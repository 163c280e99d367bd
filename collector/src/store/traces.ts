import type { ChatMessage, MessagePart, SpanDetail, TraceSummary } from '../api/contract.ts';
import type { SpanRow } from '../ingest/normalize.ts';
import type { Storage } from './clickhouse.ts';
import type { SpanFilter } from './filters.ts';
import { listNewestTraces } from './newest-traces.ts';
import { listRankedTraces } from './ranked-traces.ts';
import { select } from './queries.ts';
import { toIso } from './projects.ts';
import { summariseFromRollup } from './trace-summaries.ts';

export type TraceSort = 'time' | 'duration' | 'cost' | 'tokens';

export interface TraceQuery extends SpanFilter {
  status?: 'error' | 'ok' | undefined;
  /** Case-insensitive text searched in span names, system instructions and input and output messages. */
  q?: string | undefined;
  /** `parallax.metadata.<key>` attributes a trace must carry with these values. */
  metadata?: Record<string, string> | undefined;
  minCost?: number | undefined;
  maxCost?: number | undefined;
  minDurationMs?: number | undefined;
  maxDurationMs?: number | undefined;
  sort: TraceSort;
  order: 'asc' | 'desc';
  limit: number;
  cursor?: TraceCursor | undefined;
}

/** Position after the last trace of a page: its sort value, then its id as the tie-breaker. */
export interface TraceCursor {
  value: string;
  traceId: string;
}

/** A trace list row as queried: the summary, and its value in the list's order (the cursor's value). */
export interface TraceRow extends TraceSummary {
  sortValue: string;
}

/**
 * Lists traces that started in the range. Conditions on spans (model, user, text…) select traces
 * that contain such a span in the range, and a trace's totals cover all of its spans in the range.
 * Newest first, the default, walks back from the end of the range and stops once the page is full;
 * any other order ranks every trace in the range on the few columns it needs.
 */
export async function listTraces(storage: Storage, query: TraceQuery): Promise<{ traces: TraceSummary[]; next: TraceCursor | null }> {
  const rows = query.sort === 'time' && query.order === 'desc' ? await listNewestTraces(storage, query) : await listRankedTraces(storage, query);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const next = rows.length > query.limit && last ? { value: last.sortValue, traceId: last.traceId } : null;
  return { traces: page.map(toSummary), next };
}

/** A list row as the API gives it: without its sort value, its start in ISO milliseconds. */
function toSummary({ sortValue: _, ...row }: TraceRow): TraceSummary {
  return { ...row, startTime: isoMillis(row.startTime) };
}

/** Later than any span: the end of the range when a trace is read whole. */
const END_OF_TIME = new Date('2200-01-01T00:00:00Z');

/** The list rows of these traces over all their spans, in the order given; ids with no spans are left out. */
export async function summariseTraces(storage: Storage, projectId: string, traceIds: string[]): Promise<TraceSummary[]> {
  if (!traceIds.length) return [];
  const everything = { projectId, from: new Date(0), to: END_OF_TIME };
  const rows = new Map((await summariseFromRollup(storage, everything, traceIds, [])).map((row) => [row.traceId, row]));
  return traceIds.flatMap((id) => {
    const found = rows.get(id);
    if (!found) return [];
    const { startNs: _, ...row } = found;
    return [toSummary(row)];
  });
}

/** A stored span as read back: the inserted row, plus exact nanosecond times as strings. */
interface SpanRowOut extends Omit<SpanRow, 'project_id' | 'status_code'> {
  status_code: SpanDetail['statusCode'];
  start_ns: string;
  end_ns: string;
}

export async function getTrace(storage: Storage, projectId: string, traceId: string): Promise<SpanDetail[]> {
  return (await getTraces(storage, projectId, [traceId])).get(traceId)!;
}

/**
 * Several traces in one read, for pages and actions that need many whole traces (a session, a bulk
 * promotion): one query for 20 traces at 10M spans took 150–250 ms, 20 single reads 0.5–1 s. Every
 * id asked for is in the map, with no spans when the project has no such trace.
 *
 * trace_summaries names the hours the traces have spans in, so the spans are reached through the
 * primary key (hour, then trace id); ClickHouse builds the subquery's set before it analyses the
 * key. Ids are passed as the column's type: compared as String, every row's id is converted first.
 * One trace at 10M spans, 60 ids, 3 rounds: 27.8/36.9 ms p50/p95 this way, 32.0/46.2 with the hours
 * asked first in a query of their own (with ids as String that order was the quicker one); 20
 * traces at once 108/131 either way.
 */
export async function getTraces(storage: Storage, projectId: string, traceIds: string[]): Promise<Map<string, SpanDetail[]>> {
  const traces = new Map(traceIds.map((id): [string, SpanDetail[]] => [id, []]));
  if (!traceIds.length) return traces;
  const rows = await select<SpanRowOut>(
    storage,
    `SELECT *, toString(toUnixTimestamp64Nano(start_time)) AS start_ns, toString(toUnixTimestamp64Nano(end_time)) AS end_ns
     FROM {db}.spans
     WHERE project_id = {project:String}
       AND toStartOfHour(start_time) IN (
         SELECT hour FROM {db}.trace_summaries WHERE project_id = {project:String} AND trace_id IN {traces:Array(FixedString(32))}
       )
       AND trace_id IN {traces:Array(FixedString(32))}
     ORDER BY trace_id, start_time, span_id`,
    { project: projectId, traces: [...traces.keys()] },
    // The spans_by_user projection cannot serve a read by trace; weighing it costs ~1.5 ms a read.
    { optimize_use_projections: 0 },
  );
  for (const row of withoutRetriedCopies(rows)) traces.get(row.trace_id)?.push(toSpanDetail(row));
  return traces;
}

/** A span stored twice (a retried export) is shown once: the first in the rows' order. */
function withoutRetriedCopies(rows: SpanRowOut[]): SpanRowOut[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = `${row.trace_id}/${row.span_id}`;
    return !seen.has(key) && seen.add(key);
  });
}

function toSpanDetail(row: SpanRowOut): SpanDetail {
  return {
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id || null,
    name: row.name,
    kind: row.kind,
    startTime: isoMillis(row.start_time),
    endTime: isoMillis(row.end_time),
    startTimeUnixNano: row.start_ns,
    endTimeUnixNano: row.end_ns,
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    statusMessage: row.status_message,
    serviceName: row.service_name,
    attributes: row.attributes,
    resourceAttributes: row.resource_attributes,
    events: row.events ? (JSON.parse(row.events) as StoredEvent[]).map(toEvent) : [],
    llm: row.operation
      ? {
          operation: row.operation,
          provider: row.provider,
          requestModel: row.request_model,
          responseModel: row.response_model,
          inputTokens: row.input_tokens,
          outputTokens: row.output_tokens,
          cacheReadTokens: row.cache_read_tokens,
          cacheWriteTokens: row.cache_write_tokens,
          reasoningTokens: row.reasoning_tokens,
          cost:
            row.cost_total === null
              ? null
              : { total: row.cost_total, input: row.cost_input ?? 0, output: row.cost_output ?? 0 },
          finishReasons: row.finish_reasons,
          inputMessages: parseJsonArray<ChatMessage>(row.input_messages),
          outputMessages: parseJsonArray<ChatMessage>(row.output_messages),
          systemInstructions: parseJsonArray<MessagePart>(row.system_instructions),
          toolDefinitions: parseJsonArray<unknown>(row.tool_definitions),
          ttftMs: row.ttft_ms,
        }
      : null,
  };
}

interface StoredEvent {
  name: string;
  timeUnixNano: string;
  attributes: Record<string, string>;
}

function toEvent(event: StoredEvent): SpanDetail['events'][number] {
  return {
    name: event.name,
    time: new Date(Number(BigInt(event.timeUnixNano) / 1_000_000n)).toISOString(),
    attributes: event.attributes,
  };
}

/** Message JSON comes from senders we do not control: anything but an array is shown raw elsewhere. */
function parseJsonArray<T>(text: string): T[] | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as T[]) : null;
  } catch {
    return null;
  }
}

/** `2026-11-24 06:00:00.123456789` → `2026-11-24T06:00:00.123Z`. */
function isoMillis(clickhouseTime: string): string {
  return toIso(clickhouseTime.slice(0, 23));
}
