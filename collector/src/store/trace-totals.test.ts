import { context, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceListResponse, TraceSummary } from '../api/contract.ts';
import { chatAttributes, exportThroughOtlp, sealEverything, startTestCollector, type TestCollector } from '../test-support.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { generateKey } from './projects.ts';
import { select } from './queries.ts';
import { repriceSpans } from './reprice.ts';
import { applyRetention } from './retention.ts';
import { sealedUpTo, sealTraces, SETTLE_MS, trimTraceTotals } from './trace-totals.ts';

// Sorted over more than three days, a trace list ranks settled traces on their stored totals
// (trace_totals) and sums the rest from their hourly rows. Whatever changes a trace after it was
// sealed (a late span, a re-pricing, retention) must show in the list at once, and in its stored
// row after the next seal.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector.close();
});

/** A trace of one chat call at `at` with `inputTokens`, or a call added to trace `traceId` (a late span). */
function call(tracer: Tracer, at: number, inputTokens: number, traceId?: string): string {
  const parent = traceId ? trace.setSpanContext(context.active(), { traceId, spanId: '00000000000000aa', traceFlags: TraceFlags.SAMPLED }) : context.active();
  const span = tracer.startSpan('chat gpt-4o-mini', { startTime: at, attributes: chatAttributes({ model: 'gpt-4o-mini', inputTokens, outputTokens: 0 }) }, parent);
  span.end(at + 100);
  return span.spanContext().traceId;
}

async function listed(query: string, key = collector.apiKey): Promise<TraceSummary[]> {
  const from = new Date(Date.now() - 30 * DAY).toISOString();
  const response = await collector.api<TraceListResponse>(`/api/v1/traces?from=${from}&to=${new Date().toISOString()}&${query}`, key);
  expect(response.status).toBe(200);
  return response.body.traces;
}

const tokens = (traces: TraceSummary[]) => traces.map((t) => [t.traceId, t.inputTokens]);

/** The stored rows of these traces: how many each has, and what they hold. */
async function storedRows(traceIds: string[]): Promise<{ traceId: string; input_tokens: number; first_hour: string }[]> {
  return select(
    collector.storage,
    `SELECT leftPad(lower(hex(traceKey)), 32, '0') AS traceId, inputTokens AS input_tokens, toString(first_hour) AS first_hour FROM {db}.trace_totals
     WHERE traceId IN {ids:Array(String)} ORDER BY traceId, first_hour`,
    { ids: traceIds },
  );
}

describe('trace totals', () => {
  it('are sealed by the collector itself, up to a second before the settle time', async () => {
    let sealed: number | null = null;
    for (let tries = 0; sealed === null && tries < 100; tries++) {
      sealed = await sealedUpTo(collector.storage);
      if (sealed === null) await new Promise((done) => setTimeout(done, 100));
    }
    expect(sealed).not.toBeNull();
    const expected = (Date.now() - SETTLE_MS) / 1000;
    expect(sealed!).toBeLessThanOrEqual(expected);
    expect(sealed!).toBeGreaterThan(expected - 30);
  });

  it('stores a row per settled trace, and ranks a trace that changed after its seal by what it holds now', async () => {
    const at = Math.floor((Date.now() - 2 * DAY) / HOUR) * HOUR;
    let small = '';
    let large = '';
    await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
      small = call(tracer, at, 100);
      // Two calls three hours apart: one stored row summing both hours.
      large = call(tracer, at + 10 * 60_000, 300);
      call(tracer, at + 3 * HOUR, 200, large);
    });
    await sealEverything(collector.storage);
    expect(await storedRows([small, large])).toEqual(
      [
        { traceId: small, input_tokens: 100, first_hour: new Date(at).toISOString().slice(0, 19).replace('T', ' ') },
        { traceId: large, input_tokens: 500, first_hour: new Date(at).toISOString().slice(0, 19).replace('T', ' ') },
      ].sort((a, b) => a.traceId.localeCompare(b.traceId)),
    );
    expect(tokens(await listed('sort=tokens&order=desc'))).toEqual([[large, 500], [small, 100]]);

    // A late span in an hour long sealed makes the small trace the largest. Until the next seal its
    // stored row is stale: the list must rank it by its hourly rows, and never twice.
    await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
      call(tracer, at + 5 * 60_000, 1_000, small);
    });
    expect(tokens(await listed('sort=tokens&order=desc'))).toEqual([[small, 1_100], [large, 500]]);
    expect(tokens(await listed('sort=tokens&order=asc'))).toEqual([[large, 500], [small, 1_100]]);
    // A seal with the collector's settle time leaves it open: it arrived under a minute ago.
    await sealTraces(collector.storage);
    expect((await storedRows([small]))[0]?.input_tokens).toBe(100);
    expect(tokens(await listed('sort=tokens&order=asc'))).toEqual([[large, 500], [small, 1_100]]);

    await sealEverything(collector.storage);
    expect((await storedRows([small])).map((r) => r.input_tokens)).toEqual([1_100]);
    expect(tokens(await listed('sort=tokens&order=asc'))).toEqual([[large, 500], [small, 1_100]]);
    expect(tokens(await listed('sort=tokens&order=desc&limit=1'))).toEqual([[small, 1_100]]);

    // A first seal (an upgraded data directory) writes every trace again, in ranges of trace ids: one
    // trace per leading hex digit must come through.
    const byDigit = [...'0123456789abcdef'].map((digit) => `${digit}${'0'.repeat(30)}1`);
    const spans = byDigit.map((traceId, i) => ({ traceId, spanId: (i + 1).toString(16).padStart(16, '0'), name: 'digit', kind: 1, startTimeUnixNano: String(BigInt(at) * 1_000_000n), endTimeUnixNano: String(BigInt(at + 1) * 1_000_000n) }));
    const sent = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${collector.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'digits' }, spans }] }] }),
    });
    expect(sent.status).toBe(200);
    const stored = await storedRows([small, large]);
    await collector.storage.client.command({ query: `TRUNCATE TABLE ${quoteIdentifier(collector.storage.database)}.trace_seals` });
    await sealEverything(collector.storage);
    expect(await storedRows([small, large])).toEqual(stored);
    expect((await storedRows(byDigit)).map((r) => r.traceId)).toEqual(byDigit);
    expect(tokens(await listed('sort=tokens&order=desc&limit=2'))).toEqual([[small, 1_100], [large, 500]]);
  });

  it('ranks sealed traces by their new cost once their spans are re-priced', async () => {
    const project = await collector.projects.createProject('Re-priced');
    const key = generateKey();
    await collector.projects.addKey(project.id, key, { name: 'k', scope: 'full' });
    const at = Math.floor((Date.now() - 5 * DAY) / HOUR) * HOUR;
    const ids: Record<string, string> = {};
    await exportThroughOtlp(collector.url, key, (tracer) => {
      ids.mini = call(tracer, at, 1_000);
      const span = tracer.startSpan('chat gpt-4o', { startTime: at + 60_000, attributes: chatAttributes({ model: 'gpt-4o', inputTokens: 1_000, outputTokens: 0 }) });
      span.end(at + 60_100);
      ids.full = span.spanContext().traceId;
    });
    await sealEverything(collector.storage);
    expect((await listed('sort=cost&order=desc', key)).map((t) => t.traceId)).toEqual([ids.full, ids.mini]);

    // gpt-4o-mini at $100 per million input tokens: its trace costs $0.10, far above gpt-4o's.
    const override = { id: 'o1', model: 'gpt-4o-mini', provider: '', inputPerMTok: 100, outputPerMTok: 0, cacheReadPerMTok: null, cacheWritePerMTok: null, perHour: null, effectiveFrom: new Date(at - DAY).toISOString(), createdAt: new Date().toISOString() };
    expect(await repriceSpans(collector.storage, project.id, [override], new Date(at - DAY), new Date())).toBe(1);
    const repriced = await listed('sort=cost&order=desc', key);
    expect(repriced.map((t) => [t.traceId, t.cost])).toEqual([
      [ids.mini, expect.closeTo(0.1, 12)],
      [ids.full, expect.any(Number)],
    ]);
    expect((await listed('sort=cost&order=asc', key)).map((t) => t.traceId)).toEqual([ids.full, ids.mini]);
    await sealEverything(collector.storage);
    expect(await listed('sort=cost&order=desc', key)).toEqual(repriced);
    expect((await listed('sort=cost&order=asc', key)).map((t) => t.traceId)).toEqual([ids.full, ids.mini]);
  });

  it("keeps a trace's part after the retention cutoff, with its totals over what is left", async () => {
    const project = await collector.projects.createProject('Short memory');
    await collector.projects.updateProject(project.id, { retentionDays: 7 });
    const key = generateKey();
    await collector.projects.addKey(project.id, key, { name: 'k', scope: 'full' });
    const old = Math.floor((Date.now() - 10 * DAY) / HOUR) * HOUR;
    const recent = Math.floor((Date.now() - 3 * DAY) / HOUR) * HOUR;
    const ids: Record<string, string> = {};
    await exportThroughOtlp(collector.url, key, (tracer) => {
      ids.gone = call(tracer, old, 50);
      ids.straddling = call(tracer, old + HOUR, 400);
      call(tracer, recent, 30, ids.straddling);
      ids.recent = call(tracer, recent + HOUR, 20);
    });
    await sealEverything(collector.storage);
    expect(tokens(await listed('sort=tokens&order=desc', key))).toEqual([
      [ids.straddling, 430],
      [ids.gone, 50],
      [ids.recent, 20],
    ]);

    await applyRetention(collector.storage, collector.projects);
    const expected = [
      [ids.straddling, 30],
      [ids.recent, 20],
    ];
    expect(tokens(await listed('sort=tokens&order=desc', key))).toEqual(expected);
    const stored = await storedRows(Object.values(ids));
    expect(stored.map((r) => [r.traceId, r.input_tokens]).sort()).toEqual([...expected].sort());
    // Run again (as after a run cut short): the rows stay one per trace.
    const cutoff = new Date(Math.floor((Date.now() - 7 * DAY) / DAY) * DAY);
    await trimTraceTotals(collector.storage, project.id, cutoff);
    expect(await storedRows(Object.values(ids))).toEqual(stored);
    expect(tokens(await listed('sort=tokens&order=asc', key))).toEqual([...expected].reverse());
  });
});
