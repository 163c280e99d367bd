import { Hono } from 'hono';
import { z } from 'zod';
import type { AuthVariables } from './auth.ts';
import type { ChatMessage, SessionResponse, SessionTrace, SessionTurn, SpanDetail } from './contract.ts';
import { apiError } from './errors.ts';
import { describeIssue } from './params.ts';
import type { Storage } from '../store/clickhouse.ts';
import { sessionModels, sessionTotals, sessionTracePage, type SessionTraceCursor } from '../store/session-traces.ts';
import { getTraces, summariseTraces } from '../store/traces.ts';

const sessionIdParam = z.string().min(1, 'session id is empty').max(500, 'session id is longer than 500 characters');
const sessionPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(300).optional(),
});

/** One session as a conversation: its totals over all time, and its traces oldest first with their LLM calls. */
export function sessionRoutes(storage: Storage) {
  const api = new Hono<{ Variables: AuthVariables }>();

  api.get('/sessions/:sessionId', async (c) => {
    const sessionId = sessionIdParam.safeParse(c.req.param('sessionId'));
    if (!sessionId.success) return apiError(c, 400, 'invalid_query', describeIssue(sessionId.error));
    const page = sessionPageQuery.safeParse(c.req.query());
    if (!page.success) return apiError(c, 400, 'invalid_query', describeIssue(page.error));
    let cursor: SessionTraceCursor | undefined;
    if (page.data.cursor) {
      cursor = decodeCursor(page.data.cursor) ?? undefined;
      if (!cursor) return apiError(c, 400, 'invalid_query', 'invalid "cursor": pass back the nextCursor of a previous page of this session');
    }

    const projectId = c.get('projectId');
    // A session is read whole, not within a dashboard time range, from the session_traces rollup.
    const session = await sessionTotals(storage, projectId, sessionId.data);
    if (!session) return apiError(c, 404, 'not_found', `no session ${JSON.stringify(sessionId.data)} in this project`);
    const [models, list] = await Promise.all([
      sessionModels(storage, projectId, sessionId.data),
      sessionTracePage(storage, projectId, sessionId.data, page.data.limit, cursor),
    ]);
    // Traces are chosen by their session spans, but summed over all their spans: a root span that
    // began before the app set the session id still counts.
    const [summaries, spans] = await Promise.all([summariseTraces(storage, projectId, list.traceIds), getTraces(storage, projectId, list.traceIds)]);
    const traces: SessionTrace[] = summaries.map((trace) => ({ ...trace, turns: turnsOf(spans.get(trace.traceId) ?? []) }));

    const body: SessionResponse = { session, models, traces, nextCursor: list.next ? encodeCursor(list.next) : null };
    return c.json(body);
  });

  return api;
}

function turnsOf(spans: SpanDetail[]): SessionTurn[] {
  return spans
    .filter((span) => span.llm)
    .sort((a, b) => compareNanos(a.startTimeUnixNano, b.startTimeUnixNano))
    .map((span) => {
      const llm = span.llm!;
      const input = llm.inputMessages ?? [];
      const newFrom = newMessagesStart(input);
      return {
        spanId: span.spanId,
        startTime: span.startTime,
        durationMs: span.durationMs,
        model: llm.responseModel || llm.requestModel,
        provider: llm.provider,
        statusCode: span.statusCode,
        statusMessage: span.statusMessage,
        inputTokens: llm.inputTokens,
        outputTokens: llm.outputTokens,
        cost: llm.cost?.total ?? null,
        newInput: input.slice(newFrom),
        earlierMessages: newFrom,
        output: llm.outputMessages,
      };
    });
}

/** Index of the first message after the model's last answer in a call's input. */
function newMessagesStart(input: ChatMessage[]): number {
  for (let i = input.length - 1; i >= 0; i--) {
    if (input[i]!.role === 'assistant') return i + 1;
  }
  return 0;
}

function compareNanos(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

/** Opaque to clients; always a position in the oldest-first order of one session's traces. */
function encodeCursor(cursor: SessionTraceCursor): string {
  return Buffer.from(JSON.stringify([cursor.start, cursor.traceId])).toString('base64url');
}

function decodeCursor(text: string): SessionTraceCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [time, traceId] = value as unknown[];
    if (typeof time === 'string' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}$/.test(time) && typeof traceId === 'string' && /^[0-9a-f]{32}$/.test(traceId)) {
      return { start: time, traceId };
    }
  } catch {
    // fall through: not a cursor we issued
  }
  return null;
}
