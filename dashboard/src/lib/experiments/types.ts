// The experiment shapes belong to the collector's JSON API; the dashboard borrows them as types.
export type {
  ExperimentComparison,
  ExperimentConfigSummary,
  ExperimentEstimateResponse,
  ExperimentListResponse,
  ExperimentModelConfig,
  ExperimentProgress,
  ExperimentResponse,
  ExperimentResultCell,
  ExperimentResultRow,
  ExperimentResultsResponse,
  ExperimentScore,
  ExperimentScorer,
  ExperimentStatus,
  ExperimentSummary,
  SwitchQuality,
  SwitchSimulatorResponse,
} from '../../../../collector/src/api/contract.ts';

import type { ExperimentModelConfig, ExperimentScorer } from '../../../../collector/src/api/contract.ts';

/** What POST /experiments/estimate takes. */
export interface RunBody {
  datasetId: string;
  datasetVersion?: number;
  configs: ExperimentModelConfig[];
  scorers: ExperimentScorer[];
  repetitions: number;
}

/** What POST /experiments takes. */
export interface StartBody extends RunBody {
  name: string;
  concurrency: number;
  baselineExperimentId?: string;
}

export type Provider = 'openai' | 'anthropic' | 'gemini' | 'openai_compatible';

export const PROVIDERS: { value: Provider; label: string }[] = [
  { value: 'openai', label: 'OpenAI' },
  { value: 'anthropic', label: 'Anthropic' },
  { value: 'gemini', label: 'Google Gemini' },
  { value: 'openai_compatible', label: 'OpenAI-compatible (base URL)' },
];
