// Prices from @pydantic/genai-prices, remembered per model. calcPrice looks the model up among
// hundreds by pattern and re-validates the price's structure on every call: 10–35 µs a span, more than
// the rest of ingest. A model's price is a handful of per-unit rates that change only on dates the data
// names, so each (provider, model) is looked up once, and each price it has once, then applied with the
// library's own arithmetic: the same operations in the same order, hence the same cost to the last bit.
// Before a remembered price is used, it is checked against calcPrice on probe usages (tiers crossed,
// cache reads and writes); a price that does not match exactly stays with calcPrice on every call.
import { calcPrice, type ModelInfo, type ModelPrice, type PriceCalculation, type PriceOptions, type Tier } from '@pydantic/genai-prices';
import type { Cost, Usage } from './pricing.ts';

type Pricer = (usage: Usage) => Cost;

interface KnownModel {
  /** `daily`: its price changes on start dates (midnight UTC); `any-time`: also by time of day. */
  changes: 'never' | 'daily' | 'any-time';
  /** The price in effect per UTC day (day 0 for a model whose price never changes); null: use calcPrice. */
  pricers: Map<number, Pricer | null>;
}

const DAY_MS = 86_400_000;
/** Model names come from spans: bound what a flood of distinct names can hold. */
const MAX_MODELS = 10_000;
const MAX_DAYS_PER_MODEL = 1_000;
const models = new Map<string, KnownModel | null>();
/** A price is one object in the library's data, whichever day selected it: compiled once. */
const pricersByPrice = new WeakMap<ModelPrice, Pricer | null>();

/**
 * calcPrice(usage, model, { providerId, timestamp: at }) as a Cost, or null when the price data does
 * not know the model: the same result, without looking the model up again.
 */
export function catalogPrice(usage: Usage, model: string, providerId: string | undefined, at: Date): Cost | null {
  const key = `${providerId ?? ''}\u0000${model}`;
  const known = models.get(key);
  if (known === null) return null;
  const options: PriceOptions = providerId ? { providerId, timestamp: at } : { timestamp: at };
  if (known === undefined) {
    const result = calcPrice(libraryUsage(usage), model, options);
    if (models.size >= MAX_MODELS) models.clear();
    models.set(key, result && { changes: howPriceChanges(result.model), pricers: new Map() });
    return result && toCost(result);
  }
  if (known.changes === 'any-time') return toCost(calcPrice(libraryUsage(usage), model, options)!);
  const day = known.changes === 'daily' ? Math.floor(at.getTime() / DAY_MS) : 0;
  const pricer = known.pricers.get(day);
  if (pricer === undefined) {
    const result = calcPrice(libraryUsage(usage), model, options)!;
    let compiled = pricersByPrice.get(result.model_price);
    if (compiled === undefined) {
      compiled = compile(result.model_price, (probe) => toCost(calcPrice(libraryUsage(probe), model, options)!));
      pricersByPrice.set(result.model_price, compiled);
    }
    if (known.pricers.size >= MAX_DAYS_PER_MODEL) known.pricers.clear();
    known.pricers.set(day, compiled);
    return toCost(result);
  }
  if (pricer === null || !isPlainUsage(usage)) return toCost(calcPrice(libraryUsage(usage), model, options)!);
  return pricer(usage);
}

/**
 * The input-token counts above which any of the model's prices (in the price data, whichever date or
 * time selects one) changes its rate: between two of them, each price is a fixed rate per token.
 * Empty when the data does not know the model.
 */
export function tierStarts(model: string, providerId: string | undefined): number[] {
  const result = calcPrice({ input_tokens: 0, output_tokens: 0 }, model, providerId ? { providerId } : {});
  if (!result) return [];
  const prices = result.model.prices;
  const starts = new Set<number>();
  for (const price of Array.isArray(prices) ? prices.map((p) => p.prices) : [prices]) {
    for (const value of Object.values(price)) if (typeof value === 'object' && value) for (const tier of value.tiers) starts.add(tier.start);
  }
  return [...starts].sort((a, b) => a - b);
}

function howPriceChanges(model: ModelInfo): KnownModel['changes'] {
  if (!Array.isArray(model.prices)) return 'never';
  return model.prices.every((p) => !p.constraint || p.constraint.type === 'start_date') ? 'daily' : 'any-time';
}

function libraryUsage(usage: Usage) {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_tokens: usage.cacheReadTokens || undefined,
    cache_write_tokens: usage.cacheWriteTokens || undefined,
  };
}

function toCost(result: PriceCalculation): Cost {
  return { total: result.total_price, input: result.input_price, output: result.output_price };
}

/** Counts the library accepts without a question: anything else goes to calcPrice, to fail there as it would. */
function isPlainUsage(usage: Usage): boolean {
  const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens } = usage;
  return (
    Number.isSafeInteger(inputTokens) &&
    Number.isSafeInteger(outputTokens) &&
    Number.isSafeInteger(cacheReadTokens) &&
    Number.isSafeInteger(cacheWriteTokens) &&
    outputTokens >= 0 &&
    cacheReadTokens >= 0 &&
    cacheWriteTokens >= 0 &&
    inputTokens >= cacheReadTokens + cacheWriteTokens
  );
}

/**
 * The price keys whose usage ingest reports, with the library's unit for each (per, direction). Every
 * other key prices a usage ingest never reports (audio, images, searches…), which the library prices at
 * exactly 0; `requests_kcount` is the library's one per-call charge.
 */
const UNITS: Record<string, { usage: keyof Usage | 'request'; per: number; direction: 'input' | 'output' | 'other' }> = {
  input_mtok: { usage: 'inputTokens', per: 1e6, direction: 'input' },
  cache_read_mtok: { usage: 'cacheReadTokens', per: 1e6, direction: 'input' },
  cache_write_mtok: { usage: 'cacheWriteTokens', per: 1e6, direction: 'input' },
  output_mtok: { usage: 'outputTokens', per: 1e6, direction: 'output' },
  requests_kcount: { usage: 'request', per: 1e3, direction: 'other' },
};

interface Term {
  usage: keyof Usage | 'request';
  per: number;
  direction: 'input' | 'output' | 'other';
  rate: number;
  /** Tiered rates, ascending by start; the tier is chosen by the total input tokens. */
  tiers: Tier[] | null;
}

/**
 * The library's arithmetic for one price over the usage ingest reports: each unit's leaf count (input
 * without the cache reads and writes the price lists apart), times its rate, over its `per`, summed per
 * direction in the price's key order. Returns null unless it matches calcPrice exactly on every probe.
 */
function compile(price: ModelPrice, library: Pricer): Pricer | null {
  const terms: Term[] = [];
  for (const [key, value] of Object.entries(price)) {
    const unit = UNITS[key];
    if (value === undefined || !unit) continue;
    if (typeof value === 'number') terms.push({ ...unit, rate: value, tiers: null });
    else terms.push({ ...unit, rate: value.base, tiers: [...value.tiers].sort((a, b) => a.start - b.start) });
  }
  const subtractsCacheRead = price.cache_read_mtok !== undefined;
  const subtractsCacheWrite = price.cache_write_mtok !== undefined;
  const pricer: Pricer = (usage) => {
    let input = 0;
    let output = 0;
    let other = 0;
    for (const term of terms) {
      let leaf: number;
      if (term.usage === 'request') leaf = 1;
      else if (term.usage === 'inputTokens') {
        leaf = usage.inputTokens - ((subtractsCacheRead ? usage.cacheReadTokens : 0) + (subtractsCacheWrite ? usage.cacheWriteTokens : 0));
      } else leaf = usage[term.usage];
      let value: number;
      if (term.tiers === null) value = (term.rate * leaf) / term.per;
      else {
        let rate = term.rate;
        for (const tier of term.tiers) if (usage.inputTokens > tier.start) rate = tier.price;
        value = ((leaf <= 0 ? 0 : (rate * leaf) / 1e6) * 1e6) / term.per;
      }
      if (term.direction === 'input') input += value;
      else if (term.direction === 'output') output += value;
      else other += value;
    }
    return { total: input + output + other, input, output };
  };
  for (const probe of PROBES) {
    let expected: Cost;
    try {
      expected = library(probe);
    } catch {
      return null;
    }
    const got = pricer(probe);
    if (got.total !== expected.total || got.input !== expected.input || got.output !== expected.output) return null;
  }
  return pricer;
}

/** Usages on both sides of the tier starts the price data uses, with and without cache reads and writes. */
const PROBES: Usage[] = [0, 1_000, 128_000, 128_001, 200_000, 200_001, 272_001, 1_234_567].flatMap((inputTokens) => [
  { inputTokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  { inputTokens, outputTokens: 777, cacheReadTokens: Math.floor(inputTokens / 4), cacheWriteTokens: 0 },
  { inputTokens, outputTokens: 4_321, cacheReadTokens: Math.floor(inputTokens / 5), cacheWriteTokens: Math.floor(inputTokens / 7) },
]);
