import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakdownResponse, DimensionValuesResponse, ModelMetricsResponse, SessionListResponse, SessionResponse, TimeseriesResponse, TraceListResponse } from '../api/contract.ts';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { clickhouseParamTime } from './filters.ts';
import { backfillLlmHours, MERGED_METRICS, rollupSource, wholeHours } from './llm-hours.ts';
import { select } from './queries.ts';
import { generateKey } from './projects.ts';
import { applyRetention } from './retention.ts';

// The rollups must give the answers the spans give. Each check below asks the JSON API over a range
// whose middle is whole hours (read from llm_hours and session_hours) and whose ends are partial
// hours (read from spans), and compares with the same figures computed straight from the spans table.

const HOUR = 3_600_000;
const MODELS = [
  { model: 'gpt-4o-mini', provider: 'openai' },
  { model: 'claude-haiku-4-5', provider: 'anthropic' },
  { model: 'llama3.1:8b', provider: 'ollama' },
];
const SERVICES = [
  { 'service.name': 'checkout', 'deployment.environment.name': 'production' },
  { 'service.name': 'search', 'deployment.environment.name': 'staging' },
];

interface Call {
  at: number;
  model: number;
  durationMs: number;
  error?: boolean;
  ttftSeconds?: number;
  /** One of seven sessions (by `at`) unless named. */
  session?: string;
}

/** An agent trace per call: a root span and one LLM call under it, in a session of some user. */
function emitCalls(tracer: Tracer, calls: Call[]): void {
  for (const call of calls) {
    const { model, provider } = MODELS[call.model]!;
    const session = (call.model * 4 + (call.at % 4)) % 7;
    const who = { 'session.id': call.session ?? `session-${session}`, 'user.id': `user-${session % 3}` };
    // Half the roots carry the session too (an app that sets it early); the others only the call.
    const root = tracer.startSpan('handle request', { kind: SpanKind.SERVER, startTime: call.at, attributes: call.at % 2 ? who : {} });
    const llm = tracer.startSpan(
      `chat ${model}`,
      {
        kind: SpanKind.CLIENT,
        startTime: call.at + 1,
        attributes: {
          ...chatAttributes({ provider, model, inputTokens: 1000 + (call.at % 997), outputTokens: 50 + (call.at % 301), cacheReadTokens: call.at % 3 === 0 ? 200 : 0 }),
          ...who,
          // Some calls carry no tags, some one, some two (a value counts once per span that has it).
          'parallax.tags': [['support', 'beta'], ['support'], []][call.at % 3]!,
          ...(call.ttftSeconds === undefined ? {} : { 'gen_ai.response.time_to_first_chunk': call.ttftSeconds }),
        },
      },
      trace.setSpan(context.active(), root),
    );
    if (call.error) llm.setStatus({ code: SpanStatusCode.ERROR, message: 'overloaded' });
    llm.end(call.at + 1 + call.durationMs);
    root.end(call.at + 2 + call.durationMs);
  }
}

/** Sends the calls, a few per export (the exporter caps concurrent exports), half from each service. */
async function send(collector: TestCollector, key: string, calls: Call[]): Promise<void> {
  for (const [i, resource] of SERVICES.entries()) {
    const mine = calls.filter((_, j) => j % SERVICES.length === i);
    for (let start = 0; start < mine.length; start += 8) {
      await exportThroughOtlp(collector.url, key, (tracer) => emitCalls(tracer, mine.slice(start, start + 8)), resource);
    }
  }
}

/** Forty calls over six hours around `base`, on every model, service and environment. */
function callsAround(base: number): Call[] {
  return Array.from({ length: 40 }, (_, i) => ({
    at: base - 3 * HOUR + i * 9 * 60_000 + 7_000 + i,
    model: i % 3,
    durationMs: 100 + ((i * 37) % 500),
    error: i % 7 === 3,
    ttftSeconds: i % 3 === 1 ? 0.05 + (i % 5) / 100 : undefined,
  }));
}

const METRICS_FROM_SPANS = `
  count() AS calls,
  countIf(status_code = 'ERROR') AS errors,
  sum(input_tokens) AS inputTokens,
  sum(output_tokens) AS outputTokens,
  sum(cache_read_tokens) AS cacheReadTokens,
  sum(reasoning_tokens) AS reasoningTokens,
  if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost,
  countIf(cost_total IS NULL) AS unpricedCalls,
  round(quantile(0.5)(duration_ms), 3) AS latencyP50Ms,
  round(quantile(0.95)(duration_ms), 3) AS latencyP95Ms,
  round(quantile(0.99)(duration_ms), 3) AS latencyP99Ms,
  if(countIf(ttft_ms IS NOT NULL) = 0, NULL, round(quantileIf(0.5)(ttft_ms, ttft_ms IS NOT NULL), 3)) AS ttftP50Ms,
  if(countIf(ttft_ms IS NOT NULL) = 0, NULL, round(quantileIf(0.95)(ttft_ms, ttft_ms IS NOT NULL), 3)) AS ttftP95Ms,
  if(countIf(output_tokens > 0 AND duration_ms > 0) = 0, NULL,
     round(quantileIf(0.5)(output_tokens * 1000 / duration_ms, output_tokens > 0 AND duration_ms > 0), 2)) AS tokensPerSecond`;

/** The rows the API should return, computed from the spans table alone. */
async function fromSpans(
  collector: TestCollector,
  select: string,
  where: string,
  groupBy: string,
  range: { from: number; to: number },
  params: Record<string, unknown> = {},
  allSpans = false,
) {
  const result = await collector.storage.client.query({
    query: `SELECT ${select} FROM ${quoteIdentifier(collector.storage.database)}.spans
            WHERE project_id = 'default' ${allSpans ? '' : "AND operation != ''"} AND start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')} ${where}
            GROUP BY ${groupBy} ORDER BY ${groupBy}
            SETTINGS prefer_column_name_to_alias = 1`,
    query_params: { from: clickhouseParamTime(new Date(range.from)), to: clickhouseParamTime(new Date(range.to)), ...params },
    format: 'JSONEachRow',
  });
  return result.json<Record<string, unknown>>();
}

/** A session's totals as the API gives them, straight from its spans. */
const SESSIONS_FROM_SPANS = `session_id AS sessionId, anyIf(user_id, user_id != '') AS userId,
  uniqExact(trace_id) AS traces, countIf(operation != '') AS llmCalls, countIf(status_code = 'ERROR') AS errors,
  sum(input_tokens) AS inputTokens, sum(output_tokens) AS outputTokens, if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost,
  ${isoMillis('min(start_time)')} AS firstSeen, ${isoMillis('max(end_time)')} AS lastSeen`;

function isoMillis(time: string): string {
  return `formatDateTime(${time}, '%Y-%m-%dT%H:%i:%S.', 'UTC') || leftPad(toString(toMillisecond(${time})), 3, '0') || 'Z'`;
}

/**
 * Every session's page over all time, paged ten traces at a time, against the spans: its totals,
 * its calls and cost per model, its traces in order of their first span in the session, and each
 * trace summed over all its spans (a root span without the session id too).
 */
async function expectSessionPagesMatchSpans(collector: TestCollector): Promise<void> {
  const inProject = "project_id = 'default'";
  const sessions = await select<{ sessionId: string }>(collector.storage, `SELECT DISTINCT session_id AS sessionId FROM {db}.spans WHERE ${inProject} AND session_id != ''`, {});
  expect(sessions.length).toBeGreaterThan(2);
  for (const { sessionId } of sessions) {
    const inSession = `${inProject} AND session_id = {session:String}`;
    const totals = await select<Record<string, unknown>>(collector.storage, `SELECT ${SESSIONS_FROM_SPANS} FROM {db}.spans WHERE ${inSession} GROUP BY session_id`, { session: sessionId });
    const models = await select<Record<string, unknown>>(
      collector.storage,
      `SELECT model, any(provider) AS provider, count() AS calls, if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost
       FROM {db}.spans WHERE ${inSession} AND operation != '' GROUP BY model ORDER BY coalesce(cost, 0) DESC, calls DESC, model`,
      { session: sessionId },
    );
    const traces = await select<Record<string, unknown>>(
      collector.storage,
      `SELECT trace_id AS traceId, count() AS spanCount, countIf(operation != '') AS llmCalls, countIf(status_code = 'ERROR') AS errorCount,
              arraySort(groupUniqArrayIf(model, model != '')) AS models, sum(input_tokens) AS inputTokens, sum(output_tokens) AS outputTokens,
              if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost, ${isoMillis('min(start_time)')} AS startTime,
              (toUnixTimestamp64Nano(max(end_time)) - toUnixTimestamp64Nano(min(start_time))) / 1e6 AS durationMs,
              minIf(start_time, session_id = {session:String}) AS firstInSession
       FROM {db}.spans
       WHERE ${inProject} AND trace_id IN (SELECT trace_id FROM {db}.spans WHERE ${inSession})
       GROUP BY trace_id ORDER BY firstInSession, traceId`,
      { session: sessionId },
    );
    const listed: SessionResponse['traces'] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: SessionResponse } = await collector.api<SessionResponse>(
        `/api/v1/sessions/${encodeURIComponent(sessionId)}?limit=10${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expectSameRows([page.body.session], totals, ['sessionId']);
      expect(page.body.models.map((m) => m.model)).toEqual(models.map((m) => m.model));
      expectSameRows(page.body.models, models, ['model']);
      listed.push(...page.body.traces);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(listed.map((t) => t.traceId)).toEqual(traces.map((t) => t.traceId));
    expectSameRows(listed, traces.map(({ firstInSession: _, ...t }) => t), ['traceId']);
  }
}

/** What /metrics/values should list for a dimension: every non-empty value on spans in the range. */
/**
 * Trace lists filtered by what trace_summaries holds, newest first (summed from it over whole hours,
 * from spans over the partial ones), against oldest first reversed (summed from the spans alone).
 */
async function expectTraceListsMatchSpans(collector: TestCollector, range: { from: number; to: number }): Promise<void> {
  const window = `from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}`;
  for (const filter of ['user=user-1&model=claude-haiku-4-5', 'tag=beta&service=search', 'provider=anthropic&environment=staging', 'session=session-2&user=user-2', 'service=search&status=error', 'environment=production&minCost=0']) {
    const newest = await collector.api<TraceListResponse>(`/api/v1/traces?${window}&${filter}&limit=500`);
    expect(newest.status, JSON.stringify(newest.body)).toBe(200);
    const oldest = await collector.api<TraceListResponse>(`/api/v1/traces?${window}&${filter}&limit=500&sort=time&order=asc`);
    expect(newest.body.traces.length, filter).toBeGreaterThan(0);
    expect(newest.body.traces, filter).toEqual([...oldest.body.traces].reverse());
  }
}

async function valuesFromSpans(collector: TestCollector, values: string, range: { from: number; to: number }, project = 'default') {
  return select<Record<string, unknown>>(
    collector.storage,
    `SELECT value, count() AS spans FROM {db}.spans ARRAY JOIN ${values} AS value
     WHERE project_id = {project:String} AND value != '' AND start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}
     GROUP BY value`,
    { project, from: clickhouseParamTime(new Date(range.from)), to: clickhouseParamTime(new Date(range.to)) },
  );
}

const VALUE_COLUMNS = { model: '[model]', provider: '[provider]', service: '[service_name]', environment: '[environment]', user: '[user_id]', tag: 'tags' };

async function expectValuesMatchSpans(collector: TestCollector, range: { from: number; to: number }): Promise<void> {
  const window = `from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}`;
  for (const [dimension, values] of Object.entries(VALUE_COLUMNS)) {
    const listed = await collector.api<DimensionValuesResponse>(`/api/v1/metrics/values?${window}&dimension=${dimension}`);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    const expected = await valuesFromSpans(collector, values, range);
    expect(expected.length, dimension).toBeGreaterThan(dimension === 'provider' || dimension === 'model' ? 2 : 1);
    expectSameRows(listed.body.values, expected, ['value']);
    // The most used first.
    expect(listed.body.values.map((v) => v.spans)).toEqual(listed.body.values.map((v) => v.spans).sort((a, b) => b - a));
  }
}

/** Every stored span, column by column, in one figure: equal before and after a rebuild of the table. */
async function spansFingerprint(collector: TestCollector) {
  const [row] = await select<{ spans: number; hash: string }>(
    collector.storage,
    `SELECT count() AS spans, toString(sum(cityHash64(*))) AS hash FROM {db}.spans`,
    {},
  );
  return row;
}

async function spansSortingKey(collector: TestCollector) {
  const [row] = await select<{ key: string; settings: string }>(
    collector.storage,
    `SELECT sorting_key AS key, engine_full AS settings FROM system.tables WHERE database = {database:String} AND name = 'spans'`,
    { database: collector.storage.database },
  );
  return row;
}

function expectSameRows(actual: object[], expected: Record<string, unknown>[], keys: string[]): void {
  const keyOf = (row: Record<string, unknown>) => keys.map((k) => String(row[k])).join('|');
  const sort = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const got = sort(actual as Record<string, unknown>[]);
  const want = sort(expected);
  expect(got.map(keyOf)).toEqual(want.map(keyOf));
  got.forEach((row, i) => {
    for (const [field, value] of Object.entries(want[i]!)) {
      if (typeof value === 'number') expect(row[field], `${field} of ${keyOf(row)}`).toBeCloseTo(value, 9);
      else expect(row[field], `${field} of ${keyOf(row)}`).toEqual(value);
    }
  });
}

describe('llm_hours and session_hours rollups', () => {
  let collector: TestCollector;
  let otherKey: string;
  let base: number;
  let range: { from: number; to: number };
  /** Two days: the calls around `base` and their copies 18 and 9 hours before and 6 and 15 after. */
  let wide: { from: number; to: number };
  const query = () => `from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}`;

  beforeAll(async () => {
    collector = await startTestCollector();
    // A day boundary in the middle of the calls, where retention of two days will cut.
    base = Math.floor((Date.now() - 2 * 86_400_000) / 86_400_000) * 86_400_000;
    // Whole hours base-2h … base+2h, partial hours at both ends.
    range = { from: base - 2 * HOUR - 35 * 60_000, to: base + 2 * HOUR + 40 * 60_000 };
    wide = { from: base - 20 * HOUR - 7 * 60_000, to: base + 20 * HOUR + 11 * 60_000 };
    await send(collector, collector.apiKey, callsAround(base));
    // More calls through the two days around `base`, so the one-in-16 sample is not empty.
    await send(collector, collector.apiKey, callsAround(base).flatMap((c, i) => [-18, -9, 6, 15].map((h) => ({ ...c, at: c.at + h * HOUR + i }))));
    // Another project's calls in the same hours must never show up in the default project's answers.
    const other = await collector.projects.createProject('Other team');
    otherKey = generateKey();
    await collector.projects.addKey(other.id, otherKey, { name: 'other', scope: 'full' });
    await send(collector, otherKey, callsAround(base).map((c) => ({ ...c, model: 0 })));
  });
  afterAll(async () => {
    await collector.close();
  });

  async function expectRollupMatchesSpans(): Promise<void> {
    const models = await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${query()}`);
    expect(models.status, JSON.stringify(models.body)).toBe(200);
    expectSameRows(models.body.models, await fromSpans(collector, `model, ${METRICS_FROM_SPANS}`, '', 'model', range), ['model']);

    const narrowed = await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${query()}&provider=anthropic&service=search`);
    expectSameRows(
      narrowed.body.models,
      await fromSpans(collector, `model, ${METRICS_FROM_SPANS}`, "AND provider = 'anthropic' AND service_name = 'search'", 'model', range),
      ['model'],
    );

    for (const [groupBy, column] of [['provider', 'provider'], ['service', 'service_name'], ['environment', 'environment'], ['model', 'model']]) {
      const breakdown = await collector.api<BreakdownResponse>(`/api/v1/metrics/breakdown?${query()}&groupBy=${groupBy}`);
      expectSameRows(breakdown.body.rows, await fromSpans(collector, `${column} AS key, ${METRICS_FROM_SPANS}`, '', 'key', range), ['key']);
    }

    await expectSessionListMatchesSpans(range);
    // Over more than a day the newest sessions are looked for in the last day's rows first.
    await expectSessionListMatchesSpans(wide);

    await expectValuesMatchSpans(collector, range);
    await expectSessionPagesMatchSpans(collector);
    await expectTraceListsMatchSpans(collector, range);
    await expectTraceListsMatchSpans(collector, wide);

    for (const bucket of [3600, 7200]) {
      const series = await collector.api<TimeseriesResponse>(`/api/v1/metrics/timeseries?${query()}&bucket=${bucket}&groupBy=environment`);
      const expected = await fromSpans(
        collector,
        `formatDateTime(toStartOfInterval(start_time, toIntervalSecond({bucket:UInt32})), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS time, environment AS key,
         count() AS calls, countIf(status_code = 'ERROR') AS errors, if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost,
         sum(input_tokens) AS inputTokens, sum(output_tokens) AS outputTokens,
         round(quantile(0.5)(duration_ms), 3) AS latencyP50Ms, round(quantile(0.95)(duration_ms), 3) AS latencyP95Ms,
         if(countIf(ttft_ms IS NOT NULL) = 0, NULL, round(quantileIf(0.5)(ttft_ms, ttft_ms IS NOT NULL), 3)) AS ttftP50Ms`,
        '',
        'time, key',
        range,
        { bucket },
      );
      expectSameRows(series.body.points, expected, ['time', 'key']);
    }
  }

  async function expectSessionListMatchesSpans(span: { from: number; to: number }): Promise<void> {
    const window = `from=${new Date(span.from).toISOString()}&to=${new Date(span.to).toISOString()}`;
    for (const user of ['', 'user-1']) {
      const sessions = await collector.api<SessionListResponse>(`/api/v1/sessions?${window}&limit=500${user ? `&user=${user}` : ''}`);
      expect(sessions.status, JSON.stringify(sessions.body)).toBe(200);
      // Each session has a single user here, so anyIf(user) is determined.
      const expected = await fromSpans(collector, SESSIONS_FROM_SPANS, `AND session_id != ''${user ? ` AND user_id = '${user}'` : ''}`, 'sessionId', span, {}, true);
      expect(expected.length).toBeGreaterThan(1);
      expectSameRows(sessions.body.sessions, expected, ['sessionId']);
      // A short page holds the sessions active last, with their totals over the whole range.
      const newest = await collector.api<SessionListResponse>(`/api/v1/sessions?${window}&limit=3${user ? `&user=${user}` : ''}`);
      const byLastSeen = [...expected].sort((a, b) => String(b.lastSeen).localeCompare(String(a.lastSeen)) || String(a.sessionId).localeCompare(String(b.sessionId)));
      expect(newest.body.sessions.map((s) => s.sessionId)).toEqual(byLastSeen.slice(0, 3).map((s) => s.sessionId));
      expectSameRows(newest.body.sessions, byLastSeen.slice(0, 3), ['sessionId']);
    }
  }

  async function rolledUpCalls(where = ''): Promise<{ rolled: number; spans: number }> {
    const db = quoteIdentifier(collector.storage.database);
    const result = await collector.storage.client.query({
      query: `SELECT (SELECT sum(calls) FROM ${db}.llm_hours WHERE project_id = 'default' ${where}) AS rolled,
                     (SELECT count() FROM ${db}.spans WHERE project_id = 'default' AND operation != '' ${where.replaceAll('hour', 'toStartOfHour(start_time)')}) AS spans`,
      format: 'JSONEachRow',
    });
    return (await result.json<{ rolled: number; spans: number }>())[0]!;
  }

  it('answers metrics over whole hours from the rollup as the spans alone would', async () => {
    expect(await rolledUpCalls()).toEqual({ rolled: 200, spans: 200 });
    await expectRollupMatchesSpans();
    const other = await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${query()}`, otherKey);
    // The other project sent only gpt-4o-mini: none of the default project's models may show up there.
    expect(other.body.models.map((m) => m.model)).toEqual(['gpt-4o-mini']);
    const otherMenu = await collector.api<DimensionValuesResponse>(`/api/v1/metrics/values?${query()}&dimension=model`, otherKey);
    expect(otherMenu.body.values.map((v) => v.value)).toEqual(['gpt-4o-mini']);
    const unknown = await collector.api<{ error: { message: string } }>(`/api/v1/metrics/values?${query()}&dimension=session`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('dimension');
  });

  it('estimates the quantiles of a busy range from the sample of one call in 16, with every count exact', async () => {
    // Two whole days (read from the daily sample), whole hours and partial hours at both ends.
    const wide = { from: base - 86_400_000 - 5 * HOUR - 7 * 60_000, to: base + 86_400_000 + 3 * HOUR + 11 * 60_000 };
    const filter = { projectId: 'default', from: new Date(wide.from), to: new Date(wide.to) };
    // Any number of whole-hour calls counts as busy here, so the sample answers.
    const source = await rollupSource(collector.storage, filter, wholeHours(filter.from, filter.to)!, { sampleFromCalls: 0 });
    const sampled = await select<Record<string, unknown>>(collector.storage, `SELECT model, ${MERGED_METRICS} FROM (${source.sql}) GROUP BY model`, source.params);
    const inSample = 'cityHash64(span_id) % 16 = 0';
    const expected = await fromSpans(
      collector,
      `model, count() AS calls, countIf(status_code = 'ERROR') AS errors, sum(input_tokens) AS inputTokens,
       if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost, countIf(cost_total IS NULL) AS unpricedCalls,
       round(quantileIf(0.5)(duration_ms, ${inSample}), 3) AS latencyP50Ms, round(quantileIf(0.99)(duration_ms, ${inSample}), 3) AS latencyP99Ms,
       if(countIf(ttft_ms IS NOT NULL) = 0, NULL, round(quantileIf(0.95)(ttft_ms, ttft_ms IS NOT NULL AND ${inSample}), 3)) AS ttftP95Ms`,
      '',
      'model',
      wide,
    );
    // (The range must reach the daily sample for this test to cover it.)
    expect(source.sql).toContain('llm_days_sample');
    expect(expected.some((row) => typeof row.latencyP50Ms === 'number')).toBe(true);
    expectSameRows(sampled, expected, ['model']);
  });

  it('counts a call that arrives late for an hour already rolled up', async () => {
    const before = (await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${query()}&model=claude-haiku-4-5`)).body.models[0]!;
    await send(collector, collector.apiKey, [{ at: base - HOUR + 5 * 60_000, model: 1, durationMs: 4321, ttftSeconds: 0.3 }]);
    const after = (await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${query()}&model=claude-haiku-4-5`)).body.models[0]!;
    expect(after.calls).toBe(before.calls + 1);
    await expectRollupMatchesSpans();
  });

  it('lists first a session whose long call, begun before the last day, ended after every later one', async () => {
    // The last whole hour of `wide` is base+20h; its last day starts at base-4h. Every session active
    // since then ended by base+19h.
    await send(collector, collector.apiKey, [{ at: base - 6 * HOUR, model: 2, durationMs: 25 * HOUR + 30 * 60_000, session: 'overnight-batch' }]);
    const window = `from=${new Date(wide.from).toISOString()}&to=${new Date(wide.to).toISOString()}`;
    const newest = await collector.api<SessionListResponse>(`/api/v1/sessions?${window}&limit=3`);
    expect(newest.body.sessions[0]?.sessionId).toBe('overnight-batch');
    await expectRollupMatchesSpans();
  });

  it('keeps the rollup cost right when stored calls are re-priced', async () => {
    const before = (await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${query()}&model=gpt-4o-mini`)).body.models[0]!;
    const headers = { authorization: `Bearer ${collector.apiKey}`, 'content-type': 'application/json' };
    const created = await fetch(`${collector.url}/api/v1/prices/overrides`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'gpt-4o-mini', provider: 'openai', inputPerMTok: 7, outputPerMTok: 21, effectiveFrom: new Date(base - 5 * HOUR).toISOString() }),
    });
    expect(created.status).toBe(201);
    const repriced = await fetch(`${collector.url}/api/v1/prices/reprice`, { method: 'POST', headers, body: '{}' });
    expect(((await repriced.json()) as { repricedSpans: number }).repricedSpans).toBeGreaterThan(0);
    const after = (await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${query()}&model=gpt-4o-mini`)).body.models[0]!;
    expect(after.cost).toBeGreaterThan(before.cost! * 10);
    await expectRollupMatchesSpans();
    // Re-pricing again with nothing changed leaves the answers as they are.
    await fetch(`${collector.url}/api/v1/prices/reprice`, { method: 'POST', headers, body: '{}' });
    await expectRollupMatchesSpans();
  });

  it('loses the same hours as the spans when retention deletes them', async () => {
    await collector.projects.updateProject('default', { retentionDays: 2 });
    const [result] = await applyRetention(collector.storage, collector.projects);
    expect(result?.deletedSpans).toBeGreaterThan(0);
    // Retention cuts at the start of the day two days ago, `base`: later calls stay, older ones are gone from both.
    expect(await rolledUpCalls(`AND hour < toDateTime(${base / 1000}, 'UTC')`)).toEqual({ rolled: 0, spans: 0 });
    const kept = await rolledUpCalls();
    expect(kept.rolled).toBe(kept.spans);
    expect(kept.spans).toBeGreaterThan(0);
    await expectRollupMatchesSpans();
  });
});

describe('rollup migrations', () => {
  it('fills the rollup from the spans a data directory already holds, and again to the same result', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parallax-collector-'));
    const first = await startTestCollector({ dataDir });
    const base = Math.floor((Date.now() - 86_400_000) / HOUR) * HOUR;
    const range = { from: base - 3 * HOUR, to: base + 3 * HOUR };
    await send(first, first.apiKey, callsAround(base));
    // Take the directory back to the schema before the rollup existed.
    const db = quoteIdentifier(first.storage.database);
    for (const table of ['llm_hours', 'llm_hours_sample', 'llm_days_sample', 'session_hours', 'session_traces', 'dimension_hours', 'trace_summaries']) {
      await first.storage.client.command({ query: `DROP VIEW ${db}.${table}_mv` });
      await first.storage.client.command({ query: `DROP TABLE ${db}.${table}` });
    }
    // trace_hours as migration 6 left it (15 dropped it): its rows, in granules of the default size.
    await first.storage.client.command({
      query: `CREATE TABLE ${db}.trace_hours (project_id LowCardinality(String), trace_id FixedString(32), hour DateTime('UTC')) ENGINE = ReplacingMergeTree ORDER BY (project_id, trace_id, hour)`,
    });
    await first.storage.client.command({ query: `INSERT INTO ${db}.trace_hours SELECT DISTINCT project_id, trace_id, toStartOfHour(start_time) FROM ${db}.spans` });
    await first.storage.client.command({ query: `ALTER TABLE ${db}.spans DROP PROJECTION spans_by_user SETTINGS mutations_sync = 2` });
    await first.storage.client.command({ query: `DELETE FROM ${db}.schema_migrations WHERE version IN (7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)` });
    const spansBefore = await spansFingerprint(first);
    await first.close();

    const upgraded = await startTestCollector({ dataDir });
    try {
      const path = `/api/v1/metrics/models?from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}`;
      const expected = await fromSpans(upgraded, `model, ${METRICS_FROM_SPANS}`, '', 'model', range);
      expectSameRows((await upgraded.api<ModelMetricsResponse>(path)).body.models, expected, ['model']);
      const sessions = (await upgraded.api<SessionListResponse>(path.replace('metrics/models', 'sessions'))).body.sessions;
      expect(sessions.reduce((n, s) => n + s.llmCalls, 0)).toBe(40);
      await expectValuesMatchSpans(upgraded, range);
      // trace_summaries holds a row for every hour of every trace, and trace_hours is gone (12 rebuilt it, 15 dropped it).
      const traceSummaries = async () =>
        (
          await select<{ kept: number; expected: number; engine: string; traceHours: number; byUser: number; spans: number }>(
            upgraded.storage,
            `SELECT (SELECT count() FROM (SELECT DISTINCT trace_id, hour FROM {db}.trace_summaries)) AS kept,
                    (SELECT count() FROM (SELECT DISTINCT trace_id, toStartOfHour(start_time) FROM {db}.spans)) AS expected,
                    (SELECT engine_full FROM system.tables WHERE database = {database:String} AND name = 'trace_summaries') AS engine,
                    (SELECT count() FROM system.tables WHERE database = {database:String} AND name LIKE 'trace_hours%') AS traceHours,
                    (SELECT sum(rows) FROM system.projection_parts WHERE active AND database = {database:String} AND table = 'spans' AND name = 'spans_by_user') AS byUser,
                    (SELECT count() FROM {db}.spans) AS spans`,
            { database: upgraded.storage.database },
          )
        )[0]!;
      const filled = await traceSummaries();
      expect(filled.engine).toContain('index_granularity = 64');
      expect(filled.kept).toBe(filled.expected);
      expect(filled.traceHours).toBe(0);
      // Every span is in the by-user projection (migration 16), and so is every span sent later.
      expect(filled.byUser).toBe(filled.spans);
      // spans was rebuilt ordered by trace within the hour, with every row and value it had.
      expect(await spansFingerprint(upgraded)).toEqual(spansBefore);
      expect(await spansSortingKey(upgraded)).toEqual({ key: 'project_id, toStartOfHour(start_time), trace_id', settings: expect.stringContaining('index_granularity_bytes = 4194304') });
      await send(upgraded, upgraded.apiKey, callsAround(base + 86_400_000).slice(0, 8));
      const fed = await traceSummaries();
      expect(fed.kept).toBe(fed.expected);
      expect(fed.kept).toBeGreaterThan(filled.kept);
      expect(fed.byUser).toBe(fed.spans);
      // The rollups' views feed from the rebuilt table: spans sent after the upgrade are counted.
      const later = { from: range.from, to: base + 86_400_000 + 3 * HOUR };
      await expectValuesMatchSpans(upgraded, later);
      const laterPath = `/api/v1/metrics/models?from=${new Date(later.from).toISOString()}&to=${new Date(later.to).toISOString()}`;
      const laterModels = (await upgraded.api<ModelMetricsResponse>(laterPath)).body.models;
      expect(laterModels.reduce((n, m) => n + m.calls, 0)).toBe(48);
      expectSameRows(laterModels, await fromSpans(upgraded, `model, ${METRICS_FROM_SPANS}`, '', 'model', later), ['model']);
      await expectSessionPagesMatchSpans(upgraded);
      await expectTraceListsMatchSpans(upgraded, later);
      await backfillLlmHours(upgraded.storage);
      expectSameRows((await upgraded.api<ModelMetricsResponse>(path)).body.models, expected, ['model']);
      // The hourly and daily samples hold the durations of the sampled calls already stored.
      const fromSampledSpans = await fromSpans(upgraded, 'model, round(quantile(0.5)(duration_ms), 3) AS p50', 'AND cityHash64(span_id) % 16 = 0', 'model', { from: 0, to: Date.now() });
      for (const table of ['llm_hours_sample', 'llm_days_sample']) {
        const sampled = await select<Record<string, unknown>>(
          upgraded.storage,
          `SELECT model, round(quantilesMerge(0.5, 0.95, 0.99)(latency)[1], 3) AS p50 FROM {db}.${table} GROUP BY model`,
          {},
        );
        expectSameRows(sampled, fromSampledSpans, ['model']);
      }
    } finally {
      await upgraded.close();
    }
  });
});
