import { error } from '@sveltejs/kit';
import { PARALLAX_API_KEY, PARALLAX_COLLECTOR_URL } from '$app/env/private';
import type {
  BreakdownResponse,
  ModelMetricsResponse,
  ProjectInfo,
  TimeseriesResponse,
  TraceListResponse,
  TraceResponse,
} from '#lib/api-types.ts';

type Fetch = typeof fetch;
export type Query = Record<string, string | number | null | undefined>;

/** The collector's JSON API, as every load function sees it. Errors become SvelteKit errors. */
export function collector(fetch: Fetch) {
  const get = <T>(path: string, query: Query = {}) => getJson<T>(fetch, path, query);
  return {
    project: () => get<ProjectInfo>('/api/v1/project'),
    modelMetrics: (query: Query) => get<ModelMetricsResponse>('/api/v1/metrics/models', query),
    breakdown: (query: Query) => get<BreakdownResponse>('/api/v1/metrics/breakdown', query),
    timeseries: (query: Query) => get<TimeseriesResponse>('/api/v1/metrics/timeseries', query),
    traces: (query: Query) => get<TraceListResponse>('/api/v1/traces', query),
    trace: (traceId: string) => get<TraceResponse>(`/api/v1/traces/${encodeURIComponent(traceId)}`),
  };
}

async function getJson<T>(fetch: Fetch, path: string, query: Query): Promise<T> {
  const url = new URL(PARALLAX_COLLECTOR_URL + path);
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') url.searchParams.set(key, String(value));
  }

  const headers: Record<string, string> = { accept: 'application/json' };
  if (PARALLAX_API_KEY) headers.authorization = `Bearer ${PARALLAX_API_KEY}`;

  let response: Response;
  try {
    response = await fetch(url, { headers });
  } catch (cause) {
    const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    error(
      502,
      `Cannot reach the Parallax collector at ${PARALLAX_COLLECTOR_URL} (${reason}). ` +
        'Start it with `node collector/src/main.ts`, or point PARALLAX_COLLECTOR_URL at it.',
    );
  }

  const body = await response.text();
  if (!response.ok) error(httpErrorStatus(response.status), describeFailure(response.status, body, path));

  try {
    return JSON.parse(body) as T;
  } catch {
    error(502, `The collector answered ${path} with something that is not JSON: ${body.slice(0, 200)}`);
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
      ? ' Check that PARALLAX_API_KEY is a key of this project.'
      : ' The dashboard has no key: set PARALLAX_API_KEY to the same value the collector uses.';
  }
  return message;
}

/** SvelteKit's error() takes 400–599 only; anything else from upstream is a bad gateway. */
function httpErrorStatus(status: number): number {
  return status >= 400 && status <= 599 ? status : 502;
}
