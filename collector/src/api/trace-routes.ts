import { Hono } from 'hono';
import type { AuthVariables } from './auth.ts';
import type { SessionListResponse, TraceListResponse, TraceResponse } from './contract.ts';
import { apiError } from './errors.ts';
import { describeIssue, metadataFilter, rangeAndFilters, sessionListQuery, toFilter, traceIdParam, traceListQuery } from './params.ts';
import type { Storage } from '../store/clickhouse.ts';
import { listSessions } from '../store/sessions.ts';
import { getTrace, listTraces, type TraceCursor, type TraceSort } from '../store/traces.ts';

export function traceRoutes(storage: Storage) {
  const api = new Hono<{ Variables: AuthVariables }>();

  api.get('/traces', async (c) => {
    const query = c.req.query();
    const parsed = rangeAndFilters.safeParse(query);
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const list = traceListQuery.safeParse(query);
    if (!list.success) return apiError(c, 400, 'invalid_query', describeIssue(list.error));
    const metadata = metadataFilter(query);
    if (typeof metadata === 'string') return apiError(c, 400, 'invalid_query', metadata);
    const { cursor: cursorText, ...options } = list.data;
    let cursor: TraceCursor | undefined;
    if (cursorText) {
      cursor = decodeCursor(cursorText, options.sort, options.order) ?? undefined;
      if (!cursor) return apiError(c, 400, 'invalid_query', 'invalid "cursor": pass back the nextCursor of a previous page with the same sort');
    }
    const { traces, next } = await listTraces(storage, { ...toFilter(c.get('projectId'), parsed.data), ...options, metadata, cursor });
    const body: TraceListResponse = { traces, nextCursor: next ? encodeCursor(next, options.sort, options.order) : null };
    return c.json(body);
  });

  api.get('/traces/:traceId', async (c) => {
    const traceId = traceIdParam.safeParse(c.req.param('traceId'));
    if (!traceId.success) return apiError(c, 400, 'invalid_query', describeIssue(traceId.error));
    const id = traceId.data.toLowerCase();
    const spans = await getTrace(storage, c.get('projectId'), id);
    if (spans.length === 0) return apiError(c, 404, 'not_found', `no trace ${id} in this project`);
    const body: TraceResponse = { trace: { traceId: id, spans } };
    return c.json(body);
  });

  api.get('/sessions', async (c) => {
    const query = c.req.query();
    const parsed = rangeAndFilters.safeParse(query);
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const list = sessionListQuery.safeParse(query);
    if (!list.success) return apiError(c, 400, 'invalid_query', describeIssue(list.error));
    const body: SessionListResponse = {
      sessions: await listSessions(storage, toFilter(c.get('projectId'), parsed.data), list.data.limit),
    };
    return c.json(body);
  });

  return api;
}

/** Cursors are opaque to clients; they carry the sort they were made for, so a mixed-up one is refused. */
function encodeCursor(cursor: TraceCursor, sort: TraceSort, order: string): string {
  return Buffer.from(JSON.stringify([sort, order, cursor.value, cursor.traceId])).toString('base64url');
}

function decodeCursor(text: string, sort: TraceSort, order: string): TraceCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 4 || value[0] !== sort || value[1] !== order) return null;
    const [, , sortValue, traceId] = value as unknown[];
    const valueShape = sort === 'time' ? /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}$/ : /^-?\d+(\.\d+)?(e[+-]?\d+)?$/;
    if (typeof sortValue === 'string' && valueShape.test(sortValue) && typeof traceId === 'string' && /^[0-9a-f]{32}$/.test(traceId)) {
      return { value: sortValue, traceId };
    }
  } catch {
    // fall through: not a cursor we issued
  }
  return null;
}
