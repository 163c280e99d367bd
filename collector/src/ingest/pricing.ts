import { findProvider } from '@pydantic/genai-prices';
import { catalogPrice, tierStarts } from './catalog-prices.ts';
import type { PriceOverride } from '../store/price-overrides.ts';

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

export interface PricedCall {
  provider: string;
  /** Candidate model names, most specific first (the response's dated model, then the requested one). */
  models: string[];
  usage: Usage;
  at: Date;
  durationMs: number;
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

// Ingest prices every span: the provider's id is looked up once per name, not again per span.
const providerIds = new Map<string, string | undefined>();

function providerIdFor(name: string): string | undefined {
  if (!providerIds.has(name)) providerIds.set(name, findProvider({ providerId: PROVIDER_ALIASES[name] ?? name })?.id);
  return providerIds.get(name);
}

/**
 * Prices one call: the project's override for the model, if one is in effect at the call's time,
 * else @pydantic/genai-prices at that time. Returns null when the model has no known price: an
 * unknown cost must stay unknown, never become 0. A provider the price data does not know
 * (self-hosted, say) is not guessed from the model name alone.
 */
export function priceCall(call: PricedCall, overrides: readonly PriceOverride[] = []): Cost | null {
  const override = overrideFor(call, overrides);
  if (override) return priceWithOverride(call, override);
  let providerId: string | undefined;
  if (call.provider) {
    providerId = providerIdFor(call.provider);
    if (!providerId) return null;
  }
  for (const model of call.models) {
    if (!model) continue;
    const cost = catalogPrice(call.usage, model, providerId, call.at);
    if (cost) return cost;
  }
  return null;
}

/**
 * The total input tokens above which `model`'s price per token changes (tiers by prompt size), as
 * priceCall would price it for `provider`: calls between two of them cost the same per token.
 */
export function priceTierStarts(provider: string, model: string): number[] {
  if (!provider) return tierStarts(model, undefined);
  const providerId = providerIdFor(provider);
  return providerId ? tierStarts(model, providerId) : [];
}

/** The override in effect at the call's time: same model, same provider (or any), latest start. */
function overrideFor(call: PricedCall, overrides: readonly PriceOverride[]): PriceOverride | null {
  let best: PriceOverride | null = null;
  for (const override of overrides) {
    if (!call.models.includes(override.model)) continue;
    if (override.provider && override.provider !== call.provider) continue;
    if (Date.parse(override.effectiveFrom) > call.at.getTime()) continue;
    if (!best || override.effectiveFrom > best.effectiveFrom) best = override;
  }
  return best;
}

/**
 * The same arithmetic as repriceSql in store/reprice.ts: cache reads and writes at their own rate
 * (the input rate when the override sets none), the rest of the input at the input rate.
 */
function priceWithOverride(call: PricedCall, override: PriceOverride): Cost {
  if (override.perHour !== null) {
    return { total: (call.durationMs / 3_600_000) * override.perHour, input: 0, output: 0 };
  }
  const inputRate = override.inputPerMTok ?? 0;
  const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens } = call.usage;
  const uncached = Math.max(0, inputTokens - cacheReadTokens - cacheWriteTokens);
  const input =
    (uncached * inputRate + cacheReadTokens * (override.cacheReadPerMTok ?? inputRate) + cacheWriteTokens * (override.cacheWritePerMTok ?? inputRate)) / 1e6;
  const output = (outputTokens * (override.outputPerMTok ?? 0)) / 1e6;
  return { total: input + output, input, output };
}
