import type { Storage } from './clickhouse.ts';
import { clickhouseParamTime } from './filters.ts';
import { select } from './queries.ts';
import { conditionFor, spanConditions, totalsConditions, TRACE_SUMMARY, type SpanCondition } from './trace-conditions.ts';
import { prefilterFromRollup, summariseFromRollup, type Screened, type SummaryRow } from './trace-summaries.ts';
import type { TraceQuery, TraceRow } from './traces.ts';

const NS_PER_MS = 1_000_000n;
const HOUR_NS = 3_600_000n * NS_PER_MS;
/** The most traces one step reads: enough for a sparse match, few enough to stay one quick read. */
const MAX_BATCH = 2_000;

interface Driver {
  traceId: string;
  /** Start of the trace's latest span that meets the driving condition, ns since the epoch. */
  latestNs: string;
}

/**
 * The first `limit + 1` traces newest first, found by walking back from the end of the range
 * instead of aggregating every trace in it. Each step takes the traces whose latest "driving" span
 * (any span, or one meeting the query's most selective span condition) is newest in a window,
 * screens just those traces over the whole range (summing them, or testing them on trace_summaries
 * and reading the rows of the newest later: settleNewest), and stops once `limit + 1` of them are
 * certainly newer than any trace not yet seen. A trace not seen yet has all its driving spans before the part of
 * the range walked so far, so its first span is earlier too: the answer is the one aggregating
 * every trace gives. Windows grow with how far short they came, so a rare match costs a few steps,
 * never much more than one pass over the range.
 */
export async function listNewestTraces(storage: Storage, query: TraceQuery): Promise<TraceRow[]> {
  const [driving, ...others] = spanConditions(query);
  const params: Record<string, unknown> = {
    project: query.projectId,
    from: clickhouseParamTime(query.from),
    to: clickhouseParamTime(query.to),
  };
  for (const condition of [driving, ...others]) if (condition) Object.assign(params, condition.params);
  const totals = totalsConditions(query);
  for (const condition of totals) Object.assign(params, condition.params);
  if (query.cursor) {
    params.cursorValue = query.cursor.value;
    params.cursorTrace = query.cursor.traceId;
  }
  const cursor = (start: string, id: string) => (query.cursor ? [`(${start}, ${id}) < ({cursorValue:DateTime64(9, 'UTC')}, {cursorTrace:String})`] : []);
  // With other conditions that trace_summaries can test (models, users, tags, errors), most candidates
  // may fail them: they are screened there on value hashes first, and the list rows read only for the
  // newest of those that pass, once the walk knows them. Text and metadata are in the spans only; and
  // without other conditions every candidate is listed, so one read of their spans, which yields the
  // rows at once, is quicker (a 24h list at 1M spans: 47 vs 67 ms p50 through the rollup's reads).
  const rollupForms = others.flatMap((c) => (c.rollup ? [c.rollup] : []));
  const viaRollup = others.length > 0 && rollupForms.length === others.length;
  const exact = [...rollupForms.map((r) => r.exact), ...totals.map((c) => c.sql), ...cursor('traceStart', 'traceId')];
  const screen = viaRollup
    ? (traceIds: string[]): Promise<Candidate[]> => prefilterFromRollup(storage, query, traceIds, rollupForms.map((r) => r.prefilter), params)
    : async (traceIds: string[]): Promise<Candidate[]> =>
        (await summarise(storage, params, traceIds, [...others.map((c) => `countIf(${c.sql}) > 0`), ...totals.map((c) => c.sql), ...cursor('min(start_time)', 'trace_id')])).map((row) => ({ ...row, row }));
  const readRows = (traceIds: string[]) => summariseFromRollup(storage, query, traceIds, exact, params);

  const fromNs = BigInt(query.from.getTime()) * NS_PER_MS;
  const toNs = BigInt(query.to.getTime()) * NS_PER_MS;
  // Without span conditions every span drives, and a trace on a later page has its first span at or
  // before the cursor: the walk can start there. With conditions, its matching span may be later.
  const afterCursor = query.cursor && !driving ? nanosOf(query.cursor.value) + 1n : toNs;
  let end = afterCursor < toNs ? afterCursor : toNs;
  // A condition read from a projection sorted by it costs little per hour of window: start with a day.
  let width = driving?.sortedRead ? 24n * HOUR_NS : HOUR_NS;
  let batch = (query.limit + 1) * 2;
  const seen = new Set<string>();
  const passed = new Map<string, Passed>();
  for (;;) {
    const start = end - width > fromNs ? end - width : fromNs;
    const drivers = await newestDrivers(storage, params, driving, start, end, batch);
    const fresh = drivers.map((d) => d.traceId).filter((id) => !seen.has(id));
    for (const id of fresh) seen.add(id);
    const gained = fresh.length ? await screen(fresh) : [];
    for (const c of gained) passed.set(c.traceId, { startNs: BigInt(c.startNs), row: c.row });
    const full = drivers.length === batch;
    // Every trace with a driving span at or after `walked` (after it, when the window was cut by the
    // batch size) has been seen; traces not seen started earlier.
    const walked = full ? BigInt(drivers[drivers.length - 1]!.latestNs) : start;
    const ended = !full && start <= fromNs;
    const isCertain = (startNs: bigint) => ended || (full ? startNs > walked : startNs >= walked);
    const certain = await settleNewest(passed, isCertain, query.limit + 1, ended, fromNs, readRows);
    if (certain >= query.limit + 1 || ended) break;
    // Plan the next step to finish the walk: as many traces as the rest likely needs at the share of
    // this step's that met the other conditions (a user's calls on a model they seldom use: a few
    // percent), with a margin for a share measured on few traces. A step costs ~20-30 ms at 10M spans
    // besides ~0.08 ms a trace screened, so a narrow margin and now and then one more step beat
    // screening many more (1 + 1/sqrt vs 1 + 2/sqrt: 2.69 vs 3.08 s over 20 picks, 3 runs each,
    // alternated); a rare combination once took a dozen steps. (The cap is on the guess only: ties
    // must be able to outgrow it, or the walk would read the same batch forever.)
    const missing = query.limit + 1 - certain;
    const margin = 1 + 1 / Math.sqrt(Math.max(gained.length, 1));
    batch = Math.max(batch, Math.min(MAX_BATCH, Math.ceil((missing * fresh.length * margin) / Math.max(gained.length, 1))));
    if (full) {
      // Ties at `walked` may have been cut off: read it again, and take more at once if stuck.
      if (walked + 1n === end) batch *= 4;
      // A window wide enough to hold that many at the rate this one held them: a narrower one ends
      // short of the batch, and the walk takes another step to widen it.
      width = maxOf(width, BigInt(Math.ceil((Number(end - walked) / drivers.length) * batch * 1.5)));
      end = walked + 1n;
    } else {
      // Widen by how far short this window came, so a sparse match costs a few steps: one that found
      // some of the traces still missing grows to where the rest likely are, one that found none 64-fold.
      end = start;
      width *= BigInt(gained.length ? Math.min(64, Math.max(2, Math.ceil((missing / gained.length) * margin))) : 64);
    }
  }
  return [...passed]
    .filter(([, p]) => p.row)
    .sort(newestFirst)
    .slice(0, query.limit + 1)
    .map(([, p]) => {
      const { startNs: _, ...row } = p.row!;
      return row;
    });
}

/** A candidate that passed the screen: with its list row when the screen read it (from spans). */
type Candidate = Screened & { row?: SummaryRow };

/** A screened trace: its start (no later than its first span in the range until its row is read), and its row, or null when it does not meet the query. */
interface Passed {
  startNs: bigint;
  row?: SummaryRow | null;
}

/**
 * Makes the newest `need` certain traces ones known to meet the query: reads the rows of those not
 * read yet (the exact conditions may drop a few that passed the screen, and a trace's start may move
 * later), newest first, until the first `need` are read or fewer are left. Returns how many certain
 * traces may still be listed. A trace not read yet starts where the screen said unless that is before
 * `from` (its first hour's rows hold earlier spans): those are read with the first batch, so every
 * trace left unread ranks below the ones read.
 */
async function settleNewest(
  passed: Map<string, Passed>,
  isCertain: (startNs: bigint) => boolean,
  need: number,
  ended: boolean,
  fromNs: bigint,
  readRows: (traceIds: string[]) => Promise<SummaryRow[]>,
): Promise<number> {
  for (;;) {
    const listed = [...passed].filter(([, p]) => p.row !== null && isCertain(p.startNs));
    if (listed.length < need && !ended) return listed.length;
    listed.sort(newestFirst);
    const unread = listed.slice(0, need).filter(([, p]) => p.row === undefined);
    if (!unread.length) return listed.length;
    const early = [...passed].filter(([, p]) => p.row === undefined && p.startNs < fromNs);
    const ids = [...new Set([...unread, ...early].map(([id]) => id))];
    const rows = new Map((await readRows(ids)).map((row) => [row.traceId, row]));
    for (const id of ids) {
      const p = passed.get(id)!;
      const row = rows.get(id);
      p.row = row ?? null;
      if (row) p.startNs = BigInt(row.startNs);
    }
  }
}

/**
 * The traces whose latest driving span in [start, end) is newest, at most `batch` of them. A user
 * condition is read from the spans_by_user projection (migration 16): it reads only project, user,
 * start and trace id, which the projection holds sorted by user.
 */
async function newestDrivers(storage: Storage, params: Record<string, unknown>, driving: SpanCondition | undefined, start: bigint, end: bigint, batch: number): Promise<Driver[]> {
  return select<Driver>(
    storage,
    `SELECT trace_id AS traceId, toString(toUnixTimestamp64Nano(max(start_time))) AS latestNs
     FROM {db}.spans
     WHERE project_id = {project:String}
       AND start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}
       AND start_time >= {windowStart:DateTime64(9, 'UTC')} AND start_time < {windowEnd:DateTime64(9, 'UTC')}
       ${driving ? `AND (${conditionFor(driving, Number((end - start) / NS_PER_MS))})` : ''}
     GROUP BY trace_id
     ORDER BY max(start_time) DESC, trace_id DESC
     LIMIT {batch:UInt32}`,
    { ...params, windowStart: nanosParam(start), windowEnd: nanosParam(end), batch },
  );
}

/** The list rows of these traces, over all their spans in the range, that meet the query. */
async function summarise(storage: Storage, params: Record<string, unknown>, traceIds: string[], having: string[]): Promise<SummaryRow[]> {
  // trace_summaries names the hours each trace has spans in: only those are read, through the primary key.
  return select<SummaryRow>(
    storage,
    `SELECT ${TRACE_SUMMARY}, toString(min(start_time)) AS sortValue, toString(toUnixTimestamp64Nano(min(start_time))) AS startNs
     FROM {db}.spans
     WHERE project_id = {project:String}
       AND start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}
       AND trace_id IN {traceIds:Array(FixedString(32))}
       AND toStartOfHour(start_time) IN (
         SELECT hour FROM {db}.trace_summaries WHERE project_id = {project:String} AND trace_id IN {traceIds:Array(FixedString(32))}
       )
     GROUP BY trace_id
     ${having.length ? `HAVING ${having.join(' AND ')}` : ''}`,
    { ...params, traceIds },
  );
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Newest start first; equal starts by trace id, highest first, as the list aggregating every trace orders them. */
function newestFirst([idA, a]: [string, Passed], [idB, b]: [string, Passed]): number {
  if (a.startNs !== b.startNs) return a.startNs < b.startNs ? 1 : -1;
  return idA < idB ? 1 : idA > idB ? -1 : 0;
}

/** `2026-11-24 06:00:00.123456789` (UTC) → ns since the epoch. */
export function nanosOf(clickhouseTime: string): bigint {
  const seconds = BigInt(Date.parse(`${clickhouseTime.slice(0, 19).replace(' ', 'T')}Z`) / 1000);
  return seconds * 1_000_000_000n + BigInt(clickhouseTime.slice(20, 29).padEnd(9, '0') || '0');
}

/** ns since the epoch → a DateTime64(9) query parameter. */
function nanosParam(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = ns % 1_000_000_000n;
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${fraction.toString().padStart(9, '0')}`;
}
