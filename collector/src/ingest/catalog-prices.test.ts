import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { catalogPrice } from './catalog-prices.ts';
import type { Usage } from './pricing.ts';

/** The library itself, uncached: what catalogPrice must equal to the last bit. */
function uncached(usage: Usage, model: string, providerId: string | undefined, at: Date) {
  const price = calcPrice(
    {
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      cache_read_tokens: usage.cacheReadTokens || undefined,
      cache_write_tokens: usage.cacheWriteTokens || undefined,
    },
    model,
    providerId ? { providerId, timestamp: at } : { timestamp: at },
  );
  return price && { total: price.total_price, input: price.input_price, output: price.output_price };
}

function usage(inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0): Usage {
  return { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens };
}

/** A small seeded generator, so a failure names a reproducible case. */
function random(seed: number) {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

describe('catalogPrice', () => {
  it('gives exactly the cost calcPrice gives, for flat and tiered prices, with cache reads and writes', () => {
    const next = random(7);
    const models: [string | undefined, string][] = [
      ['openai', 'gpt-4o-2024-08-06'],
      ['openai', 'gpt-4o-mini'],
      ['openai', 'gpt-5'],
      ['anthropic', 'claude-sonnet-4-6'],
      ['anthropic', 'claude-haiku-4-5'],
      ['google', 'gemini-2.5-flash'],
      ['google', 'gemini-2.5-pro'], // tiered above 200k input tokens
      [undefined, 'gpt-4o'], // no provider: the price data finds one by the model's name
    ];
    const at = new Date('2026-11-24T12:00:00Z');
    for (const [provider, model] of models) {
      for (let i = 0; i < 400; i++) {
        const input = Math.floor(next() ** 2 * 400_000);
        const read = next() < 0.5 ? Math.floor(input * next() * 0.6) : 0;
        const write = next() < 0.3 ? Math.floor((input - read) * next()) : 0;
        const call = usage(input, Math.floor(next() * 8_000), read, write);
        expect(catalogPrice(call, model, provider, at), `${model} ${JSON.stringify(call)}`).toEqual(uncached(call, model, provider, at));
      }
    }
    // Right at a tier's start and one token past it: gemini-2.5-pro's input costs twice as much above 200k.
    for (const input of [200_000, 200_001]) {
      const call = usage(input, 10, 1_000, 0);
      expect(catalogPrice(call, 'gemini-2.5-pro', 'google', at)).toEqual(uncached(call, 'gemini-2.5-pro', 'google', at));
    }
    const perToken = (input: number) => catalogPrice(usage(input, 0), 'gemini-2.5-pro', 'google', at)!.input / input;
    expect(perToken(200_001)).toBeCloseTo(2 * perToken(200_000), 12);
  });

  it('changes price where the price data does, on the date, whichever day is asked first', () => {
    // claude-sonnet-4-6 has a new price from 2026-03-13 (UTC).
    const before = new Date('2026-03-12T23:59:59.999Z');
    const after = new Date('2026-03-13T00:00:00.000Z');
    const call = usage(1_000_000, 100_000, 200_000, 50_000);
    for (const at of [after, before, after, before]) {
      expect(catalogPrice(call, 'claude-sonnet-4-6', 'anthropic', at)).toEqual(uncached(call, 'claude-sonnet-4-6', 'anthropic', at));
    }
    expect(catalogPrice(call, 'claude-sonnet-4-6', 'anthropic', before)).not.toEqual(catalogPrice(call, 'claude-sonnet-4-6', 'anthropic', after));
  });

  it('follows prices that change by time of day within a day', () => {
    // deepseek-chat is cheaper off-peak (16:30–00:30 UTC).
    const call = usage(1_000_000, 100_000);
    const peak = new Date('2026-11-24T12:00:00Z');
    const offPeak = new Date('2026-11-24T20:00:00Z');
    for (const at of [peak, offPeak, peak]) expect(catalogPrice(call, 'deepseek-chat', 'deepseek', at)).toEqual(uncached(call, 'deepseek-chat', 'deepseek', at));
    expect(catalogPrice(call, 'deepseek-chat', 'deepseek', peak)).not.toEqual(catalogPrice(call, 'deepseek-chat', 'deepseek', offPeak));
  });

  it('keeps an unknown model unpriced every time, and asks again for each provider', () => {
    const at = new Date('2026-11-24T12:00:00Z');
    expect(catalogPrice(usage(1000, 10), 'our-finetune', 'openai', at)).toBeNull();
    expect(catalogPrice(usage(2000, 20), 'our-finetune', 'openai', at)).toBeNull();
    expect(catalogPrice(usage(1000, 10), 'gpt-4o', 'openai', at)).toEqual(uncached(usage(1000, 10), 'gpt-4o', 'openai', at));
  });

  it('fails as calcPrice does on usage it cannot price (cache reads above the input)', () => {
    const at = new Date('2026-11-24T12:00:00Z');
    const bad = usage(100, 10, 500);
    expect(() => uncached(bad, 'gpt-4o', 'openai', at)).toThrow();
    catalogPrice(usage(1000, 10), 'gpt-4o', 'openai', at);
    expect(() => catalogPrice(bad, 'gpt-4o', 'openai', at)).toThrow();
  });
});
