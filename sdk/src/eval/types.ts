// The evaluation library's public shapes: what an experiment runs (items × model configurations ×
// repetitions), how answers are scored, and what comes back. Shared by the `parallax eval` CLI and
// the collector's experiment runner (which stores these as they are).
import type { ChatMessage, MessagePart, OutputMessage, ToolDefinition } from '../adapters/messages.ts';

/** A test case, as a dataset stores it (collector/src/api/contract.ts `DatasetItem`). */
export interface EvalItem {
  id: string;
  input: {
    systemInstructions?: MessagePart[] | null;
    messages: ChatMessage[];
    toolDefinitions?: ToolDefinition[] | unknown[] | null;
    params?: Record<string, unknown> | null;
  };
  expectedOutput: string | null;
  assertions: Assertion[];
  metadata?: Record<string, string>;
}

/** Same union as the collector's contract: checks a model's answer must pass. */
export type Assertion =
  | { type: 'equals'; value: string; ignoreCase?: boolean }
  | { type: 'contains'; value: string; ignoreCase?: boolean }
  | { type: 'not_contains'; value: string; ignoreCase?: boolean }
  | { type: 'regex'; pattern: string; flags?: string }
  | { type: 'is_json' }
  | { type: 'json_schema'; schema: Record<string, unknown> }
  | { type: 'max_length'; value: number }
  | { type: 'rubric'; rubric: string };

export type ProviderName = 'openai' | 'anthropic' | 'gemini' | 'openai_compatible';

/** Where and how to call a model. Keys come from the environment, never from this object's JSON. */
export interface ModelConfig {
  /** Stable id within an experiment, e.g. "gpt-4o-mini" or "claude@t0". */
  id: string;
  provider: ProviderName;
  model: string;
  /** Request parameters: temperature, max_tokens (max_output_tokens), top_p, seed, … */
  params?: Record<string, unknown>;
  /** Replaces the item's system instructions (a prompt change tested across models). */
  systemPrompt?: string;
  /** openai_compatible (or any provider): where to send requests instead of the provider's default. */
  baseUrl?: string;
}

/** Scorers by name; assertions on items are scored too. Every score keeps its reason. */
export type ScorerSpec =
  | { type: 'exact_match'; ignoreCase?: boolean }
  | { type: 'contains'; value: string; ignoreCase?: boolean }
  | { type: 'not_contains'; value: string; ignoreCase?: boolean }
  | { type: 'regex'; pattern: string; flags?: string }
  | { type: 'is_json' }
  | { type: 'json_schema'; schema: Record<string, unknown> }
  | { type: 'length'; min?: number; max?: number }
  | { type: 'latency'; maxMs: number }
  | { type: 'cost'; maxUsd: number }
  /** Cosine similarity of embeddings of output and expected output; passes at `threshold`. */
  | { type: 'semantic_similarity'; provider: ProviderName; model: string; threshold: number; baseUrl?: string }
  /** An LLM judge grades the output against a rubric (and the expected output when present). */
  | { type: 'llm_judge'; rubric?: string; judge: ModelConfig; threshold?: number };

export interface Score {
  /** e.g. "contains", "llm_judge", "assertion:regex" */
  scorer: string;
  /** 0..1 */
  value: number;
  pass: boolean;
  reason: string;
  /** What grading cost (judge or embedding calls), USD; null when unknown. */
  costUsd?: number | null;
}

/** One call of one configuration on one item. */
export interface CallResult {
  itemId: string;
  configId: string;
  repetition: number;
  /** The answer as text ('' when it only called tools; tool calls are in outputMessages). */
  output: string;
  outputMessages: OutputMessage[];
  error: string | null;
  latencyMs: number;
  ttftMs: number | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  traceId: string | null;
  scores: Score[];
}

export interface ConfigSummary {
  configId: string;
  calls: number;
  errors: number;
  /** Share of calls whose every score passed. */
  passRate: number;
  meanScore: number;
  /** 95% bootstrap confidence interval of the mean score, resampling items. */
  meanScoreCi: [number, number];
  costPerItemUsd: number | null;
  totalCostUsd: number | null;
  latencyP50Ms: number;
  latencyP95Ms: number;
  ttftP50Ms: number | null;
  /** What grading cost (judge and embedding calls), USD; null when a grading model has no known price. */
  gradingCostUsd?: number | null;
}

/** How a run compares with a baseline run on the same items. */
export interface Comparison {
  configId: string;
  baselineConfigId: string;
  /** Items that passed in the baseline and fail now (listed first in reports). */
  regressions: string[];
  improvements: string[];
  /** Mean of (score now − score before) over shared items, with a 95% bootstrap interval. */
  meanDelta: number;
  meanDeltaCi: [number, number];
  /** Two-sided p-value of a paired test on per-item scores (exact sign-flip / Wilcoxon: say which). */
  pValue: number;
  test: string;
}

export interface RunProgress {
  total: number;
  done: number;
  errors: number;
  costUsd: number;
}

/** Token counts of one call as the GenAI conventions count them: input includes cache reads and writes. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/**
 * Prices a call (or a judge's or an embedding call) in USD; null when the model's price is unknown. The first
 * argument carries the usage too, so `(call) => …` and `(config, usage) => …` both work. A result that is not a
 * finite number is taken as unknown.
 */
export type PriceFn = (call: Pick<ModelConfig, 'provider' | 'model'> & Partial<ModelConfig> & TokenUsage, usage: TokenUsage) => number | null;
