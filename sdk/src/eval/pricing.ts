// The default price of a call: @pydantic/genai-prices, as the collector prices stored spans. A model the price
// data does not know, and any self-hosted (openai_compatible) model, has no price: null, never a silent 0.
import { calcPrice } from '@pydantic/genai-prices';
import type { ModelConfig, PriceFn, TokenUsage } from './types.ts';

const PRICE_PROVIDER: Partial<Record<ModelConfig['provider'], string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'google',
};

export function defaultPrice(config: Pick<ModelConfig, 'provider' | 'model'>, usage: TokenUsage): number | null {
  const providerId = PRICE_PROVIDER[config.provider];
  if (!providerId) return null;
  const price = calcPrice(
    {
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      ...(usage.cacheReadTokens ? { cache_read_tokens: usage.cacheReadTokens } : {}),
      ...(usage.cacheWriteTokens ? { cache_write_tokens: usage.cacheWriteTokens } : {}),
    },
    config.model.replace(/^models\//, ''),
    { providerId },
  );
  return price ? price.total_price : null;
}

/** Calls a PriceFn the way the library promises: usage on the first argument too, non-numbers as unknown. */
export function priceOf(price: PriceFn, config: Pick<ModelConfig, 'provider' | 'model'> & Partial<ModelConfig>, usage: TokenUsage): number | null {
  let cost: number | null;
  try {
    cost = price({ ...config, ...usage }, usage);
  } catch {
    return null;
  }
  return typeof cost === 'number' && Number.isFinite(cost) ? cost : null;
}
