// The collector owns the JSON API's shapes; the dashboard only borrows them as types.
export type {
  ApiError,
  ApiKeySummary,
  Assertion,
  BreakdownResponse,
  ChatMessage,
  CreatedKeyResponse,
  CreatedProjectResponse,
  DatasetItem,
  DatasetItemsCreatedResponse,
  DatasetListResponse,
  DatasetResponse,
  DatasetSummary,
  ItemInput,
  KeyListResponse,
  Cost,
  LlmDetails,
  MessagePart,
  ModelMetrics,
  ModelMetricsResponse,
  ModelQualityResponse,
  ProjectInfo,
  ProjectListResponse,
  ProjectSummary,
  Promotion,
  PromotionListResponse,
  SessionListResponse,
  SessionSummary,
  SpanDetail,
  SpanEvent,
  SwitchQuality,
  TimeseriesPoint,
  TimeseriesResponse,
  TraceListResponse,
  TraceResponse,
  TraceSummary,
} from '../../../collector/src/api/contract.ts';

/** A project's price override, as GET /api/v1/prices/overrides lists it (the collector's store shape). */
export interface PriceOverride {
  id: string;
  model: string;
  /** '' matches any provider. */
  provider: string;
  inputPerMTok: number | null;
  outputPerMTok: number | null;
  cacheReadPerMTok: number | null;
  cacheWritePerMTok: number | null;
  perHour: number | null;
  effectiveFrom: string;
  createdAt: string;
}
