import type { Cost, ModelMetrics } from '#lib/api-types.ts';

export interface Summary {
  cost: Cost;
  calls: number;
  errors: number;
  unpricedCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** The slowest model's p95: the API gives percentiles per model, and those do not add up to an overall p95. */
  worstP95: { ms: number; model: string } | null;
  /** The slowest median time to first token among models that streamed; null when none did. */
  worstTtft: { ms: number; model: string } | null;
}

export function summarize(models: ModelMetrics[]): Summary {
  let cost: Cost = null;
  let worstP95: Summary['worstP95'] = null;
  let worstTtft: Summary['worstTtft'] = null;
  const summary = { calls: 0, errors: 0, unpricedCalls: 0, inputTokens: 0, outputTokens: 0 };
  for (const m of models) {
    summary.calls += m.calls;
    summary.errors += m.errors;
    summary.unpricedCalls += m.unpricedCalls;
    summary.inputTokens += m.inputTokens;
    summary.outputTokens += m.outputTokens;
    if (m.cost !== null) cost = (cost ?? 0) + m.cost;
    if (worstP95 === null || m.latencyP95Ms > worstP95.ms) worstP95 = { ms: m.latencyP95Ms, model: m.model };
    if (m.ttftP50Ms !== null && (worstTtft === null || m.ttftP50Ms > worstTtft.ms)) worstTtft = { ms: m.ttftP50Ms, model: m.model };
  }
  return { ...summary, cost, worstP95, worstTtft };
}
