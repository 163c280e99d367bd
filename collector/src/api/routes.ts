import { Hono } from 'hono';
import type { ModelMetricsResponse, ProjectInfo, TimeseriesResponse, TraceListResponse, TraceResponse } from './contract.ts';
import type { AuthVariables } from './auth.ts';
import { apiError } from './errors.ts';
import { describeIssue, rangeAndFilters, timeseriesQuery, traceIdParam, traceListQuery } from './params.ts';
import type { Storage } from '../store/clickhouse.ts';
import type { SpanFilter } from '../store/filters.ts';
import { bucketSecondsFor, modelMetrics, modelTimeseries } from '../store/metrics.ts';
import type { ProjectStore } from '../store/projects.ts';
import { select } from '../store/queries.ts';
import { getTrace, listTraces, type TraceCursor } from '../store/traces.ts';

export interface ApiDeps {
  storage: Storage;
  projects: ProjectStore;
  /** The URL SDKs should export to, shown in set-up snippets. */
  publicUrl: string;
}

/** The JSON API under /api/v1. Every route is scoped to the project of the presented key. */
export function apiRoutes(deps: ApiDeps) {
  const api = new Hono<{ Variables: AuthVariables }>();

  api.get('/project', async (c) => {
    const key = c.get('key');
    const project = await deps.projects.getProject(key.projectId);
    if (!project) return apiError(c, 404, 'not_found', `project ${key.projectId} no longer exists`);
    const any = await select<{ n: number }>(
      deps.storage,
      'SELECT count() AS n FROM (SELECT 1 FROM {db}.spans WHERE project_id = {project:String} LIMIT 1)',
      { project: project.id },
    );
    const body: ProjectInfo = {
      project: { id: project.id, name: project.name },
      ingestEndpoint: `${deps.publicUrl}/v1/traces`,
      empty: (any[0]?.n ?? 0) === 0,
    };
    return c.json(body);
  });

  api.get('/metrics/models', async (c) => {
    const parsed = rangeAndFilters.safeParse(c.req.query());
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const filter = toFilter(c.get('key').projectId, parsed.data);
    const body: ModelMetricsResponse = {
      from: filter.from.toISOString(),
      to: filter.to.toISOString(),
      models: await modelMetrics(deps.storage, filter),
    };
    return c.json(body);
  });

  api.get('/metrics/timeseries', async (c) => {
    const query = c.req.query();
    const parsed = rangeAndFilters.safeParse(query);
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const extra = timeseriesQuery.safeParse(query);
    if (!extra.success) return apiError(c, 400, 'invalid_query', describeIssue(extra.error));
    const filter = toFilter(c.get('key').projectId, parsed.data);
    const bucketSeconds = extra.data.bucket ?? bucketSecondsFor(filter.from, filter.to);
    if ((filter.to.getTime() - filter.from.getTime()) / 1000 / bucketSeconds > 2000) {
      return apiError(c, 400, 'invalid_query', `invalid "bucket": ${bucketSeconds}s buckets over this range make more than 2000 points`);
    }
    const body: TimeseriesResponse = {
      from: filter.from.toISOString(),
      to: filter.to.toISOString(),
      bucketSeconds,
      points: await modelTimeseries(deps.storage, filter, bucketSeconds),
    };
    return c.json(body);
  });

  api.get('/traces', async (c) => {
    const query = c.req.query();
    const parsed = rangeAndFilters.safeParse(query);
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const list = traceListQuery.safeParse(query);
    if (!list.success) return apiError(c, 400, 'invalid_query', describeIssue(list.error));
    let cursor: TraceCursor | undefined;
    if (list.data.cursor) {
      cursor = decodeCursor(list.data.cursor) ?? undefined;
      if (!cursor) return apiError(c, 400, 'invalid_query', 'invalid "cursor": pass back the nextCursor of a previous page');
    }
    const { traces, next } = await listTraces(deps.storage, {
      ...toFilter(c.get('key').projectId, parsed.data),
      limit: list.data.limit,
      status: list.data.status,
      q: list.data.q,
      cursor,
    });
    const body: TraceListResponse = { traces, nextCursor: next ? encodeCursor(next) : null };
    return c.json(body);
  });

  api.get('/traces/:traceId', async (c) => {
    const traceId = traceIdParam.safeParse(c.req.param('traceId'));
    if (!traceId.success) return apiError(c, 400, 'invalid_query', describeIssue(traceId.error));
    const spans = await getTrace(deps.storage, c.get('key').projectId, traceId.data.toLowerCase());
    if (spans.length === 0) return apiError(c, 404, 'not_found', `no trace ${traceId.data} in this project`);
    const body: TraceResponse = { trace: { traceId: traceId.data.toLowerCase(), spans } };
    return c.json(body);
  });

  return api;
}

function toFilter(
  projectId: string,
  q: { from: Date; to: Date; service?: string | undefined; environment?: string | undefined; provider?: string | undefined; model?: string | undefined; user?: string | undefined; session?: string | undefined; tag?: string | undefined },
): SpanFilter {
  return {
    projectId,
    from: q.from,
    to: q.to,
    service: q.service,
    environment: q.environment,
    provider: q.provider,
    model: q.model,
    userId: q.user,
    sessionId: q.session,
    tag: q.tag,
  };
}

function encodeCursor(cursor: TraceCursor): string {
  return Buffer.from(JSON.stringify([cursor.startTime, cursor.traceId])).toString('base64url');
}

function decodeCursor(text: string): TraceCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      typeof value[0] === 'string' &&
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}$/.test(value[0]) &&
      typeof value[1] === 'string' &&
      /^[0-9a-f]{32}$/.test(value[1])
    ) {
      return { startTime: value[0], traceId: value[1] };
    }
  } catch {
    // fall through: not a cursor we issued
  }
  return null;
}
