// The JSON API's response shapes: the one contract between the collector and its clients
// (dashboard, CLI). Clients import these as types only.

/** GenAI semantic conventions (v1.41) message parts, as stored and returned. */
export type MessagePart =
  | { type: 'text'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'tool_call'; id?: string | null; name: string; arguments?: unknown }
  | { type: 'tool_call_response'; id?: string | null; response: unknown }
  | { type: 'blob'; modality?: string; mime_type?: string | null; content: string }
  | { type: 'uri'; modality?: string; mime_type?: string | null; uri: string }
  | { type: 'file'; modality?: string; mime_type?: string | null; file_id: string }
  | { type: string; [key: string]: unknown };

export interface ChatMessage {
  role: string;
  parts: MessagePart[];
  name?: string | null;
  finish_reason?: string;
}

export interface ApiError {
  error: { code: string; message: string };
}

export interface ProjectInfo {
  project: { id: string; name: string };
  /** Where SDKs should send spans, as the collector sees itself. */
  ingestEndpoint: string;
  /** True until the project has stored its first span. */
  empty: boolean;
}

/** Money in USD. `null` means "not known" (no price for the model), never zero. */
export type Cost = number | null;

export interface ModelMetrics {
  model: string;
  provider: string;
  calls: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  reasoningTokens: number;
  /** Sum over priced calls; null when none of the calls could be priced. */
  cost: Cost;
  unpricedCalls: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  /** Time to first chunk, streaming calls only; null when there were none. */
  ttftP50Ms: number | null;
}

export interface ModelMetricsResponse {
  from: string;
  to: string;
  models: ModelMetrics[];
}

export interface TimeseriesPoint {
  /** Start of the bucket, ISO 8601. */
  time: string;
  model: string;
  calls: number;
  errors: number;
  cost: Cost;
  inputTokens: number;
  outputTokens: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
}

export interface TimeseriesResponse {
  from: string;
  to: string;
  bucketSeconds: number;
  points: TimeseriesPoint[];
}

export interface TraceSummary {
  traceId: string;
  /** Name of the root span (or the earliest span when the root has not arrived). */
  name: string;
  serviceName: string;
  startTime: string;
  durationMs: number;
  spanCount: number;
  llmCalls: number;
  errorCount: number;
  models: string[];
  inputTokens: number;
  outputTokens: number;
  cost: Cost;
}

export interface TraceListResponse {
  traces: TraceSummary[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface SpanEvent {
  name: string;
  time: string;
  attributes: Record<string, string>;
}

export interface LlmDetails {
  operation: string;
  provider: string;
  requestModel: string;
  responseModel: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  cost: { total: number; input: number; output: number } | null;
  finishReasons: string[];
  inputMessages: ChatMessage[] | null;
  outputMessages: ChatMessage[] | null;
  systemInstructions: MessagePart[] | null;
  toolDefinitions: unknown[] | null;
  ttftMs: number | null;
}

export interface SpanDetail {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  startTime: string;
  endTime: string;
  /** Nanosecond timestamps as decimal strings, for an exact waterfall. */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  durationMs: number;
  statusCode: 'UNSET' | 'OK' | 'ERROR';
  statusMessage: string;
  serviceName: string;
  attributes: Record<string, string>;
  resourceAttributes: Record<string, string>;
  events: SpanEvent[];
  llm: LlmDetails | null;
}

export interface TraceResponse {
  trace: { traceId: string; spans: SpanDetail[] };
}
