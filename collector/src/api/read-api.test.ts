import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../store/projects.ts';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import type { ApiError, BreakdownResponse, ModelMetricsResponse, ProjectInfo, SessionListResponse, TimeseriesResponse, TraceListResponse, TraceResponse } from './contract.ts';

let collector: TestCollector;
let otherProjectKey: string;
let ingestOnlyKey: string;
const traceIds: string[] = [];
const range = () => {
  const now = Date.now();
  return `from=${new Date(now - 3600_000).toISOString()}&to=${new Date(now + 60_000).toISOString()}`;
};

beforeAll(async () => {
  collector = await startTestCollector();
  const other = await collector.projects.createProject('Other team');
  otherProjectKey = generateKey();
  await collector.projects.addKey(other.id, otherProjectKey, { name: 'other', scope: 'full' });
  ingestOnlyKey = generateKey();
  await collector.projects.addKey('default', ingestOnlyKey, { name: 'ingest', scope: 'ingest' });

  // Six traces in the default project: 3 on gpt-4o-mini, 2 on claude-haiku-4-5 (one failing), 1 unpriced.
  const calls = [
    { provider: 'openai', model: 'gpt-4o-mini', input: 'refund policy?', ms: 100 },
    { provider: 'openai', model: 'gpt-4o-mini', input: 'shipping time?', ms: 200 },
    { provider: 'openai', model: 'gpt-4o-mini', input: 'Where is my PARCEL', ms: 300 },
    { provider: 'anthropic', model: 'claude-haiku-4-5', input: 'summarise this', ms: 400 },
    { provider: 'anthropic', model: 'claude-haiku-4-5', input: 'translate this', ms: 500, error: true },
    { provider: 'ollama', model: 'llama3.1:8b', input: 'local call', ms: 50 },
  ];
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    calls.forEach((call, i) => {
      const start = Date.now() - 60_000 + i * 1000;
      const root = tracer.startSpan('answer question', { kind: SpanKind.SERVER, startTime: start });
      traceIds.push(root.spanContext().traceId);
      const llm = tracer.startSpan(
        `chat ${call.model}`,
        {
          kind: SpanKind.CLIENT,
          startTime: start + 1,
          attributes: {
            ...chatAttributes({ provider: call.provider, model: call.model, inputTokens: 1000 * (i + 1), outputTokens: 200, input: call.input }),
            'user.id': `user-${i % 2}`,
            'session.id': `session-${i % 3}`,
            'parallax.tags': i < 3 ? ['support', 'beta'] : ['support'],
            'parallax.metadata.feature': i === 1 ? 'refunds' : 'faq',
          },
        },
        trace.setSpan(context.active(), root),
      );
      if (call.error) llm.setStatus({ code: SpanStatusCode.ERROR, message: 'overloaded' });
      llm.end(start + 1 + call.ms);
      root.end(start + 2 + call.ms);
    });
  });
  // The other project has one call of its own.
  await exportThroughOtlp(collector.url, otherProjectKey, (tracer) => {
    tracer.startSpan('chat gpt-4o', { attributes: chatAttributes({ model: 'gpt-4o', inputTokens: 10, outputTokens: 10, input: 'secret of team B' }) }).end();
  });
});
afterAll(async () => {
  await collector.close();
});

describe('GET /api/v1/metrics/models', () => {
  it('gives calls, tokens, cost, latency and errors per model; unknown prices stay unpriced', async () => {
    const { status, body } = await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${range()}`);
    expect(status).toBe(200);
    const byModel = Object.fromEntries(body.models.map((m) => [m.model, m]));
    expect(Object.keys(byModel).sort()).toEqual(['claude-haiku-4-5', 'gpt-4o-mini', 'llama3.1:8b']);
    const mini = byModel['gpt-4o-mini']!;
    expect(mini).toMatchObject({ provider: 'openai', calls: 3, errors: 0, inputTokens: 6000, outputTokens: 600, unpricedCalls: 0 });
    // gpt-4o-mini: $0.15/M in, $0.60/M out; 1000 + 2000 + 3000 input tokens, 3 × 200 output
    expect(mini.cost).toBeCloseTo((6000 * 0.15 + 600 * 0.6) / 1e6, 12);
    // 200 output tokens in 200 ms at the median
    expect(mini.tokensPerSecond).toBeCloseTo(1000, 0);
    expect(mini.latencyP50Ms).toBeCloseTo(200, 0);
    expect(byModel['claude-haiku-4-5']).toMatchObject({ calls: 2, errors: 1 });
    // claude-haiku-4-5: $1/M in, $5/M out; 4000 + 5000 input tokens
    expect(byModel['claude-haiku-4-5']!.cost).toBeCloseTo((9000 * 1 + 400 * 5) / 1e6, 12);
    expect(byModel['llama3.1:8b']).toMatchObject({ calls: 1, cost: null, unpricedCalls: 1 });
  });

  it('narrows by provider', async () => {
    const { body } = await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${range()}&provider=anthropic`);
    expect(body.models.map((m) => m.model)).toEqual(['claude-haiku-4-5']);
  });

  it('refuses a malformed time range with 400 naming the parameter', async () => {
    const bad = await collector.api<ApiError>('/api/v1/metrics/models?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('"from"');
    const reversed = await collector.api<ApiError>('/api/v1/metrics/models?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z');
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.message).toContain('before');
  });
});

describe('GET /api/v1/metrics/timeseries', () => {
  it('buckets cost and calls per model over time', async () => {
    const { body } = await collector.api<TimeseriesResponse>(`/api/v1/metrics/timeseries?${range()}&bucket=3600`);
    expect(body.bucketSeconds).toBe(3600);
    const calls = body.points.filter((p) => p.model === 'gpt-4o-mini').reduce((n, p) => n + p.calls, 0);
    expect(calls).toBe(3);
    expect(body.points.every((p) => /^\d{4}-\d\d-\d\dT\d\d:00:00Z$/.test(p.time))).toBe(true);
  });

  it('groups the series by another dimension', async () => {
    const { body } = await collector.api<TimeseriesResponse>(`/api/v1/metrics/timeseries?${range()}&bucket=3600&groupBy=provider`);
    expect(body.groupBy).toBe('provider');
    const calls = (key: string) => body.points.filter((p) => p.key === key).reduce((n, p) => n + p.calls, 0);
    expect([calls('openai'), calls('anthropic'), calls('ollama')]).toEqual([3, 2, 1]);
  });
});

describe('GET /api/v1/traces', () => {
  it('pages through traces newest first with a cursor, each trace exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { body: TraceListResponse } = await collector.api<TraceListResponse>(
        `/api/v1/traces?${range()}&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.traces.map((t) => t.traceId));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual([...traceIds].reverse());
  });

  it('summarises each trace from all its spans', async () => {
    const { body } = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&status=error`);
    expect(body.traces).toHaveLength(1);
    expect(body.traces[0]).toMatchObject({
      traceId: traceIds[4],
      name: 'answer question',
      serviceName: 'test-service',
      spanCount: 2,
      llmCalls: 1,
      errorCount: 1,
      models: ['claude-haiku-4-5'],
      inputTokens: 5000,
      outputTokens: 200,
    });
  });

  it('finds traces by text in their messages, case-insensitively, and by model or user', async () => {
    const text = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&q=parcel`);
    expect(text.body.traces.map((t) => t.traceId)).toEqual([traceIds[2]]);
    const model = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&model=claude-haiku-4-5`);
    expect(model.body.traces.map((t) => t.traceId)).toEqual([traceIds[4], traceIds[3]]);
    const user = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&user=user-1`);
    expect(user.body.traces).toHaveLength(3);
  });

  it('refuses a forged cursor', async () => {
    const { status, body } = await collector.api<ApiError>(`/api/v1/traces?cursor=${Buffer.from('["x","y"]').toString('base64url')}`);
    expect(status).toBe(400);
    expect(body.error.message).toContain('cursor');
  });
});

describe('GET /api/v1/metrics/breakdown', () => {
  it('groups calls by provider, user and tag', async () => {
    const byProvider = await collector.api<BreakdownResponse>(`/api/v1/metrics/breakdown?${range()}&groupBy=provider`);
    expect(Object.fromEntries(byProvider.body.rows.map((r) => [r.key, r.calls]))).toEqual({ openai: 3, anthropic: 2, ollama: 1 });
    const byUser = await collector.api<BreakdownResponse>(`/api/v1/metrics/breakdown?${range()}&groupBy=user`);
    expect(Object.fromEntries(byUser.body.rows.map((r) => [r.key, r.calls]))).toEqual({ 'user-0': 3, 'user-1': 3 });
    const byTag = await collector.api<BreakdownResponse>(`/api/v1/metrics/breakdown?${range()}&groupBy=tag`);
    expect(Object.fromEntries(byTag.body.rows.map((r) => [r.key, r.calls]))).toEqual({ support: 6, beta: 3 });
  });

  it('refuses an unknown dimension', async () => {
    const { status, body } = await collector.api<ApiError>(`/api/v1/metrics/breakdown?groupBy=colour`);
    expect(status).toBe(400);
    expect(body.error.message).toContain('"groupBy"');
  });
});

describe('GET /api/v1/sessions', () => {
  it('lists sessions with their traces, calls and cost', async () => {
    const { body } = await collector.api<SessionListResponse>(`/api/v1/sessions?${range()}`);
    const byId = Object.fromEntries(body.sessions.map((s) => [s.sessionId, s]));
    expect(Object.keys(byId).sort()).toEqual(['session-0', 'session-1', 'session-2']);
    // session-0 holds calls 0 and 3: gpt-4o-mini (1000 in) and claude-haiku-4-5 (4000 in)
    expect(byId['session-0']).toMatchObject({ traces: 2, llmCalls: 2, inputTokens: 5000, outputTokens: 400 });
    expect(byId['session-0']!.cost).toBeCloseTo((1000 * 0.15 + 200 * 0.6) / 1e6 + (4000 * 1 + 200 * 5) / 1e6, 12);
    const traces = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&session=session-0`);
    expect(traces.body.traces.map((t) => t.traceId)).toEqual([traceIds[3], traceIds[0]]);
  });
});

describe('GET /api/v1/traces sorting and ranges', () => {
  it('sorts by cost with unpriced traces last, and pages with the cursor of that sort', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: TraceListResponse } = await collector.api<TraceListResponse>(
        `/api/v1/traces?${range()}&sort=cost&order=desc&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.traces.map((t) => t.traceId));
      cursor = page.body.nextCursor;
    } while (cursor);
    // haiku (5000 in) > haiku (4000 in) > mini (3000) > mini (2000) > mini (1000) > unpriced llama
    expect(seen).toEqual([traceIds[4], traceIds[3], traceIds[2], traceIds[1], traceIds[0], traceIds[5]]);
  });

  it('refuses a cursor made for another sort', async () => {
    const first = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&sort=cost&limit=2`);
    const mixed = await collector.api<ApiError>(`/api/v1/traces?${range()}&sort=duration&limit=2&cursor=${first.body.nextCursor}`);
    expect(mixed.status).toBe(400);
  });

  it('narrows by duration and cost ranges and by metadata', async () => {
    const slow = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&minDurationMs=350`);
    expect(slow.body.traces.map((t) => t.traceId).sort()).toEqual([traceIds[3], traceIds[4]].sort());
    // gpt-4o-mini traces cost $0.00027, $0.00042, $0.00057; haiku ones over $0.006; llama is unpriced
    const cheap = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&maxCost=0.0006`);
    expect(cheap.body.traces.map((t) => t.traceId).sort()).toEqual([traceIds[0], traceIds[1], traceIds[2]].sort());
    const refunds = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&meta.feature=refunds`);
    expect(refunds.body.traces.map((t) => t.traceId)).toEqual([traceIds[1]]);
    const bad = await collector.api<ApiError>(`/api/v1/traces?minCost=2&maxCost=1`);
    expect(bad.status).toBe(400);
  });
});

describe('GET /api/v1/traces/:traceId', () => {
  it('returns 404 for a trace that does not exist and 400 for a malformed id', async () => {
    expect((await collector.api(`/api/v1/traces/${'f'.repeat(32)}`)).status).toBe(404);
    expect((await collector.api('/api/v1/traces/zzz')).status).toBe(400);
  });
});

describe('keys and projects', () => {
  it('refuses the API without a key, with a wrong key, and with an ingest-only key', async () => {
    expect((await fetch(`${collector.url}/api/v1/project`)).status).toBe(401);
    expect((await collector.api('/api/v1/project', 'px_wrong')).status).toBe(401);
    const ingestOnly = await collector.api<ApiError>('/api/v1/project', ingestOnlyKey);
    expect(ingestOnly.status).toBe(403);
    expect(ingestOnly.body.error.message).toContain('may only send spans');
  });

  it('lets an admin key act on another project by naming it, and no other key', async () => {
    const other = (await collector.api<ProjectInfo>('/api/v1/project', otherProjectKey)).body.project.id;
    const asAdmin = await fetch(`${collector.url}/api/v1/metrics/models?${range()}`, {
      headers: { authorization: `Bearer ${collector.apiKey}`, 'x-parallax-project': other },
    });
    expect(((await asAdmin.json()) as ModelMetricsResponse).models.map((m) => m.model)).toEqual(['gpt-4o']);
    const intruder = await fetch(`${collector.url}/api/v1/metrics/models?project=default`, {
      headers: { authorization: `Bearer ${otherProjectKey}` },
    });
    expect(intruder.status).toBe(403);
    const missing = await collector.api<ApiError>('/api/v1/project?project=nope');
    expect(missing.status).toBe(404);
  });

  it('lets an ingest-only key send spans', async () => {
    let traceId = '';
    await exportThroughOtlp(collector.url, ingestOnlyKey, (tracer) => {
      const span = tracer.startSpan('from a production app');
      traceId = span.spanContext().traceId;
      span.end();
    });
    expect((await collector.api(`/api/v1/traces/${traceId}`)).status).toBe(200);
  });

  it("never shows one project's data to another project's key", async () => {
    const foreign = await collector.api(`/api/v1/traces/${traceIds[0]}`, otherProjectKey);
    expect(foreign.status).toBe(404);
    const metrics = await collector.api<ModelMetricsResponse>(`/api/v1/metrics/models?${range()}`, otherProjectKey);
    expect(metrics.body.models.map((m) => m.model)).toEqual(['gpt-4o']);
    const search = await collector.api<TraceListResponse>(`/api/v1/traces?${range()}&q=secret`);
    expect(search.body.traces).toEqual([]);
    const project = await collector.api<ProjectInfo>('/api/v1/project', otherProjectKey);
    expect(project.body.project.name).toBe('Other team');
  });

  it('reports an empty project so the dashboard can show the first-run guide', async () => {
    const fresh = await collector.projects.createProject('Fresh');
    const key = generateKey();
    await collector.projects.addKey(fresh.id, key, { name: 'k', scope: 'full' });
    const { body } = await collector.api<ProjectInfo>('/api/v1/project', key);
    expect(body).toMatchObject({ empty: true, ingestEndpoint: 'http://localhost:4318/v1/traces' });
  });

  it('stops accepting a revoked key', async () => {
    const key = generateKey();
    const record = await collector.projects.addKey('default', key, { name: 'short-lived', scope: 'full' });
    expect((await collector.api('/api/v1/project', key)).status).toBe(200);
    await collector.projects.revokeKey('default', record.id);
    collector.keys.forgetAll();
    expect((await collector.api('/api/v1/project', key)).status).toBe(401);
  });
});
