// The collector owns the JSON API's shapes; the dashboard only borrows them as types.
export type {
  ApiError,
  BreakdownResponse,
  ChatMessage,
  Cost,
  LlmDetails,
  MessagePart,
  ModelMetrics,
  ModelMetricsResponse,
  ProjectInfo,
  SpanDetail,
  SpanEvent,
  TimeseriesPoint,
  TimeseriesResponse,
  TraceListResponse,
  TraceResponse,
  TraceSummary,
} from '../../../collector/src/api/contract.ts';
