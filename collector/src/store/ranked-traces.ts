import type { Storage } from './clickhouse.ts';
import { nanosOf } from './newest-traces.ts';
import { conditionFor, spanConditions, totalsConditions } from './trace-conditions.ts';
import { rankFromRollup, rankFromSpans, summariseFromRollup, type ListRange, type Ranked, type Ranking } from './trace-summaries.ts';
import { traceKey } from './trace-totals.ts';
import type { TraceQuery, TraceRow, TraceSort } from './traces.ts';

/** Fixed SQL per sort key, on the names traces are ranked by (rankedTotals in trace-summaries.ts); the cursor's value is compared in the same type. */
const SORTS: Record<TraceSort, { expression: string; type: string }> = {
  time: { expression: 'traceStart', type: "DateTime64(9, 'UTC')" },
  duration: { expression: 'durationMs', type: 'Float64' },
  cost: { expression: 'cost', type: 'Float64' },
  tokens: { expression: 'inputTokens + outputTokens', type: 'Float64' },
};

const HOUR_MS = 3_600_000;
/**
 * Up to this long a range is ranked from its spans. trace_summaries is ordered by trace and trace_totals
 * by cost, so any range reads their months' rows whole; spans are ordered by hour, so a short range
 * reads only its own. At 10M spans, ranked by cost from spans and from sealed trace totals: 24 hours
 * ~50 and ~120 ms, 3 days ~100 and ~125, 7 days ~180 and ~120.
 */
const SPANS_UP_TO_MS = 3 * 24 * HOUR_MS;

/**
 * The first `limit + 1` traces in the query's order (any but newest first), ranking every trace in
 * the range on the few columns its order and conditions need, then reading the list rows of those
 * alone. At 10M spans over 30 days: 0.4-0.8 s, where summing every trace's list row took 6-8 s.
 */
export async function listRankedTraces(storage: Storage, query: TraceQuery): Promise<TraceRow[]> {
  const conditions = spanConditions(query);
  const totals = totalsConditions(query);
  const params: Record<string, unknown> = {};
  for (const condition of [...conditions, ...totals]) Object.assign(params, condition.params);
  const sort = SORTS[query.sort];
  const direction = query.order === 'asc' ? 'ASC' : 'DESC';
  const cursor: string[] = [];
  if (query.cursor) {
    cursor.push(`(${sort.expression}, traceKey) ${direction === 'ASC' ? '>' : '<'} ({cursorValue:${sort.type}}, ${traceKey('{cursorTrace:String}')})`);
    params.cursorValue = query.cursor.value;
    params.cursorTrace = query.cursor.traceId;
  }
  const held = conditions.flatMap((c) => (c.rollup ? [{ ...c.rollup, sql: c.sql }] : []));
  const ranking: Omit<Ranking, 'limit'> = {
    sortBy: sort.expression,
    direction,
    prefilters: held.map((c) => ({ rollup: c.prefilter, spans: `countIf(${c.sql}) > 0`, stored: c.stored })),
    conditions: [...totals.map((c) => c.sql), ...cursor],
    spanConditions: conditions.filter((c) => !c.rollup).map((c) => conditionFor(c, query.to.getTime() - query.from.getTime())),
  };
  const exact = held.map((c) => c.exact);
  const firstToStart = !conditions.length && !totals.length && query.sort === 'time' && direction === 'ASC';
  for (let limit = query.limit + 1; ; limit *= 4) {
    const ranked = await (firstToStart ? rankFirstToStart : rank)(storage, query, { ...ranking, limit }, params);
    const rows = new Map((await summariseFromRollup(storage, query, ranked.map((r) => r.traceId), exact, params)).map((row) => [row.traceId, row]));
    // A retention run cut short may leave a trace's stored totals doubled (trimTraceTotals): list it once.
    const seen = new Set<string>();
    const listed = ranked.flatMap(({ traceId, sortValue }): TraceRow[] => {
      const found = rows.get(traceId);
      if (!found || seen.has(traceId)) return [];
      seen.add(traceId);
      const { startNs: _, ...row } = found;
      return [{ ...row, sortValue }];
    });
    // A trace ranked for a value hash it shares with another value fails the exact test: rank more.
    if (listed.length >= query.limit + 1 || ranked.length < limit) return listed.slice(0, query.limit + 1);
  }
}

/** Ranks the traces of a range from its spans when it is short, else from trace_summaries. */
function rank(storage: Storage, range: ListRange, ranking: Ranking, params: Record<string, unknown>): Promise<Ranked[]> {
  return range.to.getTime() - range.from.getTime() <= SPANS_UP_TO_MS ? rankFromSpans(storage, range, ranking, params) : rankFromRollup(storage, range, ranking, params);
}

/**
 * Oldest first with no conditions: a trace with a span in the first part of the range started there,
 * and its start is its earliest span's, so ranking that part alone finds the first traces. The part
 * reaches an hour past the cursor when paging, then sixteen times further until it holds enough; it
 * always begins at `from`, where the traces that began before the cursor are. (A condition may hold
 * for a trace through spans later in the range: those rank the whole range.)
 */
async function rankFirstToStart(storage: Storage, query: TraceQuery, ranking: Ranking, params: Record<string, unknown>): Promise<Ranked[]> {
  const after = query.cursor ? Number(nanosOf(query.cursor.value) / 1_000_000n) : 0;
  const start = Math.max(query.from.getTime(), after);
  for (let width = HOUR_MS; ; width *= 16) {
    const to = new Date(Math.min(query.to.getTime(), start + width));
    const ranked = await rank(storage, { projectId: query.projectId, from: query.from, to }, ranking, params);
    if (ranked.length === ranking.limit || to.getTime() === query.to.getTime()) return ranked;
  }
}
