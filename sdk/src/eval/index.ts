// The evaluation library: replay a dataset on any model, score the answers, summarise and compare runs.
export { runEvaluation, type RunOptions } from './runner.ts';
export { defineScorer, scoreResults, parseVerdict, type CustomScorer, type Scorer, type ScoreContext, type ScoreValue, type ScoringOptions } from './scorers.ts';
export { summarise, compare, pairedTest, type CompareOptions, type StatsOptions } from './stats.ts';
export { createModelCaller, ConfigProblem, type ModelCaller, type ModelCallResult, type ModelError, type ProviderOptions } from './providers.ts';
export { defaultPrice } from './pricing.ts';
export type { RetryPolicy } from './retry.ts';
export type * from './types.ts';
