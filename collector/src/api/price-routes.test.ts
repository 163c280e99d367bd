import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import type { ApiError, ModelMetricsResponse } from './contract.ts';

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector.close();
});

function send(method: string, path: string, body?: unknown) {
  return fetch(`${collector.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${collector.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function sendCall(model: string, provider: string, startTime: number, durationMs: number, cacheReadTokens = 0) {
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    tracer
      .startSpan(`chat ${model}`, {
        startTime,
        attributes: chatAttributes({ provider, model, inputTokens: 2_000_000, outputTokens: 1_000_000, cacheReadTokens }),
      })
      .end(startTime + durationMs);
  });
}

async function costOf(model: string): Promise<number | null> {
  const from = new Date(Date.now() - 10 * 86_400_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const response = await fetch(`${collector.url}/api/v1/metrics/models?from=${from}&to=${to}&model=${encodeURIComponent(model)}`, {
    headers: { authorization: `Bearer ${collector.apiKey}` },
  });
  return ((await response.json()) as ModelMetricsResponse).models[0]?.cost ?? null;
}

describe('price overrides', () => {
  it('prices a negotiated rate from its effective date on, and re-prices what was stored before', async () => {
    const threeDaysAgo = Date.now() - 3 * 86_400_000;
    await sendCall('gpt-4o', 'openai', threeDaysAgo, 1000, 1_000_000);
    // list price: 1M uncached × $2.50 + 1M cached × $1.25 + 1M out × $10
    expect(await costOf('gpt-4o')).toBeCloseTo(13.75, 9);

    const created = await send('POST', '/api/v1/prices/overrides', {
      model: 'gpt-4o',
      provider: 'openai',
      inputPerMTok: 2,
      cacheReadPerMTok: 0.5,
      outputPerMTok: 8,
      effectiveFrom: new Date(threeDaysAgo - 86_400_000).toISOString(),
    });
    expect(created.status).toBe(201);
    await sendCall('gpt-4o', 'openai', Date.now() - 60_000, 1000, 1_000_000);
    // stored before the override: still list price; the new call at the negotiated rate (2 + 0.5 + 8)
    expect(await costOf('gpt-4o')).toBeCloseTo(13.75 + 10.5, 9);

    const repriced = await send('POST', '/api/v1/prices/reprice', {});
    expect(((await repriced.json()) as { repricedSpans: number }).repricedSpans).toBe(2);
    expect(await costOf('gpt-4o')).toBeCloseTo(2 * 10.5, 9);
  });

  it('prices a self-hosted model by GPU hour, which was unpriced before', async () => {
    await sendCall('llama-3.3-70b-ft', 'vllm', Date.now() - 120_000, 1_800_000);
    expect(await costOf('llama-3.3-70b-ft')).toBeNull();
    await send('POST', '/api/v1/prices/overrides', {
      model: 'llama-3.3-70b-ft',
      perHour: 4,
      effectiveFrom: '2026-01-01T00:00:00Z',
    });
    await sendCall('llama-3.3-70b-ft', 'vllm', Date.now() - 60_000, 900_000);
    // half an hour… unpriced until re-priced; a quarter hour at $4/h = $1
    expect(await costOf('llama-3.3-70b-ft')).toBeCloseTo(1, 9);
    await send('POST', '/api/v1/prices/reprice', {});
    expect(await costOf('llama-3.3-70b-ft')).toBeCloseTo(3, 9);
  });

  it('lists and deletes overrides, and refuses incomplete ones with a reason', async () => {
    const list = (await (await send('GET', '/api/v1/prices/overrides')).json()) as { overrides: { id: string; model: string }[] };
    expect(list.overrides.map((o) => o.model).sort()).toEqual(['gpt-4o', 'llama-3.3-70b-ft']);
    const bad = await send('POST', '/api/v1/prices/overrides', { model: 'x' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ApiError).error.message).toContain('per-token prices');
    const both = await send('POST', '/api/v1/prices/overrides', { model: 'x', inputPerMTok: 1, perHour: 2 });
    expect(both.status).toBe(400);
    expect((await send('DELETE', `/api/v1/prices/overrides/${list.overrides[0]!.id}`)).status).toBe(200);
    expect((await send('DELETE', `/api/v1/prices/overrides/${list.overrides[0]!.id}`)).status).toBe(404);
  });
});
