import type { Attributes } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPERIMENT_SERVICE_NAME } from '../experiments/span-exporter.ts';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import { select } from './queries.ts';
import { applyRetention } from './retention.ts';
import { PROJECTED_GROUPS, quarterParam, usageGroups, type UsageGroup } from './usage-quarters.ts';

// usage_quarters is a projection of spans that ClickHouse keeps itself: these tests check that the
// switch simulator's whole quarter hours are read from it and give what the spans give, also after
// stored calls are re-priced (a mutation) and after retention deletes some.

const QUARTER = 900_000;
let collector: TestCollector;
/** A quarter hour about three hours ago, and one three days ago (for retention). */
const recent = Math.floor((Date.now() - 3 * 3_600_000) / QUARTER) * QUARTER;
const old = Math.floor((Date.now() - 3 * 86_400_000) / QUARTER) * QUARTER;

function calls(at: number): Array<[number, Attributes]> {
  const chat = (inputTokens: number, outputTokens: number, cacheReadTokens = 0) => chatAttributes({ model: 'gpt-4o-mini', inputTokens, outputTokens, cacheReadTokens });
  return [
    [at + 1_000, chat(1000, 200)],
    [at + 61_000, chat(1500, 100, 1000)],
    // A long prompt, over the price data's 200k and 272k tier starts.
    [at + 120_000, chat(300_000, 50)],
    [at + QUARTER + 5_000, chat(800, 80)],
    [at + 2 * QUARTER + 5_000, chat(700, 70)],
  ];
}

let aTraceId = '';

beforeAll(async () => {
  collector = await startTestCollector();
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    for (const [at, attributes] of [...calls(recent), ...calls(old)]) {
      const span = tracer.startSpan('chat', { startTime: at, attributes });
      aTraceId = span.spanContext().traceId;
      span.end(at + 300);
    }
  });
  await exportThroughOtlp(
    collector.url,
    collector.apiKey,
    (tracer) => tracer.startSpan('chat', { startTime: recent + 7_000, attributes: chatAttributes({ model: 'gpt-4o-mini', inputTokens: 9000, outputTokens: 9000 }) }).end(recent + 8_000),
    { 'service.name': EXPERIMENT_SERVICE_NAME },
  );
});
afterAll(async () => {
  await collector?.close();
});

const paramsFor = (at: number) => ({ project: 'default', model: 'gpt-4o-mini', exceptService: EXPERIMENT_SERVICE_NAME, start: quarterParam(at), end: quarterParam(at + 3 * QUARTER), inside: [] });

/** Whether ClickHouse reads the projection for the query (by its plan). */
async function readsProjection(at: number): Promise<boolean> {
  const explain = await collector.storage.client.query({
    query: `EXPLAIN ${PROJECTED_GROUPS.replaceAll('{db}', 'parallax')} SETTINGS prefer_column_name_to_alias = 1`,
    query_params: paramsFor(at),
    format: 'JSONEachRow',
  });
  return (await explain.json<{ explain: string }>()).some((line) => line.explain.includes('ReadFromMergeTree (usage_quarters)'));
}

/** The projection's answer for three quarter hours from `at`, and the same query answered from the spans. */
async function bothWays(at: number, { planned = true } = {}): Promise<{ projected: UsageGroup[]; fromSpans: UsageGroup[] }> {
  const sorted = (groups: UsageGroup[]) => groups.toSorted((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  if (planned) expect(await readsProjection(at)).toBe(true);
  return {
    projected: sorted(await select<UsageGroup>(collector.storage, PROJECTED_GROUPS, paramsFor(at))),
    fromSpans: sorted(await select<UsageGroup>(collector.storage, PROJECTED_GROUPS, paramsFor(at), { optimize_use_projections: 0 })),
  };
}

describe('usage_quarters', () => {
  it('answers whole quarter hours from the projection, as the spans do, a group per set of rates', async () => {
    const { projected, fromSpans } = await bothWays(recent);
    expect(projected).toEqual(fromSpans);
    // Quarter 1: the two short prompts together, the long one apart; quarters 2 and 3 one call each; the
    // experiment runner's call left out.
    expect(projected.map((g) => g.calls).sort()).toEqual([1, 1, 1, 2]);
    expect(projected.reduce((n, g) => n + g.input_tokens, 0)).toBe(1000 + 1500 + 300_000 + 800 + 700);
  });

  it('is still read after a trace was, whose query turns projections off for itself', async () => {
    expect((await collector.api(`/api/v1/traces/${aTraceId}`)).status).toBe(200);
    expect(await readsProjection(recent)).toBe(true);
  });

  it('gives the same groups whether a range is read from the projection, the spans or both', async () => {
    const query = { projectId: 'default', model: 'gpt-4o-mini', exceptService: EXPERIMENT_SERVICE_NAME, tierStarts: [200_000], priceChanges: [] };
    const total = (groups: UsageGroup[]) => ({
      calls: groups.reduce((n, g) => n + g.calls, 0),
      input: groups.reduce((n, g) => n + g.input_tokens, 0),
      cost: groups.reduce((n, g) => n + (g.actual_cost ?? 0), 0),
    });
    // Whole quarters, partial ones at both ends, a price change inside one, a tier start the projection lacks.
    const whole = total(await usageGroups(collector.storage, { ...query, from: new Date(recent), to: new Date(recent + 3 * QUARTER) }));
    const partial = total(await usageGroups(collector.storage, { ...query, from: new Date(recent - 7_000), to: new Date(recent + 3 * QUARTER + 7_000) }));
    const split = total(await usageGroups(collector.storage, { ...query, from: new Date(recent), to: new Date(recent + 3 * QUARTER), priceChanges: [new Date(recent + 90_000)] }));
    const unprojected = total(await usageGroups(collector.storage, { ...query, from: new Date(recent), to: new Date(recent + 3 * QUARTER), tierStarts: [100_000] }));
    expect(whole.calls).toBe(5);
    expect(partial).toEqual(whole);
    expect(split.calls).toBe(5);
    expect(split.cost).toBeCloseTo(whole.cost, 12);
    expect(unprojected.calls).toBe(5);
    expect(unprojected.cost).toBeCloseTo(whole.cost, 12);
  });

  it('stays right when stored calls are re-priced and when retention deletes them', async () => {
    const before = await bothWays(recent);
    const post = (path: string, body: object) =>
      fetch(`${collector.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${collector.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const override = { model: 'gpt-4o-mini', inputPerMTok: 100, outputPerMTok: 100, effectiveFrom: new Date(recent - 86_400_000).toISOString() };
    expect((await post('/api/v1/prices/overrides', override)).status).toBe(201);
    expect((await post('/api/v1/prices/reprice', {})).status).toBe(200);
    const after = await bothWays(recent);
    expect(after.projected).toEqual(after.fromSpans);
    expect(after.projected.map((g) => g.actual_cost)).not.toEqual(before.projected.map((g) => g.actual_cost));

    expect((await bothWays(old)).projected.length).toBeGreaterThan(0);
    await collector.projects.updateProject('default', { retentionDays: 2 });
    await applyRetention(collector.storage, collector.projects);
    // Nothing left there: ClickHouse may plan to read no part at all.
    const deleted = await bothWays(old, { planned: false });
    expect(deleted.projected).toEqual([]);
    expect(deleted.fromSpans).toEqual([]);
  });
});
