// The bridge to the SDK's eval library, which makes the model calls (through the SDK's traced clients, with
// per-provider concurrency, retries and cancellation) and scores them. This file gives it the collector's
// keys and base URLs (never the process environment of whoever asked), the project's prices, and a tracer
// whose spans land in this collector under the experiment's project.
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import {
  compare,
  runEvaluation,
  scoreResults,
  summarise,
  type CallResult,
  type EvalItem,
  type ModelConfig,
  type PriceFn,
  type ProviderOptions,
  type ScorerSpec,
} from '@parallax/sdk';
import type { DatasetItem, ExperimentScorer } from '../api/contract.ts';
import type { IngestBatcher } from '../ingest/batcher.ts';
import { priceCall } from '../ingest/pricing.ts';
import type { StoredResult } from '../store/experiments.ts';
import type { PriceOverride, PriceOverrideStore } from '../store/price-overrides.ts';
import { pricingProvider } from './estimate.ts';
import type { ProviderEnv } from './providers.ts';
import type { ExperimentRunner, RunRequest } from './service.ts';
import { EXPERIMENT_ATTRIBUTE, EXPERIMENT_SERVICE_NAME, IngestSpanExporter } from './span-exporter.ts';

export interface SdkRunnerDeps {
  batcher: IngestBatcher;
  priceOverrides: PriceOverrideStore;
  providers: ProviderEnv;
}

export function createSdkRunner(deps: SdkRunnerDeps): ExperimentRunner {
  // Without a context manager OpenTelemetry cannot carry the active span across awaits: each model call
  // would start a trace of its own instead of joining its experiment call's (and lose the run's tags).
  // Registering fails harmlessly when one is already registered.
  const contextManager = new AsyncLocalStorageContextManager();
  if (context.setGlobalContextManager(contextManager)) contextManager.enable();
  return {
    async run(request: RunRequest): Promise<void> {
      const overrides = await deps.priceOverrides.forProject(request.projectId);
      await withTracer(deps, request.projectId, request.experimentId, (tracerProvider) =>
        runEvaluation({
          items: request.items.map(toEvalItem),
          configs: request.configs as ModelConfig[],
          scorers: request.scorers as ScorerSpec[],
          repetitions: request.repetitions,
          concurrency: request.concurrency,
          timeoutMs: request.timeoutMs,
          retries: { maxRetries: request.retries },
          signal: request.signal,
          experimentId: request.experimentId,
          providers: providerOptions(deps.providers),
          tracerProvider,
          price: priceWith(overrides),
          onResult: (result) => request.onResult(toStored(result)),
        }),
      );
    },

    async rescore(projectId: string, experimentId: string, results: StoredResult[], items: DatasetItem[], scorers: ExperimentScorer[]): Promise<StoredResult[]> {
      const overrides = await deps.priceOverrides.forProject(projectId);
      // Only judges and embedding models are called here (and traced with the experiment), never the models under test.
      const rescored = await withTracer(deps, projectId, experimentId, (tracerProvider) =>
        scoreResults(results.map(toCallResult), items.map(toEvalItem), scorers as ScorerSpec[], {
          providers: { ...providerOptions(deps.providers), wrap: { tracerProvider } },
          price: priceWith(overrides),
        }),
      );
      return rescored.map(toStored);
    },

    summarise: (results) => summarise(results.map(toCallResult)),
    compare: (current, baseline) => compare(current.map(toCallResult), baseline.map(toCallResult)),
  };
}

/** Runs `work` with a tracer provider whose spans go to this collector; every span is stored before it returns. */
async function withTracer<T>(deps: SdkRunnerDeps, projectId: string, experimentId: string, work: (provider: TracerProvider) => Promise<T>): Promise<T> {
  const tracerProvider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': EXPERIMENT_SERVICE_NAME, [EXPERIMENT_ATTRIBUTE]: experimentId }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new IngestSpanExporter({ batcher: deps.batcher, priceOverrides: deps.priceOverrides, projectId, experimentId }),
        scheduledDelayMillis: 200,
      }) as SpanProcessor,
    ],
  });
  try {
    return await work(tracerProvider);
  } finally {
    await tracerProvider.shutdown().catch((error: Error) => console.error(`parallax collector: experiment ${experimentId}: spans not stored: ${error.message}`));
  }
}

/** Keys and base URLs from the collector's settings only: `env: {}` keeps the library off process.env. */
function providerOptions(providers: ProviderEnv): ProviderOptions {
  const apiKeys: ProviderOptions['apiKeys'] = {};
  const baseUrls: ProviderOptions['baseUrls'] = {};
  for (const name of ['openai', 'anthropic', 'gemini'] as const) {
    if (providers[name].apiKey) apiKeys[name] = providers[name].apiKey;
    if (providers[name].baseUrl) baseUrls[name] = providers[name].baseUrl;
  }
  if (providers.openaiCompatibleApiKey) apiKeys.openai_compatible = providers.openaiCompatibleApiKey;
  return { apiKeys, baseUrls, env: {} };
}

/** The project's prices (overrides, then genai-prices), the same as its stored spans get. */
function priceWith(overrides: readonly PriceOverride[]): PriceFn {
  return (call) =>
    priceCall(
      {
        provider: pricingProvider(call.provider),
        models: [call.model],
        usage: { inputTokens: call.inputTokens, outputTokens: call.outputTokens, cacheReadTokens: call.cacheReadTokens, cacheWriteTokens: call.cacheWriteTokens },
        at: new Date(),
        durationMs: 0,
      },
      overrides,
    )?.total ?? null;
}

function toEvalItem(item: DatasetItem): EvalItem {
  return { id: item.id, input: item.input as EvalItem['input'], expectedOutput: item.expectedOutput, assertions: item.assertions, metadata: item.metadata };
}

function toStored(result: CallResult): StoredResult {
  return {
    ...result,
    outputMessages: result.outputMessages as StoredResult['outputMessages'],
    scores: result.scores.map((s) => ({ scorer: s.scorer, value: s.value, pass: s.pass, reason: s.reason, costUsd: s.costUsd ?? null })),
  };
}

/** Stored results were CallResults: their output messages are the library's, read back from JSON. */
function toCallResult(result: StoredResult): CallResult {
  return { ...result, outputMessages: result.outputMessages as CallResult['outputMessages'] };
}
