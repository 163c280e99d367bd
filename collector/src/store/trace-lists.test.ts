import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceListResponse, TraceSummary } from '../api/contract.ts';
import { metadataFilter, rangeAndFilters, toFilter, traceListQuery } from '../api/params.ts';
import { chatAttributes, exportThroughOtlp, sealEverything, startTestCollector, type TestCollector } from '../test-support.ts';
import { DEFAULT_PROJECT_ID, generateKey, toIso } from './projects.ts';
import { select } from './queries.ts';
import { spanConditions, totalsConditions, TRACE_SUMMARY } from './trace-conditions.ts';
import type { TraceQuery } from './traces.ts';

// Trace lists never sum every trace's spans: newest first walks back from the end of the range,
// other orders rank traces on their rollup rows and read the rows of a page alone. Whatever the
// order and filters, page after page, they must list what the definition gives: the range's spans
// grouped by trace, a trace kept when some span meets each span condition and its sums meet the rest.

const HOUR = 3_600_000;

interface Call {
  model: string;
  user: string;
  at: number;
  text?: string;
  error?: boolean;
  tags?: string[];
  session?: string;
  inputTokens?: number;
}

/** A trace: a root span at `rootAt`, then its LLM calls (which may start hours later). */
function emitTrace(tracer: Tracer, rootAt: number, calls: Call[]): void {
  const root = tracer.startSpan('handle request', { kind: SpanKind.SERVER, startTime: rootAt });
  let end = rootAt + 5;
  for (const call of calls) {
    const span = tracer.startSpan(
      `chat ${call.model}`,
      {
        kind: SpanKind.CLIENT,
        startTime: call.at,
        attributes: {
          ...chatAttributes({ model: call.model, inputTokens: call.inputTokens ?? 100, outputTokens: 10, input: call.text ?? 'hello' }),
          'user.id': call.user,
          ...(call.tags ? { 'parallax.tags': call.tags } : {}),
          ...(call.session ? { 'session.id': call.session } : {}),
        },
      },
      trace.setSpan(context.active(), root),
    );
    if (call.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    span.end(call.at + 250);
    end = Math.max(end, call.at + 251);
  }
  root.end(end);
}

describe('trace lists', () => {
  let collector: TestCollector;
  let range: string;
  /** Four days up to the same end: a range this long is ranked from trace_summaries, a shorter one from spans. */
  let longRange: string;
  let base: number;

  beforeAll(async () => {
    collector = await startTestCollector();
    base = Math.floor((Date.now() - 86_400_000) / HOUR) * HOUR;
    const from = base + 10 * 60_000;
    // Both ends in the middle of an hour: the lists read those hours from spans, the others from trace_summaries.
    range = `from=${new Date(from).toISOString()}&to=${new Date(base + 9 * HOUR + 7 * 60_000).toISOString()}`;
    longRange = `from=${new Date(from - 4 * 24 * HOUR).toISOString()}&to=${new Date(base + 9 * HOUR + 7 * 60_000).toISOString()}`;
    const models = ['gpt-4o-mini', 'claude-haiku-4-5'];
    const traces: { rootAt: number; calls: Call[] }[] = [];
    // Traces spread over eight hours, with gaps the walk has to widen its window across.
    for (let i = 0; i < 14; i++) {
      const at = base + 20 * 60_000 + i * 33 * 60_000 + (i > 9 ? 90 * 60_000 : 0);
      traces.push({
        rootAt: at,
        calls: [
          {
            model: models[i % 2]!,
            user: `u${i % 3}`,
            at: at + 3,
            text: i % 4 === 0 ? 'where is the NEEDLE?' : 'hello',
            error: i % 5 === 0,
            ...(i % 3 === 0 ? { tags: ['beta'] } : {}),
            inputTokens: 50 + ((i * 137) % 400),
          },
        ],
      });
    }
    // Ten traces starting in the same millisecond: more ties than one batch of a page of three holds.
    for (let i = 0; i < 10; i++) traces.push({ rootAt: base + 2 * HOUR, calls: [{ model: 'gpt-4o-mini', user: 'u1', at: base + 2 * HOUR }] });
    // A trace whose only call comes five hours after it started, by a user nobody else is.
    traces.push({ rootAt: base + HOUR, calls: [{ model: 'claude-haiku-4-5', user: 'u9', at: base + 6 * HOUR, text: 'late needle' }] });
    // gpt-4o: two traces that began hours before their calls, late in the range, and one in between
    // that began later than both. Read newest first by that model, it must come second.
    traces.push({ rootAt: base + 8 * HOUR + 50 * 60_000, calls: [{ model: 'gpt-4o', user: 'u3', at: base + 8 * HOUR + 50 * 60_000 }] });
    traces.push({ rootAt: base + 2 * HOUR, calls: [{ model: 'gpt-4o', user: 'u3', at: base + 8 * HOUR + 30 * 60_000 }] });
    traces.push({ rootAt: base + 90 * 60_000, calls: [{ model: 'gpt-4o', user: 'u3', at: base + 8 * HOUR + 20 * 60_000 }] });
    traces.push({ rootAt: base + 5 * HOUR, calls: [{ model: 'gpt-4o', user: 'u3', at: base + 5 * HOUR }] });
    // A user's call on one model and another user's call on another, in one trace: filtered by the
    // first user and the second model, the trace is listed (each condition holds for some span).
    traces.push({
      rootAt: base + 3 * HOUR + 10 * 60_000,
      calls: [
        { model: 'claude-haiku-4-5', user: 'u7', at: base + 3 * HOUR + 10 * 60_000 + 5, session: 's1' },
        { model: 'gpt-4o', user: 'u8', at: base + 4 * HOUR + 5 * 60_000, tags: ['beta'] },
      ],
    });
    // Traces in the last, partial hour of the range: one wholly inside it, one with a second call after its end
    // (only the first counts, so that hour's rollup row cannot stand for the trace).
    traces.push({ rootAt: base + 9 * HOUR + 2 * 60_000, calls: [{ model: 'gpt-4o-mini', user: 'u1', at: base + 9 * HOUR + 2 * 60_000 + 5, tags: ['beta'] }] });
    traces.push({
      rootAt: base + 9 * HOUR + 4 * 60_000,
      calls: [
        { model: 'gpt-4o-mini', user: 'u1', at: base + 9 * HOUR + 4 * 60_000 + 5, tags: ['beta'] },
        { model: 'claude-haiku-4-5', user: 'u1', at: base + 9 * HOUR + 9 * 60_000 },
      ],
    });
    // Two calls of 1,000 tokens outweigh one of 1,500, which outweighs either: a trace is ranked by its sum.
    traces.push({
      rootAt: base + 7 * HOUR,
      calls: [
        { model: 'gpt-4o-mini', user: 'u4', at: base + 7 * HOUR + 5, inputTokens: 1_000 },
        { model: 'gpt-4o-mini', user: 'u4', at: base + 7 * HOUR + 10, inputTokens: 1_000 },
      ],
    });
    traces.push({ rootAt: base + 7 * HOUR + 60_000, calls: [{ model: 'gpt-4o-mini', user: 'u4', at: base + 7 * HOUR + 60_005, inputTokens: 1_500 }] });
    // A trace that began before the range: only its spans inside the range count.
    traces.push({ rootAt: from - 10 * 60_000, calls: [{ model: 'gpt-4o-mini', user: 'u2', at: from + 60_000 }] });
    // Another, whose only call in the range is the newest of its user's: first in their list, though its
    // rows in the range's hours begin before the range.
    traces.push({ rootAt: from - 10 * 60_000, calls: [{ model: 'gpt-4.1', user: 'u5', at: base + 6 * HOUR }] });
    traces.push({ rootAt: base + HOUR, calls: [{ model: 'gpt-4.1', user: 'u5', at: base + HOUR + 5 }] });
    traces.push({ rootAt: base + 2 * HOUR, calls: [{ model: 'gpt-4.1', user: 'u5', at: base + 2 * HOUR + 5 }] });
    // A trace with no LLM call: no cost, so no cost range holds for it.
    traces.push({ rootAt: base + 4 * HOUR + 7 * 60_000, calls: [] });
    // One that began before the long range, with a call inside its whole hours: ranked by that call alone.
    traces.push({ rootAt: from - 4 * 24 * HOUR - 20 * 60_000, calls: [{ model: 'gpt-4o-mini', user: 'u6', at: from - 4 * 24 * HOUR + 3 * HOUR, inputTokens: 5_000 }] });
    for (let start = 0; start < traces.length; start += 6) {
      await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
        for (const t of traces.slice(start, start + 6)) emitTrace(tracer, t.rootAt, t.calls);
      });
    }
    // Another project's traces at the same times must not appear.
    const other = await collector.projects.createProject('Other team');
    const otherKey = generateKey();
    await collector.projects.addKey(other.id, otherKey, { name: 'other', scope: 'full' });
    await exportThroughOtlp(collector.url, otherKey, (tracer) => {
      for (const t of traces.slice(0, 6)) emitTrace(tracer, t.rootAt, t.calls);
    });
  });
  afterAll(async () => {
    await collector.close();
  });

  async function list(query: string, within = range): Promise<TraceListResponse> {
    const response = await collector.api<TraceListResponse>(`/api/v1/traces?${within}&${query}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  }

  /** The list by its definition: the range's spans grouped by trace, filtered and sorted by the sums. */
  async function definition(filter: string, sort: string, order: 'asc' | 'desc', within = range): Promise<TraceSummary[]> {
    const raw = Object.fromEntries(new URLSearchParams(`${within}&${filter}&sort=${sort}&order=${order}`));
    const metadata = metadataFilter(raw);
    if (typeof metadata === 'string') throw new Error(metadata);
    const query: TraceQuery = { ...toFilter(DEFAULT_PROJECT_ID, rangeAndFilters.parse(raw)), ...traceListQuery.parse(raw), metadata, cursor: undefined };
    const spans = spanConditions(query);
    const totals = totalsConditions(query);
    const by = { time: 'min(start_time)', duration: 'durationMs', cost: 'coalesce(cost, -1)', tokens: 'inputTokens + outputTokens' }[query.sort];
    const direction = order.toUpperCase();
    const having = [...spans.map((c) => `countIf(${c.sql}) > 0`), ...totals.map((c) => c.sql)];
    const rows = await select<TraceSummary>(
      collector.storage,
      `SELECT ${TRACE_SUMMARY} FROM {db}.spans
       WHERE project_id = {project:String} AND start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}
       GROUP BY trace_id ${having.length ? `HAVING ${having.join(' AND ')}` : ''}
       ORDER BY ${by} ${direction}, trace_id ${direction}`,
      Object.assign({ project: DEFAULT_PROJECT_ID, from: query.from.toISOString().slice(0, 23).replace('T', ' '), to: query.to.toISOString().slice(0, 23).replace('T', ' ') }, ...[...spans, ...totals].map((c) => c.params)),
    );
    return rows.map((row) => ({ ...row, startTime: toIso(row.startTime.slice(0, 23)) }));
  }

  async function pages(filter: string, pageSize: number, within = range): Promise<TraceSummary[]> {
    const all: TraceSummary[] = [];
    let cursor: string | null = null;
    do {
      const page: TraceListResponse = await list(`${filter}&limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`, within);
      expect(page.traces.length).toBeLessThanOrEqual(pageSize);
      all.push(...page.traces);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  const filters = [
    '',
    'model=claude-haiku-4-5',
    'model=gpt-4o',
    'user=u9',
    'user=u1&model=gpt-4o-mini',
    'q=needle',
    'status=error',
    'status=ok&model=gpt-4o-mini',
    'minDurationMs=200&maxDurationMs=300',
    'user=nobody',
    'user=u7&model=gpt-4o',
    'tag=beta&model=gpt-4o-mini',
    'user=u8&tag=beta',
    'session=s1&user=u8',
    'session=s1&user=u9',
    'provider=openai&status=error',
    'user=u2&status=ok',
    'user=u2&model=gpt-4o-mini',
    'user=u5&model=gpt-4.1',
    'q=needle&minCost=0.00001',
    'maxCost=0.0001',
  ];
  it.each(filters)('lists newest first what the definition gives, page by page (%s)', async (filter) => {
    const expected = await definition(filter, 'time', 'desc');
    for (const pageSize of [2, 3, 50]) {
      expect(await pages(filter, pageSize)).toEqual(expected);
    }
  });

  const orders = ['time&order=asc', 'cost&order=desc', 'cost&order=asc', 'duration&order=desc', 'tokens&order=desc', 'tokens&order=asc'];
  async function expectEveryOtherOrder(filter: string, within: string): Promise<void> {
    for (const order of orders) {
      const [sort, direction] = [order.split('&')[0]!, order.endsWith('asc') ? 'asc' : 'desc'] as const;
      const expected = await definition(filter, sort, direction, within);
      for (const pageSize of [3, 50]) {
        expect(await pages(`${filter}&sort=${order}`, pageSize, within), `${filter} sorted by ${order}`).toEqual(expected);
      }
    }
  }
  it.each(filters.flatMap((filter) => [[filter, 'short'] as const, [filter, 'long'] as const]))(
    'lists in every other order what the definition gives, page by page (%s, %s range)',
    (filter, length) => expectEveryOtherOrder(filter, length === 'short' ? range : longRange),
  );

  // Sealed, the long range ranks the traces wholly inside its whole hours on their trace_totals rows
  // and sums only the rest (the traces in its partial last hour, one reaching past its end): a trace
  // missing from either side, or in both, breaks the definition.
  describe('once every trace is sealed', () => {
    beforeAll(async () => {
      await sealEverything(collector.storage);
    });
    it.each(filters)('lists over days in every other order what the definition gives (%s)', (filter) => expectEveryOtherOrder(filter, longRange));
  });

  it('finds a trace whose conditions hold on different spans, and not one where they hold on none', async () => {
    const [both] = (await list('user=u7&model=gpt-4o')).traces;
    expect(both?.models).toEqual(['claude-haiku-4-5', 'gpt-4o']);
    expect((await list('user=u7&model=gpt-4o-mini')).traces).toEqual([]);
    expect((await list('user=u8&tag=beta')).traces.map((t) => t.traceId)).toEqual([both?.traceId]);
    expect((await list('session=s1&user=u8')).traces.map((t) => t.traceId)).toEqual([both?.traceId]);
  });

  it('lists traces when more start in the same nanosecond than the largest batch the walk reads', async () => {
    // Two days before the other traces, so no other list sees them. Sent as one OTLP/JSON request.
    const at = BigInt(Math.floor((Date.now() - 3 * 86_400_000) / HOUR) * HOUR) * 1_000_000n;
    const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
    const spans = Array.from({ length: 2_100 }, (_, i) => ({
      traceId: hex(i + 1, 32),
      spanId: hex(i + 1, 16),
      name: 'tied',
      kind: 2,
      startTimeUnixNano: String(at),
      endTimeUnixNano: String(at + 1_000_000n),
    }));
    const sent = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${collector.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'ties' }, spans }] }] }),
    });
    expect(sent.status).toBe(200);
    const window = `from=${new Date(Number(at / 1_000_000n) - HOUR).toISOString()}&to=${new Date(Number(at / 1_000_000n) + HOUR).toISOString()}`;
    const first = await collector.api<TraceListResponse>(`/api/v1/traces?${window}&limit=1`);
    expect(first.status).toBe(200);
    // Equal starts are listed by trace id, highest first.
    expect(first.body.traces.map((t) => t.traceId)).toEqual([hex(2_100, 32)]);

    // Ranked lists break ties by trace id as well, ids with leading zero bytes included: ranked from the
    // spans (2 hours) and from trace_summaries (4 days; every other trace lasts longer than these).
    const longWindow = `from=${new Date(Number(at / 1_000_000n) - 2 * 86_400_000).toISOString()}&to=${new Date(Number(at / 1_000_000n) + 2 * 86_400_000).toISOString()}`;
    for (const within of [window, longWindow]) {
      const shortest = await list('sort=duration&order=asc&limit=2', within);
      expect(shortest.traces.map((t) => t.traceId)).toEqual([hex(1, 32), hex(2, 32)]);
      const next = await list(`sort=duration&order=asc&limit=2&cursor=${shortest.nextCursor}`, within);
      expect(next.traces.map((t) => t.traceId)).toEqual([hex(3, 32), hex(4, 32)]);
    }
    expect((await list('sort=duration&order=desc&limit=2', window)).traces.map((t) => t.traceId)).toEqual([hex(2_100, 32), hex(2_099, 32)]);
  });

  it('lists first a trace that began before the range when its part in the range is the newest', async () => {
    const [first] = (await list('user=u5&model=gpt-4.1&limit=1')).traces;
    expect(first?.startTime).toBe(new Date(base + 6 * HOUR).toISOString());
  });

  it('finds a trace by a call made hours after the trace began', async () => {
    const [late] = (await list('user=u9')).traces;
    expect(late?.models).toEqual(['claude-haiku-4-5']);
    expect(late?.durationMs).toBeGreaterThan(5 * HOUR - 1000);
    expect((await list('q=late%20needle&limit=1')).traces.map((t) => t.traceId)).toEqual([late?.traceId]);
  });
});
