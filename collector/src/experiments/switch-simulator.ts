// "What would last month have cost on another model?" Production calls on one model are re-priced at
// another model's prices, call by call (cache reads/writes, tiers and dated prices stay right), from the
// token usage actually recorded. A price is a fixed rate per token (and per call, and per hour of a
// self-hosted model) as long as neither the time nor the prompt size moves it to another rate, so calls
// on the same rates cost what one call of their mean usage costs, times their count. SQL sums the calls
// per set of rates (store/usage-quarters.ts) and each sum is priced once: exact, and one row per quarter
// hour instead of one per call. Rates change at the project's overrides' start times (any millisecond:
// the sums split at each), in the price data on dates and at times of day on the half hour (DeepSeek's
// off-peak rates), which quarter hours never straddle, and above the data's tier starts (input tokens).
import type { SwitchSimulatorResponse } from '../api/contract.ts';
import { priceCall, priceTierStarts } from '../ingest/pricing.ts';
import type { Storage } from '../store/clickhouse.ts';
import type { PriceOverride } from '../store/price-overrides.ts';
import { usageGroups } from '../store/usage-quarters.ts';
import { EXPERIMENT_SERVICE_NAME } from './span-exporter.ts';

export interface SwitchQuery {
  projectId: string;
  from: Date;
  to: Date;
  fromModel: string;
  toModel: string;
  /** Price data provider of toModel (GenAI convention name); unset matches by model name alone. */
  toProvider: string | undefined;
}

export type SwitchCost = Omit<SwitchSimulatorResponse, 'quality'>;

export async function simulateSwitch(storage: Storage, overrides: readonly PriceOverride[], query: SwitchQuery): Promise<SwitchCost> {
  const groups = await usageGroups(storage, {
    projectId: query.projectId,
    from: query.from,
    to: query.to,
    model: query.fromModel,
    // Not the experiment runner's calls. Its spans also carry the experiment's attribute, but reading
    // the attributes map costs ~200 ms over 30 days at 10M spans; the service column next to nothing.
    exceptService: EXPERIMENT_SERVICE_NAME,
    tierStarts: priceTierStarts(query.toProvider ?? '', query.toModel),
    priceChanges: overrides.filter((o) => o.model === query.toModel).map((o) => new Date(o.effectiveFrom)),
  });

  const totals = { calls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, unpricedCalls: 0 };
  let actual: number | null = null;
  let projected: number | null = 0;
  // The difference only over calls known both ways, so an unpriced call cannot look like a saving.
  let comparableActual = 0;
  let comparableProjected = 0;
  let comparableCalls = 0;
  for (const group of groups) {
    totals.calls += group.calls;
    totals.inputTokens += group.input_tokens;
    totals.outputTokens += group.output_tokens;
    totals.cacheReadTokens += group.cache_read_tokens;
    totals.cacheWriteTokens += group.cache_write_tokens;
    totals.unpricedCalls += group.calls - group.priced_calls;
    if (group.actual_cost !== null) actual = (actual ?? 0) + group.actual_cost;

    // The mean call, on the same rates as every call of the group (a mean lies on the same side of each
    // tier start as all it averages), priced once: its price times the count is the group's.
    const one = priceCall(
      {
        provider: query.toProvider ?? '',
        models: [query.toModel],
        usage: {
          inputTokens: group.input_tokens / group.calls,
          outputTokens: group.output_tokens / group.calls,
          cacheReadTokens: group.cache_read_tokens / group.calls,
          cacheWriteTokens: group.cache_write_tokens / group.calls,
        },
        at: new Date(Number(group.first_call_ms)),
        durationMs: group.duration_ms / group.calls,
      },
      overrides,
    );
    if (one === null) {
      projected = null;
      continue;
    }
    if (projected !== null) projected += one.total * group.calls;
    if (group.priced_calls === group.calls && group.actual_cost !== null) {
      comparableActual += group.actual_cost;
      comparableProjected += one.total * group.calls;
      comparableCalls += group.calls;
    }
  }
  if (totals.calls === 0) projected = null;

  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    fromModel: query.fromModel,
    toModel: query.toModel,
    toProvider: query.toProvider ?? null,
    ...totals,
    actualCostUsd: actual,
    projectedCostUsd: projected,
    differenceUsd: projected === null || comparableCalls === 0 ? null : comparableProjected - comparableActual,
  };
}
