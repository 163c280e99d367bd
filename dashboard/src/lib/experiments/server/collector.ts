// The collector's experiment and switch-simulator endpoints, called the way #lib/server/collector.ts
// calls the rest of the JSON API: same key, same project header, same failure handling.
import { error } from '@sveltejs/kit';
import { PARALLAX_API_KEY, PARALLAX_COLLECTOR_URL } from '$app/env/private';
import { CollectorError, type CollectorContext, type Query } from '#lib/server/collector.ts';
import { PROJECT_COOKIE } from '#lib/server/project-cookie.ts';
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

export function experimentsApi(context: CollectorContext) {
  const projectId = context.cookies.get(PROJECT_COOKIE) || undefined;
  const id = encodeURIComponent;

  async function call(method: string, path: string, options: { query?: Query; body?: unknown; accept?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const url = new URL(PARALLAX_COLLECTOR_URL + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== null && value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
    if (PARALLAX_API_KEY) headers.authorization = `Bearer ${PARALLAX_API_KEY}`;
    if (projectId) headers['x-parallax-project'] = projectId;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await context.fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: options.signal });
    } catch (cause) {
      const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
      throw new CollectorError(502, `Cannot reach the Parallax collector at ${PARALLAX_COLLECTOR_URL} (${reason}).`);
    }
    if (!response.ok) throw new CollectorError(response.status, await messageOf(response, path));
    return response;
  }

  /** Reads: a failure is the page's error. */
  async function read<T>(path: string, query: Query = {}): Promise<T> {
    try {
      return (await (await call('GET', path, { query })).json()) as T;
    } catch (failure) {
      if (failure instanceof CollectorError) error(failure.status >= 400 && failure.status <= 599 ? failure.status : 502, failure.message);
      throw failure;
    }
  }

  /** Writes: a failure is a CollectorError for the action to show beside its form. */
  async function write<T>(path: string, body: unknown): Promise<T> {
    return (await (await call('POST', path, { body })).json()) as T;
  }

  return {
    list: () => read<ExperimentListResponse>('/api/v1/experiments'),
    details: (experimentId: string) => read<ExperimentResponse>(`/api/v1/experiments/${id(experimentId)}`),
    results: (experimentId: string, disagreements: boolean) =>
      read<ExperimentResultsResponse>(`/api/v1/experiments/${id(experimentId)}/results`, { disagreements: disagreements ? '1' : undefined }),
    estimate: (body: RunBody) => write<ExperimentEstimateResponse>('/api/v1/experiments/estimate', body),
    start: (body: StartBody) => write<{ experiment: ExperimentSummary }>('/api/v1/experiments', body),
    cancel: (experimentId: string) => write<{ experiment: ExperimentSummary }>(`/api/v1/experiments/${id(experimentId)}/cancel`, {}),
    rescore: (experimentId: string) => write<{ experiment: ExperimentSummary }>(`/api/v1/experiments/${id(experimentId)}/rescore`, {}),
    switchSimulator: (query: Query) => read<SwitchSimulatorResponse>('/api/v1/switch-simulator', query),
    /** The collector's progress stream, as it comes (text/event-stream). */
    events: (experimentId: string, signal: AbortSignal) =>
      call('GET', `/api/v1/experiments/${id(experimentId)}/events`, { accept: 'text/event-stream', signal }),
  };
}

/** The collector's `{ error: { code, message } }`, with the code kept where a page reacts to it. */
async function messageOf(response: Response, path: string): Promise<string> {
  const body = await response.text();
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    if (body.trim()) return body.trim().slice(0, 300);
  }
  return `The collector answered ${path} with HTTP ${response.status}.`;
}
