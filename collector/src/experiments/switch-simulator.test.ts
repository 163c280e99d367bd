import type { Attributes } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, SwitchSimulatorResponse } from '../api/contract.ts';
import { generateKey } from '../store/projects.ts';
import { chatAttributes, exportThroughOtlp } from '../test-support.ts';
import { EXPERIMENT_SERVICE_NAME } from './span-exporter.ts';
import { startExperimentCollector, type ExperimentTestCollector } from './test-support.ts';

let collector: ExperimentTestCollector;
let otherKey: string;
const now = Date.now();
const range = `from=${new Date(now - 3 * 3600_000).toISOString()}&to=${new Date(now + 60_000).toISOString()}`;
// Yesterday (UTC), at least 21 hours before the range above.
const yesterday = Math.floor(now / 86400_000) * 86400_000 - 86400_000;
const day = `from=${new Date(yesterday).toISOString()}&to=${new Date(yesterday + 86400_000).toISOString()}`;

function call(tracer: Parameters<Parameters<typeof exportThroughOtlp>[2]>[0], startMs: number, attributes: Attributes, durationMs = 400): void {
  tracer.startSpan('chat', { startTime: startMs, attributes }).end(startMs + durationMs);
}

beforeAll(async () => {
  collector = await startExperimentCollector();
  const other = await collector.projects.createProject('Other team');
  otherKey = generateKey();
  await collector.projects.addKey(other.id, otherKey, { name: 'other', scope: 'full' });

  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    const t = now - 3600_000;
    // In range, on gpt-4o-mini: three plain calls and one mostly served from the prompt cache.
    for (let i = 0; i < 3; i++) call(tracer, t + i * 1000, chatAttributes({ model: 'gpt-4o-mini', inputTokens: 1000, outputTokens: 200 }));
    call(tracer, t + 5000, chatAttributes({ model: 'gpt-4o-mini', inputTokens: 10_000, cacheReadTokens: 8000, outputTokens: 500 }));
    // Not counted: another model, and a call outside the range.
    call(tracer, t + 6000, chatAttributes({ model: 'gpt-4o', inputTokens: 5000, outputTokens: 5000 }));
    call(tracer, now - 5 * 3600_000, chatAttributes({ model: 'gpt-4o-mini', inputTokens: 7000, outputTokens: 7000 }));
    // A self-hosted model's calls yesterday: one in the small hours, one in the evening (UTC).
    for (const hour of [3, 20]) {
      call(tracer, yesterday + hour * 3600_000, chatAttributes({ provider: 'vllm', model: 'local-llama', inputTokens: 1_000_000, outputTokens: 0 }));
    }
    // Another one's: a long prompt and a short one, a second apart.
    call(tracer, yesterday + 10 * 3600_000, chatAttributes({ provider: 'vllm', model: 'local-qwen', inputTokens: 300_000, outputTokens: 0 }));
    call(tracer, yesterday + 10 * 3600_000 + 1000, chatAttributes({ provider: 'vllm', model: 'local-qwen', inputTokens: 1000, outputTokens: 100 }));
  });
  // A call an experiment made, stored as the runner stores its calls.
  await exportThroughOtlp(
    collector.url,
    collector.apiKey,
    (tracer) => call(tracer, now - 3600_000 + 7000, { ...chatAttributes({ model: 'gpt-4o-mini', inputTokens: 9000, outputTokens: 9000 }), 'parallax.experiment.id': 'exp_x' }),
    { 'service.name': EXPERIMENT_SERVICE_NAME, 'parallax.experiment.id': 'exp_x' },
  );
  // Another project's traffic on the same model never shows here.
  await exportThroughOtlp(collector.url, otherKey, (tracer) => {
    call(tracer, now - 3600_000, chatAttributes({ model: 'gpt-4o-mini', inputTokens: 50_000, outputTokens: 50_000 }));
  });
});

afterAll(async () => {
  await collector?.close();
});

describe('GET /api/v1/switch-simulator', () => {
  it('re-prices each production call on fromModel at toModel prices, cache reads at the cache rate', async () => {
    const { status, body } = await collector.api<SwitchSimulatorResponse>(
      `/api/v1/switch-simulator?${range}&fromModel=gpt-4o-mini&toModel=claude-haiku-4-5&toProvider=anthropic`,
    );
    expect(status).toBe(200);
    expect(body.calls).toBe(4);
    expect(body.inputTokens).toBe(13_000);
    expect(body.outputTokens).toBe(1100);
    expect(body.cacheReadTokens).toBe(8000);
    expect(body.unpricedCalls).toBe(0);
    // gpt-4o-mini: $0.15 in, $0.075 cache read, $0.60 out per million tokens.
    // 3 × (1000 × 0.15 + 200 × 0.6) + (2000 × 0.15 + 8000 × 0.075 + 500 × 0.6) = 810 + 1200 micro-dollars.
    expect(body.actualCostUsd).toBeCloseTo(0.00201, 9);
    // claude-haiku-4-5: $1 in, $0.10 cache read, $5 out per million tokens.
    // 3 × (1000 × 1 + 200 × 5) + (2000 × 1 + 8000 × 0.1 + 500 × 5) = 6000 + 5300 micro-dollars.
    expect(body.projectedCostUsd).toBeCloseTo(0.0113, 9);
    expect(body.differenceUsd).toBeCloseTo(0.0113 - 0.00201, 9);
    expect(body.quality).toEqual({ fromModel: [], toModel: [] });
  });

  it("uses the project's price override for the target model (a fine-tune, say)", async () => {
    const created = await collector.send('POST', '/api/v1/prices/overrides', {
      model: 'acme-ft-1',
      inputPerMTok: 2,
      outputPerMTok: 4,
      effectiveFrom: new Date(now - 86400_000).toISOString(),
    });
    expect(created.status).toBe(201);
    const { body } = await collector.api<SwitchSimulatorResponse>(`/api/v1/switch-simulator?${range}&fromModel=gpt-4o-mini&toModel=acme-ft-1`);
    // No cache rate in the override: cached tokens at the input rate.
    // 3 × (1000 × 2 + 200 × 4) + (10000 × 2 + 500 × 4) = 8400 + 22000 micro-dollars.
    expect(body.projectedCostUsd).toBeCloseTo(0.0304, 9);
  });

  it('prices each call at the rate in effect at its time, when an override changes mid-day', async () => {
    const t = now - 3600_000;
    for (const [effectiveFrom, rate] of [[now - 2 * 86400_000, 1], [t + 2500, 2]] as const) {
      const created = await collector.send('POST', '/api/v1/prices/overrides', {
        model: 'acme-ft-2',
        inputPerMTok: rate,
        outputPerMTok: rate * 2,
        effectiveFrom: new Date(effectiveFrom).toISOString(),
      });
      expect(created.status).toBe(201);
    }
    const { body } = await collector.api<SwitchSimulatorResponse>(`/api/v1/switch-simulator?${range}&fromModel=gpt-4o-mini&toModel=acme-ft-2`);
    // The three plain calls came before the new rate: 3 × (1000 × 1 + 200 × 2) micro-dollars;
    // the cached one after it: 10000 × 2 + 500 × 4.
    expect(body.projectedCostUsd).toBeCloseTo(0.0042 + 0.022, 9);
  });

  it("prices DeepSeek's off-peak hours at the off-peak rate", async () => {
    const { body } = await collector.api<SwitchSimulatorResponse>(
      `/api/v1/switch-simulator?${day}&fromModel=local-llama&toModel=deepseek-chat&toProvider=deepseek`,
    );
    expect(body.calls).toBe(2);
    // deepseek-chat input: $0.27 per million tokens 00:30-16:30 UTC, $0.135 the rest of the day.
    expect(body.projectedCostUsd).toBeCloseTo(0.27 + 0.135, 9);
  });

  it('prices a long prompt at the rate for long prompts, beside a short one at the same time', async () => {
    const { body } = await collector.api<SwitchSimulatorResponse>(`/api/v1/switch-simulator?${day}&fromModel=local-qwen&toModel=gemini-2.5-pro&toProvider=google`);
    expect(body.calls).toBe(2);
    expect(body.inputTokens).toBe(301_000);
    // gemini-2.5-pro per million tokens: input $1.25, output $10; over 200k tokens of prompt $2.50 and $15.
    expect(body.projectedCostUsd).toBeCloseTo(300_000 * 2.5e-6 + 1000 * 1.25e-6 + 100 * 10e-6, 9);
  });

  it('says unpriced (null), not free, when the target model has no known price', async () => {
    const { body } = await collector.api<SwitchSimulatorResponse>(`/api/v1/switch-simulator?${range}&fromModel=gpt-4o-mini&toModel=my-unknown-model-7b`);
    expect(body.calls).toBe(4);
    expect(body.projectedCostUsd).toBeNull();
    expect(body.differenceUsd).toBeNull();
  });

  it("shows another project's key only its own traffic", async () => {
    const { body } = await collector.api<SwitchSimulatorResponse>(`/api/v1/switch-simulator?${range}&fromModel=gpt-4o-mini&toModel=gpt-4o`, otherKey);
    expect(body.calls).toBe(1);
    expect(body.inputTokens).toBe(50_000);
  });

  it('refuses a request without the models', async () => {
    const { status, body } = await collector.api<ApiError>(`/api/v1/switch-simulator?${range}&fromModel=gpt-4o-mini`);
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_query');
    expect(body.error.message).toContain('toModel');
  });
});

describe('a collector without provider keys', () => {
  it('refuses to start an experiment, naming the variable to set, and stores nothing', async () => {
    const dataset = await collector.send<{ dataset: { id: string } }>('POST', '/api/v1/datasets', { name: 'one' });
    await collector.send('POST', `/api/v1/datasets/${dataset.body.dataset.id}/items`, { items: [{ input: { messages: [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }] } }] });
    const { status, body } = await collector.send<ApiError>('POST', '/api/v1/experiments', {
      name: 'no key',
      datasetId: dataset.body.dataset.id,
      configs: [{ id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5' }],
    });
    expect(status).toBe(422);
    expect(body.error.code).toBe('provider_not_configured');
    expect(body.error.message).toContain('ANTHROPIC_API_KEY');
    expect((await collector.api<{ experiments: unknown[] }>('/api/v1/experiments')).body.experiments).toEqual([]);
  });
});
