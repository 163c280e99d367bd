import { describe, expect, it } from 'vitest';
import { priceCall } from './pricing.ts';

const at = new Date('2026-11-01T00:00:00Z');
const durationMs = 1000;
const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheWriteTokens,
});

describe('priceCall', () => {
  it('prices cached input at the cache-read rate without counting it twice', () => {
    // gpt-4o: $2.50/M input, $1.25/M cached input, $10/M output
    const cost = priceCall({ provider: 'openai', models: ['gpt-4o'], usage: usage(1_000_000, 0, 1_000_000), at, durationMs })!;
    expect(cost.total).toBeCloseTo(1.25, 9);
    const uncached = priceCall({ provider: 'openai', models: ['gpt-4o'], usage: usage(1_000_000, 1_000_000), at, durationMs })!;
    expect(uncached).toEqual({ total: 12.5, input: 2.5, output: 10 });
  });

  it('prices Anthropic cache writes at their own rate', () => {
    // claude-sonnet-4-6: $3/M input, $3.75/M cache write, $0.30/M cache read
    const cost = priceCall({ provider: 'anthropic', models: ['claude-sonnet-4-6'], usage: usage(3_000_000, 0, 1_000_000, 1_000_000), at, durationMs })!;
    expect(cost.input).toBeCloseTo(3 + 3.75 + 0.3, 9);
  });

  it('maps the conventions provider names to the price data', () => {
    expect(priceCall({ provider: 'gcp.gemini', models: ['gemini-2.5-flash'], usage: usage(1000, 1000), at, durationMs })).not.toBeNull();
    expect(priceCall({ provider: 'x_ai', models: ['grok-3'], usage: usage(1000, 1000), at, durationMs })).not.toBeNull();
    expect(priceCall({ provider: 'aws.bedrock', models: ['anthropic.claude-3-haiku-20240307-v1:0'], usage: usage(1000, 1000), at, durationMs })).not.toBeNull();
  });

  it('prefers the dated response model and falls back to the requested one', () => {
    const dated = priceCall({ provider: 'openai', models: ['gpt-4o-2024-08-06', 'gpt-4o'], usage: usage(1_000_000, 0), at, durationMs })!;
    expect(dated.total).toBeCloseTo(2.5, 9);
    const fallback = priceCall({ provider: 'openai', models: ['', 'gpt-4o-mini'], usage: usage(1_000_000, 0), at, durationMs })!;
    expect(fallback.total).toBeCloseTo(0.15, 9);
  });

  it('leaves unknown models and self-hosted providers unpriced (null), never 0', () => {
    expect(priceCall({ provider: 'openai', models: ['our-finetune'], usage: usage(1000, 1000), at, durationMs })).toBeNull();
    expect(priceCall({ provider: 'ollama', models: ['llama3.1:8b'], usage: usage(1000, 1000), at, durationMs })).toBeNull();
  });

  it('prices a call that used no tokens at zero when the model is known', () => {
    expect(priceCall({ provider: 'openai', models: ['gpt-4o'], usage: usage(0, 0), at, durationMs })?.total).toBe(0);
  });
});
