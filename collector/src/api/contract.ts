// The JSON API's response shapes: the one contract between the collector and its clients
// (dashboard, CLI). Clients import these as types only.
import type { Assertion, Comparison, ConfigSummary, ModelConfig, Score, ScorerSpec } from '@parallax/sdk';

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

/** What every metrics row carries, whatever it is grouped by. */
export interface MetricsRow {
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
  ttftP95Ms: number | null;
  /** Median output tokens per second of a call; null when no call produced output. */
  tokensPerSecond: number | null;
}

export interface ModelMetrics extends MetricsRow {
  model: string;
  provider: string;
}

export type BreakdownDimension = 'model' | 'provider' | 'service' | 'environment' | 'user' | 'session' | 'tag';

export interface BreakdownRow extends MetricsRow {
  /** The group's value ('' for calls without one). */
  key: string;
}

export interface BreakdownResponse {
  from: string;
  to: string;
  groupBy: BreakdownDimension;
  rows: BreakdownRow[];
}

/** The dimensions the dashboard's filter menus offer values of. */
export type FilterDimension = 'model' | 'provider' | 'service' | 'environment' | 'user' | 'tag';

export interface DimensionValuesResponse {
  from: string;
  to: string;
  dimension: FilterDimension;
  /** Values carried by spans in the range, the most used first; empty values are left out. */
  values: { value: string; spans: number }[];
}

export interface ModelMetricsResponse {
  from: string;
  to: string;
  models: ModelMetrics[];
}

export interface TimeseriesPoint {
  /** Start of the bucket, ISO 8601. */
  time: string;
  /** The group's value (a model, provider, service, … per `groupBy`). */
  key: string;
  /** Same as `key`; the name for the default grouping by model. */
  model: string;
  calls: number;
  errors: number;
  cost: Cost;
  inputTokens: number;
  outputTokens: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  ttftP50Ms: number | null;
}

export interface TimeseriesResponse {
  from: string;
  to: string;
  groupBy: BreakdownDimension;
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

export interface SessionSummary {
  sessionId: string;
  userId: string;
  firstSeen: string;
  lastSeen: string;
  traces: number;
  llmCalls: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cost: Cost;
}

export interface SessionListResponse {
  sessions: SessionSummary[];
}

/** One LLM call of a session, as a turn of the conversation. */
export interface SessionTurn {
  spanId: string;
  startTime: string;
  durationMs: number;
  /** The model that answered (the requested one when the response did not name it). */
  model: string;
  provider: string;
  statusCode: SpanDetail['statusCode'];
  statusMessage: string;
  inputTokens: number;
  outputTokens: number;
  cost: Cost;
  /**
   * What this call added to the conversation: the input messages after the model's last answer in
   * it (all of them when the model had not spoken yet). Earlier messages were shown in earlier turns.
   */
  newInput: ChatMessage[];
  /** How many input messages came before `newInput`; see the trace for them. */
  earlierMessages: number;
  output: ChatMessage[] | null;
}

export interface SessionTrace extends TraceSummary {
  /** The trace's LLM calls in the order they started. */
  turns: SessionTurn[];
}

export interface SessionModelUsage {
  model: string;
  provider: string;
  calls: number;
  cost: Cost;
}

export interface SessionResponse {
  /** Totals over the whole session, whatever page of traces this is. */
  session: SessionSummary;
  models: SessionModelUsage[];
  /** The session's traces, oldest first. */
  traces: SessionTrace[];
  /** Pass back as `cursor` for the next traces; null on the last page. */
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

export interface ProjectSummary {
  id: string;
  name: string;
  retentionDays: number;
  createdAt: string;
}

export interface ApiKeySummary {
  id: string;
  name: string;
  scope: 'ingest' | 'full' | 'admin';
  /** The key's first characters, to tell keys apart. */
  prefix: string;
  createdAt: string;
  revoked: boolean;
}

export interface ProjectListResponse {
  projects: ProjectSummary[];
}

export interface KeyListResponse {
  keys: ApiKeySummary[];
}

/** The only time a key's secret is shown. */
export interface CreatedKeyResponse {
  key: ApiKeySummary;
  secret: string;
}

export interface CreatedProjectResponse {
  project: ProjectSummary;
  key: ApiKeySummary;
  secret: string;
}

/**
 * What a test case sends to a model: the conversation in the GenAI conventions' shapes, so any
 * provider adapter can replay it.
 */
export interface ItemInput {
  systemInstructions?: MessagePart[] | null;
  messages: ChatMessage[];
  toolDefinitions?: unknown[] | null;
  /** Request parameters of the source call (temperature, max_tokens, …), informational on replay. */
  params?: Record<string, unknown> | null;
}

/** Checks a model's answer must pass (a rubric is judged by a model): the SDK eval library's type. */
export type { Assertion };
/** A project's price override, as /prices/overrides lists it. */
export type { PriceOverride } from '../store/price-overrides.ts';

export interface DatasetSummary {
  id: string;
  name: string;
  description: string;
  /** Grows by one with every change to the dataset's items. */
  version: number;
  itemCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface DatasetItem {
  id: string;
  input: ItemInput;
  /** The answer a good model gives (text). */
  expectedOutput: string | null;
  assertions: Assertion[];
  metadata: Record<string, string>;
  /** The production call this item was promoted from, if any. */
  source: { traceId: string; spanId: string } | null;
  createdAt: string;
  updatedAt: string;
}

export interface DatasetListResponse {
  datasets: DatasetSummary[];
}

export interface DatasetResponse {
  dataset: DatasetSummary;
  /** The version the items are shown at (the latest unless `?version=` asked for an older one). */
  version: number;
  items: DatasetItem[];
}

export interface DatasetItemsCreatedResponse {
  items: DatasetItem[];
  version: number;
}

/** What promoting every trace that matches a trace-list query did. */
export interface DatasetItemsFromMatchingTracesResponse {
  /** Matching traces taken, the first ones in the list's order. */
  traces: number;
  /** More traces matched than `maxTraces`: only the first `traces` were taken. */
  capped: boolean;
  /** LLM calls in those traces. */
  llmCalls: number;
  /** Test cases added: the calls with recorded input messages. */
  added: number;
  /** The dataset version that holds them. */
  version: number;
}

/** Items promoted from a trace's spans, shown on the trace. */
export interface Promotion {
  datasetId: string;
  datasetName: string;
  itemId: string;
  spanId: string;
}

export interface PromotionListResponse {
  promotions: Promotion[];
}

/** Where and how an experiment calls a model (the eval library's ModelConfig). Keys never travel in it. */
export type ExperimentModelConfig = ModelConfig;

/** Scorers by name (the eval library's ScorerSpec); an item's assertions are scored as well. */
export type ExperimentScorer = ScorerSpec;

export type ExperimentStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';

export interface ExperimentProgress {
  /** Calls the run makes: items × configurations × repetitions. */
  total: number;
  done: number;
  errors: number;
  /** Cost of the priced calls so far, USD. */
  costUsd: number;
}

export interface ExperimentSummary {
  id: string;
  name: string;
  datasetId: string;
  /** The dataset version the experiment ran on. */
  datasetVersion: number;
  configs: ExperimentModelConfig[];
  scorers: ExperimentScorer[];
  repetitions: number;
  /** Concurrent calls per provider. */
  concurrency: number;
  status: ExperimentStatus;
  /** Why it failed or was cancelled; null otherwise. */
  statusReason: string | null;
  progress: ExperimentProgress;
  baselineExperimentId: string | null;
  /** The score set shown; grows by one with every rescore. */
  scoreVersion: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export type ExperimentScore = Score;

/** Per configuration, as the eval library's summarise() gives it. */
export type ExperimentConfigSummary = ConfigSummary;

/** One configuration against the baseline's configuration of the same id (the eval library's compare()). */
export type ExperimentComparison = Comparison;

export interface ExperimentListResponse {
  experiments: ExperimentSummary[];
}

export interface ExperimentResponse {
  experiment: ExperimentSummary;
  /** Per configuration, over the results stored so far. */
  summaries: ExperimentConfigSummary[];
  /** Null when no baseline is set; empty when the baseline shares no configuration id. */
  comparisons: ExperimentComparison[] | null;
}

export interface ExperimentResultCell {
  configId: string;
  repetition: number;
  output: string;
  outputMessages: ChatMessage[];
  error: string | null;
  latencyMs: number;
  ttftMs: number | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  /** The call's trace in this collector. */
  traceId: string | null;
  scores: ExperimentScore[];
  /** No error and every score passed. */
  pass: boolean;
}

export interface ExperimentResultRow {
  itemId: string;
  /** Null when the item is no longer readable at the experiment's dataset version. */
  input: ItemInput | null;
  expectedOutput: string | null;
  cells: ExperimentResultCell[];
  /** Configurations differ on pass/fail for this item. */
  disagreement: boolean;
}

export interface ExperimentResultsResponse {
  experimentId: string;
  scoreVersion: number;
  configIds: string[];
  rows: ExperimentResultRow[];
}

export interface ExperimentEstimateRow {
  configId: string;
  provider: ExperimentModelConfig['provider'];
  model: string;
  calls: number;
  /** Approximate (characters / 4) over the input messages, system instructions and tools, all calls. */
  inputTokens: number;
  /** Approximate: the expected outputs' length; items without one count `params.max_tokens`, else 256. */
  outputTokens: number;
  /** Null when the model has no known price (never 0 for unknown). */
  costUsd: number | null;
}

export interface ExperimentEstimateResponse {
  datasetId: string;
  datasetVersion: number;
  items: number;
  repetitions: number;
  method: string;
  configs: ExperimentEstimateRow[];
  /** Null when any configuration is unpriced. Scorer calls (judges, embeddings) are not included. */
  totalCostUsd: number | null;
}

export interface SwitchQuality {
  experimentId: string;
  experimentName: string;
  configId: string;
  finishedAt: string | null;
  passRate: number;
  meanScore: number;
  meanScoreCi: [number, number];
  calls: number;
}

export interface SwitchSimulatorResponse {
  from: string;
  to: string;
  fromModel: string;
  toModel: string;
  toProvider: string | null;
  /** Production LLM calls on fromModel in the range (experiment calls excluded). */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** What the calls cost as stored; null when none was priced. */
  actualCostUsd: number | null;
  unpricedCalls: number;
  /** The same usage, call by call, at toModel's prices (overrides included); null when toModel has no price. */
  projectedCostUsd: number | null;
  /** projected − actual over the calls priced both ways; null when either side is unknown. */
  differenceUsd: number | null;
  /** Latest completed experiments with a configuration on each model, newest first. */
  quality: { fromModel: SwitchQuality[]; toModel: SwitchQuality[] };
}

/** Each model's quality on its latest completed experiment (null when no experiment used it). */
export interface ModelQualityResponse {
  quality: Record<string, SwitchQuality | null>;
}
