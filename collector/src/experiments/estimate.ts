// What an experiment will cost before it runs: approximate token counts of each item (characters / 4,
// labelled as an estimate) priced call by call with the project's prices, so a person can decide before
// spending anything. A model without a known price stays unpriced: null, never 0.
import type { DatasetItem, ExperimentEstimateRow, ExperimentModelConfig } from '../api/contract.ts';
import { priceCall } from '../ingest/pricing.ts';
import type { PriceOverride } from '../store/price-overrides.ts';

export const ESTIMATE_METHOD =
  'approximate: tokens = characters / 4 of the input (system instructions, messages, tools) and of the expected output; ' +
  'items without an expected output count params.max_tokens (max_output_tokens), else 256; judge and embedding calls of scorers are not included';

/** Output tokens assumed for an item with no expected output and no max_tokens. */
const DEFAULT_OUTPUT_TOKENS = 256;

/** The GenAI-convention provider name each configuration's calls are recorded (and priced) under. */
export function pricingProvider(provider: ExperimentModelConfig['provider']): string {
  return provider === 'gemini' ? 'gcp.gemini' : provider;
}

export function approximateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimateConfigs(
  items: readonly DatasetItem[],
  configs: readonly ExperimentModelConfig[],
  repetitions: number,
  overrides: readonly PriceOverride[],
  at: Date = new Date(),
): ExperimentEstimateRow[] {
  return configs.map((config) => {
    let inputTokens = 0;
    let outputTokens = 0;
    let costUsd: number | null = 0;
    for (const item of items) {
      const input = itemInputTokens(item, config);
      const output = item.expectedOutput !== null ? approximateTokens(item.expectedOutput) : (maxTokens(config) ?? DEFAULT_OUTPUT_TOKENS);
      inputTokens += input * repetitions;
      outputTokens += output * repetitions;
      // Per item, not per total: tiered prices depend on the size of each call.
      const cost = priceCall(
        {
          provider: pricingProvider(config.provider),
          models: [config.model],
          usage: { inputTokens: input, outputTokens: output, cacheReadTokens: 0, cacheWriteTokens: 0 },
          at,
          durationMs: 0,
        },
        overrides,
      );
      costUsd = cost === null || costUsd === null ? null : costUsd + cost.total * repetitions;
    }
    return { configId: config.id, provider: config.provider, model: config.model, calls: items.length * repetitions, inputTokens, outputTokens, costUsd };
  });
}

function itemInputTokens(item: DatasetItem, config: ExperimentModelConfig): number {
  const system = config.systemPrompt ?? partsText(item.input.systemInstructions ?? []);
  const messages = item.input.messages.map((m) => partsText(m.parts)).join('\n');
  const tools = item.input.toolDefinitions?.length ? JSON.stringify(item.input.toolDefinitions) : '';
  return approximateTokens(system) + approximateTokens(messages) + approximateTokens(tools);
}

function partsText(parts: ReadonlyArray<{ type: string; [key: string]: unknown }>): string {
  return parts
    .map((part) => {
      if (part.type === 'text' && typeof part.content === 'string') return part.content;
      if (part.type === 'tool_call') return `${String(part.name)} ${JSON.stringify(part.arguments ?? '')}`;
      if (part.type === 'tool_call_response') return JSON.stringify(part.response ?? '');
      return '';
    })
    .join('\n');
}

function maxTokens(config: ExperimentModelConfig): number | null {
  const params = config.params ?? {};
  for (const name of ['max_tokens', 'max_output_tokens', 'max_completion_tokens', 'maxOutputTokens']) {
    const value = params[name];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  }
  return null;
}
