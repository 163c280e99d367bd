/**
 * What the rollups that sum a trace's or a session's spans keep of a group of them (session_hours,
 * session_traces, trace_summaries): one expression, so every page that shows these totals adds the
 * same things the same way. Aliases match the rollups' column names.
 */
export const SPAN_TOTALS = `
  min(start_time) AS first_start,
  max(end_time) AS last_end,
  countIf(operation != '') AS llm_calls,
  countIf(status_code = 'ERROR') AS errors,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  toInt64(countIf(cost_total IS NOT NULL)) AS priced_calls,
  sum(ifNull(cost_total, 0)) AS cost`;

/** The same names in the same order, as columns. */
export const SPAN_TOTAL_COLUMNS = 'first_start, last_end, llm_calls, errors, input_tokens, output_tokens, priced_calls, cost';

/** The column types of the sums in SPAN_TOTALS (llm_calls to cost), as CREATE TABLE lines. */
export const CALL_TOTAL_TYPES = `llm_calls SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    priced_calls SimpleAggregateFunction(sum, Int64),
    cost SimpleAggregateFunction(sum, Float64)`;
