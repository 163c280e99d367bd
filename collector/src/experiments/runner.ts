// The bridge to the SDK's eval library: it makes the model calls (through the SDK's traced clients) and
// scores them; this file gives it the collector's keys, prices and a tracer whose spans land in this
// collector under the experiment's project.
import * as evalLibrary from '@parallax/sdk';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { DatasetItem, ExperimentComparison, ExperimentConfigSummary, ExperimentModelConfig, ExperimentScorer } from '../api/contract.ts';
import type { IngestBatcher } from '../ingest/batcher.ts';
import { priceCall } from '../ingest/pricing.ts';
import type { StoredResult } from '../store/experiments.ts';
import type { PriceOverrideStore } from '../store/price-overrides.ts';
import { pricingProvider } from './estimate.ts';
import type { ProviderEnv } from './providers.ts';
import type { ExperimentRunner, RunRequest } from './service.ts';
import { EXPERIMENT_ATTRIBUTE, IngestSpanExporter } from './span-exporter.ts';

export interface SdkRunnerDeps {
  batcher: IngestBatcher;
  priceOverrides: PriceOverrideStore;
  providers: ProviderEnv;
}

export const EXPERIMENT_SERVICE_NAME = 'parallax-experiments';

export function createSdkRunner(deps: SdkRunnerDeps): ExperimentRunner {
  const library = evalLibrary as unknown as EvalLibrary;
  return {
    async run(request: RunRequest): Promise<void> {
      const tracerProvider = new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': EXPERIMENT_SERVICE_NAME, [EXPERIMENT_ATTRIBUTE]: request.experimentId }),
        spanProcessors: [
          new BatchSpanProcessor({
            exporter: new IngestSpanExporter({ ...deps, projectId: request.projectId, experimentId: request.experimentId }),
            scheduledDelayMillis: 200,
          }) as SpanProcessor,
        ],
      });
      const overrides = await deps.priceOverrides.forProject(request.projectId);
      try {
        // One run per provider, each with its own concurrency: a slow or rate-limited provider does not
        // hold back the others, and no provider gets more than `concurrency` calls at once.
        const byProvider = new Map<string, ExperimentModelConfig[]>();
        for (const config of request.configs) byProvider.set(config.provider, [...(byProvider.get(config.provider) ?? []), config]);
        await Promise.all(
          [...byProvider.values()].map((configs) =>
            library.runEvaluation({
              items: request.items,
              configs,
              scorers: request.scorers,
              repetitions: request.repetitions,
              concurrency: request.concurrency,
              timeoutMs: request.timeoutMs,
              retries: request.retries,
              signal: request.signal,
              tracerProvider,
              env: clientEnv(deps.providers),
              price: (call: PriceInput) => priceOf(call, overrides),
              onResult: (result: LibraryResult) => request.onResult(toStored(result)),
            }),
          ),
        );
      } finally {
        await tracerProvider.forceFlush().catch(() => undefined);
        await tracerProvider.shutdown().catch(() => undefined);
      }
    },
    async rescore(results: StoredResult[], items: DatasetItem[], scorers: ExperimentScorer[]): Promise<StoredResult[]> {
      const rescored = await library.scoreResults(results.map(toLibrary), items, scorers);
      return rescored.map(toStored);
    },
    summarise: (results) => library.summarise(results.map(toLibrary)),
    compare: (current, baseline) => library.compare(current.map(toLibrary), baseline.map(toLibrary)),
  };
}

interface PriceInput {
  provider: ExperimentModelConfig['provider'];
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

type LibraryResult = Omit<StoredResult, 'scores'> & { scores: Array<StoredResult['scores'][number]> };

interface EvalLibrary {
  runEvaluation(options: Record<string, unknown>): Promise<unknown>;
  scoreResults(results: LibraryResult[], items: DatasetItem[], scorers: ExperimentScorer[]): Promise<LibraryResult[]>;
  summarise(results: LibraryResult[]): ExperimentConfigSummary[];
  compare(current: LibraryResult[], baseline: LibraryResult[]): ExperimentComparison[];
}

function priceOf(call: PriceInput, overrides: Parameters<typeof priceCall>[1]): number | null {
  const cost = priceCall(
    {
      provider: pricingProvider(call.provider),
      models: [call.model],
      usage: { inputTokens: call.inputTokens, outputTokens: call.outputTokens, cacheReadTokens: call.cacheReadTokens ?? 0, cacheWriteTokens: call.cacheWriteTokens ?? 0 },
      at: new Date(),
      durationMs: 0,
    },
    overrides,
  );
  return cost?.total ?? null;
}

function clientEnv(providers: ProviderEnv) {
  return providers;
}

function toStored(result: LibraryResult): StoredResult {
  return { ...result, scores: result.scores.map((s) => ({ ...s, costUsd: s.costUsd ?? null })) };
}

function toLibrary(result: StoredResult): LibraryResult {
  return result;
}
