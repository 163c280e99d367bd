import { calcPrice, findProvider } from '@pydantic/genai-prices';

export interface Usage {
  /** Total input tokens, cache reads and writes included (the GenAI conventions' meaning). */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface Cost {
  total: number;
  input: number;
  output: number;
}

/**
 * GenAI-convention provider names whose price-data id differs. Names not listed are looked up as
 * they are (the price data also matches loosely: `openai_compatible` → openai, for proxies).
 */
const PROVIDER_ALIASES: Record<string, string> = {
  'azure.ai.openai': 'azure',
  'aws.bedrock': 'aws',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  x_ai: 'x-ai',
  mistral_ai: 'mistral',
};

/**
 * Prices one call with @pydantic/genai-prices at the span's time. Returns null when the model has
 * no known price: an unknown cost must stay unknown, never become 0. A provider the price data does
 * not know (self-hosted, say) is not guessed from the model name alone.
 */
export function priceCall(input: { provider: string; models: string[]; usage: Usage; at: Date }): Cost | null {
  let providerId: string | undefined;
  if (input.provider) {
    const known = findProvider({ providerId: PROVIDER_ALIASES[input.provider] ?? input.provider });
    if (!known) return null;
    providerId = known.id;
  }
  const usage = {
    input_tokens: input.usage.inputTokens,
    output_tokens: input.usage.outputTokens,
    cache_read_tokens: input.usage.cacheReadTokens || undefined,
    cache_write_tokens: input.usage.cacheWriteTokens || undefined,
  };
  for (const model of input.models) {
    if (!model) continue;
    const price = calcPrice(usage, model, { ...(providerId ? { providerId } : {}), timestamp: input.at });
    if (price) return { total: price.total_price, input: price.input_price, output: price.output_price };
  }
  return null;
}
