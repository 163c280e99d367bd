import { error } from '@sveltejs/kit';
import { PARALLAX_API_KEY, PARALLAX_COLLECTOR_URL } from '$app/env/private';
import type {
  ApiKeySummary,
  CreatedKeyResponse,
  CreatedProjectResponse,
  DatasetItem,
  DatasetItemsCreatedResponse,
  DatasetItemsFromMatchingTracesResponse,
  DatasetListResponse,
  DatasetResponse,
  DatasetSummary,
  DimensionValuesResponse,
  KeyListResponse,
  ModelMetricsResponse,
  ModelQualityResponse,
  PriceOverride,
  ProjectInfo,
  ProjectListResponse,
  PromotionListResponse,
  SessionListResponse,
  SessionResponse,
  TimeseriesResponse,
  TraceListResponse,
  TraceResponse,
} from '#lib/api-types.ts';
import type {
  ExperimentEstimateResponse,
  ExperimentListResponse,
  ExperimentResponse,
  ExperimentResultsResponse,
  ExperimentSummary,
  RunBody,
  StartBody,
  SwitchSimulatorResponse,
} from '#lib/experiments/types.ts';
import { PROJECT_COOKIE } from '#lib/server/project-cookie.ts';

type Fetch = typeof fetch;
export type Query = Record<string, string | number | null | undefined>;

/** What a load function or action hands over: its fetch, and the cookies naming the chosen project. */
export interface CollectorContext {
  fetch: Fetch;
  cookies: { get(name: string): string | undefined };
}

/** A failed collector call, as a value a form action can show next to the form (instead of an error page). */
export class CollectorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The collector's JSON API, as every load function and action sees it. Reads that fail become
 * SvelteKit errors (the error page); writes throw CollectorError so an action can `fail()` with
 * the collector's message. The dashboard's key is an admin key: the project picked in the header
 * travels as `x-parallax-project` on every call.
 */
export function collector({ fetch, cookies }: CollectorContext) {
  const projectId = cookies.get(PROJECT_COOKIE) || undefined;
  const call = (method: string, path: string, options: CallOptions = {}) => send(fetch, method, path, { projectId, ...options });
  const get = async <T>(path: string, query: Query = {}) => readJson<T>(await orError(call('GET', path, { query }), path));
  const write = async <T>(method: string, path: string, body?: unknown, query: Query = {}) => {
    const response = await call(method, path, { body: body === undefined ? undefined : JSON.stringify(body), query, contentType: 'application/json' });
    return readJson<T>(await orThrow(response, path));
  };
  const id = encodeURIComponent;

  return {
    projectId,
    project: () => get<ProjectInfo>('/api/v1/project'),
    modelMetrics: (query: Query) => get<ModelMetricsResponse>('/api/v1/metrics/models', query),
    dimensionValues: (query: Query) => get<DimensionValuesResponse>('/api/v1/metrics/values', query),
    timeseries: (query: Query) => get<TimeseriesResponse>('/api/v1/metrics/timeseries', query),
    traces: (query: Query) => get<TraceListResponse>('/api/v1/traces', query),
    trace: (traceId: string) => get<TraceResponse>(`/api/v1/traces/${id(traceId)}`),
    promotions: (traceId: string) => get<PromotionListResponse>(`/api/v1/traces/${id(traceId)}/promotions`),
    sessions: (query: Query) => get<SessionListResponse>('/api/v1/sessions', query),
    session: (sessionId: string, query: Query = {}) => get<SessionResponse>(`/api/v1/sessions/${id(sessionId)}`, query),

    projects: () => get<ProjectListResponse>('/api/v1/projects'),
    createProject: (name: string) => write<CreatedProjectResponse>('POST', '/api/v1/projects', { name }),
    keys: (projectId: string) => get<KeyListResponse>(`/api/v1/projects/${id(projectId)}/keys`),
    createKey: (projectId: string, body: { name: string; scope: ApiKeySummary['scope'] }) =>
      write<CreatedKeyResponse>('POST', `/api/v1/projects/${id(projectId)}/keys`, body),
    revokeKey: (projectId: string, keyId: string) =>
      write<{ key: ApiKeySummary }>('DELETE', `/api/v1/projects/${id(projectId)}/keys/${id(keyId)}`),

    priceOverrides: () => get<{ overrides: PriceOverride[] }>('/api/v1/prices/overrides'),
    addPriceOverride: (body: Record<string, unknown>) => write<{ override: PriceOverride }>('POST', '/api/v1/prices/overrides', body),
    deletePriceOverride: (overrideId: string) => write<{ deleted: boolean }>('DELETE', `/api/v1/prices/overrides/${id(overrideId)}`),
    reprice: () => write<{ repricedSpans: number }>('POST', '/api/v1/prices/reprice', {}),

    datasets: () => get<DatasetListResponse>('/api/v1/datasets'),
    dataset: (datasetId: string, version?: number | null) =>
      get<DatasetResponse>(`/api/v1/datasets/${id(datasetId)}`, { version: version ?? undefined }),
    createDataset: (body: { name: string; description?: string }) => write<{ dataset: DatasetSummary }>('POST', '/api/v1/datasets', body),
    updateDataset: (datasetId: string, body: { name?: string; description?: string }) =>
      write<{ dataset: DatasetSummary }>('PATCH', `/api/v1/datasets/${id(datasetId)}`, body),
    deleteDataset: (datasetId: string) => write<unknown>('DELETE', `/api/v1/datasets/${id(datasetId)}`),
    addItemsFromSpans: (datasetId: string, spans: { traceId: string; spanId: string; expectedOutput?: string | null; assertions?: unknown[] }[]) =>
      write<DatasetItemsCreatedResponse>('POST', `/api/v1/datasets/${id(datasetId)}/items/from-spans`, { spans }),
    addItemsFromTraces: (datasetId: string, traceIds: string[]) =>
      write<DatasetItemsCreatedResponse>('POST', `/api/v1/datasets/${id(datasetId)}/items/from-traces`, { traceIds }),
    /** Every trace the trace list shows for `filters` (its query parameters), the first `maxTraces` in its order. */
    addItemsFromMatchingTraces: (datasetId: string, filters: Record<string, string>, maxTraces: number) =>
      write<DatasetItemsFromMatchingTracesResponse>('POST', `/api/v1/datasets/${id(datasetId)}/items/from-matching-traces`, { filters, maxTraces }),
    updateItem: (datasetId: string, itemId: string, body: Partial<Pick<DatasetItem, 'input' | 'expectedOutput' | 'assertions' | 'metadata'>>) =>
      write<unknown>('PATCH', `/api/v1/datasets/${id(datasetId)}/items/${id(itemId)}`, body),
    deleteItem: (datasetId: string, itemId: string) => write<unknown>('DELETE', `/api/v1/datasets/${id(datasetId)}/items/${id(itemId)}`),
    importItems: async (datasetId: string, format: 'jsonl' | 'csv', text: string) => {
      const path = `/api/v1/datasets/${id(datasetId)}/import`;
      const response = await call('POST', path, {
        query: { format },
        body: text,
        contentType: format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      });
      return readJson<DatasetItemsCreatedResponse>(await orThrow(response, path));
    },
    /** The export file as the collector sends it, for a download route to pass through. */
    exportItems: async (datasetId: string, format: 'jsonl' | 'csv', version?: number | null) => {
      const path = `/api/v1/datasets/${id(datasetId)}/export`;
      return orError(call('GET', path, { query: { format, version: version ?? undefined }, accept: '*/*' }), path);
    },

    experiments: {
      list: () => get<ExperimentListResponse>('/api/v1/experiments'),
      details: (experimentId: string) => get<ExperimentResponse>(`/api/v1/experiments/${id(experimentId)}`),
      results: (experimentId: string, disagreements: boolean) =>
        get<ExperimentResultsResponse>(`/api/v1/experiments/${id(experimentId)}/results`, { disagreements: disagreements ? '1' : undefined }),
      estimate: (body: RunBody) => write<ExperimentEstimateResponse>('POST', '/api/v1/experiments/estimate', body),
      start: (body: StartBody) => write<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', body),
      cancel: (experimentId: string) => write<{ experiment: ExperimentSummary }>('POST', `/api/v1/experiments/${id(experimentId)}/cancel`, {}),
      rescore: (experimentId: string) => write<{ experiment: ExperimentSummary }>('POST', `/api/v1/experiments/${id(experimentId)}/rescore`, {}),
      /** Each model's quality on its latest completed experiment. */
      quality: (models: string[]) => get<ModelQualityResponse>('/api/v1/experiments/quality', { models: models.join(',') }),
      /** The collector's progress stream as it comes (text/event-stream), for a route to pass through. */
      events: async (experimentId: string, signal: AbortSignal) => {
        const path = `/api/v1/experiments/${id(experimentId)}/events`;
        return orThrow(await call('GET', path, { accept: 'text/event-stream', signal }), path);
      },
    },
    switchSimulator: (query: Query) => get<SwitchSimulatorResponse>('/api/v1/switch-simulator', query),
  };
}

export type Collector = ReturnType<typeof collector>;

interface CallOptions {
  projectId?: string;
  query?: Query;
  body?: string;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

async function send(fetch: Fetch, method: string, path: string, options: CallOptions): Promise<Response> {
  const url = new URL(PARALLAX_COLLECTOR_URL + path);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== null && value !== undefined && value !== '') url.searchParams.set(key, String(value));
  }

  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  if (PARALLAX_API_KEY) headers.authorization = `Bearer ${PARALLAX_API_KEY}`;
  if (options.projectId) headers['x-parallax-project'] = options.projectId;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';

  try {
    return await fetch(url, { method, headers, body: options.body, signal: options.signal });
  } catch (cause) {
    const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    throw new CollectorError(
      502,
      `Cannot reach the Parallax collector at ${PARALLAX_COLLECTOR_URL} (${reason}). ` +
        'Start it with `node collector/src/main.ts`, or point PARALLAX_COLLECTOR_URL at it.',
    );
  }
}

/** For reads: a failure is the page's error. */
async function orError(pending: Promise<Response>, path: string): Promise<Response> {
  try {
    return await orThrow(await pending, path);
  } catch (failure) {
    if (failure instanceof CollectorError) error(httpErrorStatus(failure.status), failure.message);
    throw failure;
  }
}

/** For writes: a failure is a CollectorError the action turns into a message beside the form. */
async function orThrow(response: Response, path: string): Promise<Response> {
  if (response.ok) return response;
  throw new CollectorError(response.status, describeFailure(response.status, await response.text(), path));
}

async function readJson<T>(response: Response): Promise<T> {
  const body = await response.text();
  try {
    return JSON.parse(body) as T;
  } catch {
    error(502, `The collector answered ${new URL(response.url || 'http://x').pathname} with something that is not JSON: ${body.slice(0, 200)}`);
  }
}

function describeFailure(status: number, body: string, path: string): string {
  let message = '';
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    message = body.trim().slice(0, 300);
  }
  if (!message) message = `The collector answered ${path} with HTTP ${status}.`;
  if (status === 401 || status === 403) {
    message += PARALLAX_API_KEY
      ? ' Check that PARALLAX_API_KEY is a key of this project (the dashboard needs an admin key to switch projects).'
      : ' The dashboard has no key: set PARALLAX_API_KEY to the same value the collector uses.';
  }
  return message;
}

/** SvelteKit's error() takes 400–599 only; anything else from upstream is a bad gateway. */
function httpErrorStatus(status: number): number {
  return status >= 400 && status <= 599 ? status : 502;
}

/** A write's failure as the text an action shows; anything that is not the collector's is rethrown. */
export function failureMessage(failure: unknown): string {
  if (failure instanceof CollectorError) return failure.message;
  throw failure;
}
