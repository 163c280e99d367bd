import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { clickhouseParamTime } from './filters.ts';
import { reconcileRollupCost } from './rollup-cost.ts';
import type { PriceOverride } from './price-overrides.ts';

/**
 * Applies the project's price overrides to spans already stored in [from, to): each override
 * prices the calls of its model from its effective date until the next override of that model.
 * The arithmetic is priceWithOverride's in ingest/pricing.ts, in SQL. Spans with no override in
 * effect keep the cost they were stored with. Returns how many LLM spans were re-priced.
 * An update in place bypasses the materialized views, so the hours it touched have their rollup
 * cost brought back in line with the spans afterwards.
 */
export async function repriceSpans(storage: Storage, projectId: string, overrides: readonly PriceOverride[], from: Date, to: Date): Promise<number> {
  const db = quoteIdentifier(storage.database);
  let repriced = 0;
  let touched: { from: Date; to: Date } | null = null;
  for (const override of overrides) {
    const next = overrides
      .filter((o) => o.model === override.model && o.provider === override.provider && o.effectiveFrom > override.effectiveFrom)
      .sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom))[0];
    const windowStart = maxDate(from, new Date(override.effectiveFrom));
    const windowEnd = next ? minDate(to, new Date(next.effectiveFrom)) : to;
    if (windowStart >= windowEnd) continue;
    const where = `project_id = {project:String}
      AND (request_model = {model:String} OR response_model = {model:String})
      AND ({provider:String} = '' OR provider = {provider:String})
      AND operation != ''
      AND start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}`;
    const params = {
      project: projectId,
      model: override.model,
      provider: override.provider,
      from: clickhouseParamTime(windowStart),
      to: clickhouseParamTime(windowEnd),
      inRate: override.inputPerMTok ?? 0,
      readRate: override.cacheReadPerMTok ?? override.inputPerMTok ?? 0,
      writeRate: override.cacheWritePerMTok ?? override.inputPerMTok ?? 0,
      outRate: override.outputPerMTok ?? 0,
      perHour: override.perHour ?? 0,
    };
    const counted = await storage.client.query({ query: `SELECT count() AS n FROM ${db}.spans WHERE ${where}`, query_params: params, format: 'JSONEachRow' });
    const n = (await counted.json<{ n: number }>())[0]?.n ?? 0;
    if (n === 0) continue;
    const input =
      '(greatest(toInt64(input_tokens) - toInt64(cache_read_tokens) - toInt64(cache_write_tokens), 0) * {inRate:Float64} + cache_read_tokens * {readRate:Float64} + cache_write_tokens * {writeRate:Float64}) / 1e6';
    const output = 'output_tokens * {outRate:Float64} / 1e6';
    const assignments =
      override.perHour !== null
        ? `cost_input = 0, cost_output = 0, cost_total = duration_ms / 3600000 * {perHour:Float64}`
        : `cost_input = ${input}, cost_output = ${output}, cost_total = ${input} + ${output}`;
    await storage.client.command({
      query: `ALTER TABLE ${db}.spans UPDATE ${assignments} WHERE ${where} SETTINGS mutations_sync = 2`,
      query_params: params,
    });
    repriced += n;
    touched = touched ? { from: minDate(touched.from, windowStart), to: maxDate(touched.to, windowEnd) } : { from: windowStart, to: windowEnd };
  }
  if (touched) await reconcileRollupCost(storage, projectId, touched.from, touched.to);
  return repriced;
}

function maxDate(a: Date, b: Date): Date {
  return a > b ? a : b;
}

function minDate(a: Date, b: Date): Date {
  return a < b ? a : b;
}
