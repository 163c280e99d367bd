import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { clickhouseParamTime } from './filters.ts';
import { select } from './queries.ts';

/**
 * trace_totals: one row per trace whose spans have settled, with the totals a trace list is sorted
 * and filtered by. Ranking 30 days by cost from trace_summaries' hourly rows groups them per trace
 * first, ≥ ~300 ms for 2.8M traces on 2 cores whatever the query's shape; one stored row per trace
 * needs no GROUP BY (30 days by cost at 10M spans: 115–132 ms p50 for the whole request, 393–495
 * before). Rows are written by a job (sealTraces), never by a materialized view: an
 * AggregatingMergeTree's unmerged parts would need grouping again.
 *
 * Which rows can be trusted is said by one watermark, the latest `trace_seals.sealed_up_to`: a trace
 * whose trace_summaries rows were all inserted by then has exactly one row here, summing all of them.
 * A trace with a row inserted later (a late span, a re-pricing's correction) is open: its row here may
 * be stale, missing or doubled, so rankings leave it out and sum its hourly rows instead, until the
 * next seal writes it again. Traces with spans outside a range are summed from their hourly rows too.
 */

/** How long after its insert a trace_summaries row counts as settled: far longer than an insert takes. */
export const SETTLE_MS = 60_000;
/** How often the collector seals what settled. */
const SEAL_INTERVAL_MS = 60_000;

export const TRACE_TOTALS_DDL = [
  // When each trace_summaries row was inserted (the latest, once merged). Rows stored before this
  // column existed read as 1970, settled long ago; new rows take the insert's time.
  `ALTER TABLE {db}.trace_summaries ADD COLUMN IF NOT EXISTS inserted SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT toDateTime(0, 'UTC')`,
  "ALTER TABLE {db}.trace_summaries MATERIALIZE COLUMN inserted SETTINGS mutations_sync = 2",
  "ALTER TABLE {db}.trace_summaries MODIFY COLUMN inserted SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT now()",
  // Rows are inserted in time order and merged with their neighbours, so most parts hold only old
  // rows: the open traces are found without reading their `inserted`. Coarse: at 10M spans, one entry
  // per 64-row granule took 11-15 ms to rule out every row, one per 1,024 granules 7-9.
  'ALTER TABLE {db}.trace_summaries ADD INDEX IF NOT EXISTS inserted_minmax inserted TYPE minmax GRANULARITY 1024',
  'ALTER TABLE {db}.trace_summaries MATERIALIZE INDEX inserted_minmax SETTINGS mutations_sync = 2',
  // Ordered by cost, the order lists are most often sorted in: read in that order, the top 51 of 2.8M
  // rows took 36-48 ms (15-20 cheapest first, 54-82 of one model's) instead of 48-82 (60-71, 76-90)
  // ordered by trace. Other orders read every row in the range's months (by duration 24-59 ms), so no
  // order per sort is kept; a seal finds a trace's old row without the key. The totals are named as
  // rankings name them (rankedTotals in trace-summaries.ts), so a ranking's SQL reads them as they
  // are: renaming them in a subquery cost ~30 ms of ~40 at 10M spans.
  `CREATE TABLE IF NOT EXISTS {db}.trace_totals (
    project_id LowCardinality(String),
    traceKey UInt128,
    first_hour DateTime('UTC'),
    last_hour DateTime('UTC'),
    traceStart DateTime64(9, 'UTC'),
    durationMs Float64,
    errorCount UInt64,
    inputTokens UInt64,
    outputTokens UInt64,
    -- -1 when no call was priced, as rankings have it.
    cost Float64,
    -- The values a list is filtered by, as trace_summaries keeps them: exact, and testing a model on
    -- 2.8M rows took 101-121 ms, 133-188 on one array of all of a row's value hashes.
    models Array(LowCardinality(String)),
    providers Array(LowCardinality(String)),
    services Array(LowCardinality(String)),
    environments Array(LowCardinality(String)),
    users Array(String),
    tags Array(String)
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(first_hour)
  ORDER BY (project_id, cost, traceKey)`,
  `CREATE TABLE IF NOT EXISTS {db}.trace_seals (sealed_up_to DateTime('UTC'))
  ENGINE = ReplacingMergeTree(sealed_up_to) ORDER BY tuple()`,
];

/**
 * A trace id (32 lowercase hex digits) as a UInt128 in the same order, which rankings group and break
 * ties by: hashing 2.8M of these costs about two thirds of hashing the FixedString(32) ids (30 days by
 * cost at 10M spans: 310-420 instead of 470-670 ms). `traceIdOf` turns it back into the id.
 */
export const traceKey = (hexId: string) => `reinterpretAsUInt128(reverse(unhex(${hexId})))`;
export const traceIdOf = (key: string) => `leftPad(lower(hex(${key})), 32, '0')`;

/**
 * A trace's row from its trace_summaries rows (grouped by project and trace), in TOTAL_COLUMNS' order.
 * Value sets as arrayDistinct of all: writing every trace at 10M spans took 23 s, 38 with groupUniqArrayArray.
 */
const TOTALS_OF_ROWS = `SELECT project_id, ${traceKey('trace_id')} AS key, min(hour), max(hour), min(first_start),
  (toUnixTimestamp64Nano(max(last_end)) - toUnixTimestamp64Nano(min(first_start))) / 1e6,
  sum(errors), sum(input_tokens), sum(output_tokens),
  if(sum(priced_calls) = 0, -1, sum(cost)),
  ${['models', 'providers', 'services', 'environments', 'users', 'tags'].map((values) => `arrayDistinct(groupArrayArray(${values}))`).join(', ')}
  FROM {db}.trace_summaries`;
const TOTAL_COLUMNS = 'project_id, traceKey, first_hour, last_hour, traceStart, durationMs, errorCount, inputTokens, outputTokens, cost, models, providers, services, environments, users, tags';

/** The latest seal, in seconds since the epoch; null before the first. */
export async function sealedUpTo(storage: Storage): Promise<number | null> {
  const [seal] = await select<{ at: number; seals: number }>(storage, 'SELECT toUnixTimestamp(max(sealed_up_to)) AS at, count() AS seals FROM {db}.trace_seals', {});
  return seal?.seals ? seal.at : null;
}

/** The open traces of a project: some trace_summaries row of theirs came after the seal `{sealedUpTo:UInt32}`. */
const OPEN_TRACES = `SELECT trace_id FROM {db}.trace_summaries WHERE project_id = {project:String} AND inserted > toDateTime({sealedUpTo:UInt32}, 'UTC')`;

/**
 * Whether a settled trace's row lies in the whole hours `{wholeFrom}` to `{wholeTo}`: then its totals
 * are its totals in the range. The bounds as the columns' type: compared as DateTime64, 2.8M rows
 * took 41–66 instead of 33–38 ms.
 */
const WHOLE_FROM = "toDateTime({wholeFrom:DateTime64(3, 'UTC')}, 'UTC')";
const WHOLE_TO = "toDateTime({wholeTo:DateTime64(3, 'UTC')}, 'UTC')";
const WITHIN_WHOLE_HOURS = `first_hour >= ${WHOLE_FROM} AND last_hour < ${WHOLE_TO}`;

/**
 * The traces with rows in the whole hours of a range that trace_totals cannot rank: the open ones,
 * and the settled ones with spans outside those hours. As trace ids, for `trace_id IN (…)`.
 */
export const UNSETTLED_IN_RANGE = `${OPEN_TRACES} UNION ALL
  SELECT toFixedString(${traceIdOf('traceKey')}, 32) FROM {db}.trace_totals
  WHERE project_id = {project:String} AND first_hour < ${WHOLE_TO} AND last_hour >= ${WHOLE_FROM}
    AND NOT (${WITHIN_WHOLE_HOURS})`;

/**
 * The conditions on trace_totals (its FROM source) for the settled traces wholly inside the whole
 * hours of a range that pass `prefilters` (on the row's columns: storedValueTest, errorCount). With
 * UNSETTLED_IN_RANGE summed from their hourly rows, every trace with spans in those hours is ranked once.
 */
export function settledInRange(prefilters: string[]): string[] {
  return [
    'project_id = {project:String}',
    WITHIN_WHOLE_HOURS,
    `traceKey NOT IN (SELECT ${traceKey('trace_id')} FROM (${OPEN_TRACES}))`,
    ...prefilters,
  ];
}

/** Work on trace_totals one at a time per storage: a seal and a retention run must not interleave. */
const running = new WeakMap<Storage, Promise<unknown>>();
function oneAtATime<T>(storage: Storage, work: () => Promise<T>): Promise<T> {
  const next = (running.get(storage) ?? Promise.resolve()).then(work, work);
  running.set(storage, next.catch(() => {}));
  return next;
}

/**
 * Writes the row of every trace that has a trace_summaries row inserted since the last seal and at
 * least `settleMs` ago, then moves the watermark there. Each trace's old row is deleted and its new
 * one sums all its rows (some may be newer: it stays open until the next seal). Stopped half way, it
 * changes nothing the watermark vouches for, and the next run does the same traces again. The first
 * run writes every trace. The watermark is a second before the settled time, since rows inserted
 * later in that second carry it too; it stays where it was when no row came in. Returns it, in seconds.
 */
export function sealTraces(storage: Storage, settleMs = SETTLE_MS): Promise<number> {
  return oneAtATime(storage, async () => {
    const upTo = Math.floor((Date.now() - settleMs) / 1000) - 1;
    const previous = await sealedUpTo(storage);
    if (previous !== null && upTo <= previous) return previous;
    if (previous === null) {
      await command(storage, 'TRUNCATE TABLE {db}.trace_totals', {});
      // In sixteen ranges of trace ids, each read through the key: at 10M spans 22 s and 0.6 GB of
      // memory at most, where one pass took 27 s and 2.8 GB.
      const bounds = ['', ...'123456789abcdef'];
      for (const [i, from] of bounds.entries()) {
        const to = bounds[i + 1];
        const range = to === undefined ? 'trace_id >= {from:String}' : 'trace_id >= {from:String} AND trace_id < {to:String}';
        await command(storage, `INSERT INTO {db}.trace_totals (${TOTAL_COLUMNS}) ${TOTALS_OF_ROWS} WHERE ${range} GROUP BY project_id, trace_id`, to === undefined ? { from } : { from, to });
      }
    } else {
      const touched = `SELECT DISTINCT project_id, trace_id FROM {db}.trace_summaries
        WHERE inserted > toDateTime({previous:UInt32}, 'UTC') AND inserted <= toDateTime({upTo:UInt32}, 'UTC')`;
      const params = { previous, upTo };
      const [changed] = await select<{ n: number }>(storage, `SELECT count() AS n FROM (${touched})`, params);
      // Nothing came in: the old watermark says the same, and an idle collector writes nothing.
      if (!changed?.n) return previous;
      await command(storage, `DELETE FROM {db}.trace_totals WHERE (project_id, traceKey) IN (SELECT project_id, ${traceKey('trace_id')} FROM (${touched}))`, params);
      await command(storage, `INSERT INTO {db}.trace_totals (${TOTAL_COLUMNS}) ${TOTALS_OF_ROWS} WHERE (project_id, trace_id) IN (${touched}) GROUP BY project_id, trace_id`, params);
    }
    await command(storage, 'INSERT INTO {db}.trace_seals (sealed_up_to) VALUES (toDateTime({upTo:UInt32}))', { upTo });
    return upTo;
  });
}

/**
 * After retention deleted a project's trace_summaries rows before `cutoff`: drops the rows of traces
 * that began before it, and writes again those that also have rows after it (their totals shrank).
 * The new rows go in before the old ones go, so a run cut short leaves a trace doubled (rankings list
 * it once), never missing, and the next run finds the same traces and finishes.
 */
export function trimTraceTotals(storage: Storage, projectId: string, cutoff: Date): Promise<void> {
  return oneAtATime(storage, async () => {
    const params = { project: projectId, cutoff: clickhouseParamTime(cutoff) };
    const ids = (
      await select<{ id: string }>(
        storage,
        `SELECT ${traceIdOf('traceKey')} AS id FROM {db}.trace_totals
         WHERE project_id = {project:String} AND first_hour < {cutoff:DateTime64(3, 'UTC')} AND last_hour >= {cutoff:DateTime64(3, 'UTC')}`,
        params,
      )
    ).map((r) => r.id);
    if (ids.length) {
      const rewrite = { ...params, ids };
      const keys = `(SELECT ${traceKey('arrayJoin({ids:Array(String)})')})`;
      await command(storage, `DELETE FROM {db}.trace_totals WHERE project_id = {project:String} AND traceKey IN ${keys} AND first_hour >= {cutoff:DateTime64(3, 'UTC')}`, rewrite);
      await command(
        storage,
        `INSERT INTO {db}.trace_totals (${TOTAL_COLUMNS}) ${TOTALS_OF_ROWS}
         WHERE project_id = {project:String} AND trace_id IN {ids:Array(FixedString(32))}
         GROUP BY project_id, trace_id`,
        rewrite,
      );
    }
    await command(storage, `DELETE FROM {db}.trace_totals WHERE project_id = {project:String} AND first_hour < {cutoff:DateTime64(3, 'UTC')}`, params);
  });
}

/** Seals now and then every SEAL_INTERVAL_MS, without keeping the process alive; stopping waits for a seal under way. */
export function scheduleSealing(storage: Storage): () => Promise<void> {
  const run = () => sealTraces(storage).catch((error: Error) => console.error(`parallax collector: sealing trace totals failed, will retry: ${error.message}`));
  void run();
  const timer = setInterval(run, SEAL_INTERVAL_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running.get(storage);
  };
}

function command(storage: Storage, query: string, params: Record<string, unknown>): Promise<unknown> {
  return storage.client.command({ query: query.replaceAll('{db}', quoteIdentifier(storage.database)), query_params: params });
}
