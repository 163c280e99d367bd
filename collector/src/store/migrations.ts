import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { backfillDimensionHours, DIMENSION_HOURS_DDL } from './dimension-hours.ts';
import { backfillLlmDaysSample, backfillLlmHours, backfillLlmHoursSample, LLM_DAYS_SAMPLE_DDL, LLM_HOURS_DDL, LLM_HOURS_SAMPLE_DDL } from './llm-hours.ts';
import { backfillSessionHours, SESSION_HOURS_DDL } from './session-hours.ts';
import { backfillSessionTraces, SESSION_TRACES_DDL } from './session-traces.ts';
import { backfillTraceSummaries, TRACE_SUMMARIES_DDL, TRACE_SUMMARY_HASHES_DDL } from './trace-summaries.ts';
import { TRACE_TOTALS_DDL } from './trace-totals.ts';
import { USAGE_QUARTERS_DDL } from './usage-quarters.ts';

/**
 * Versioned schema changes, applied in order at start. Each is idempotent DDL so a crash
 * between a migration and its bookkeeping row is harmless on the next start. `{db}` stands for
 * the configured database. A migration that derives a table from stored data fills it in
 * `backfill`, after its statements, and must be just as safe to run twice. Never edit a shipped
 * migration: add the next one.
 */
/** Fills trace_hours from every insert into spans (migration 6; made again by 12). */
const TRACE_HOURS_MV = `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.trace_hours_mv TO {db}.trace_hours AS
        SELECT project_id, trace_id, toStartOfHour(start_time) AS hour FROM {db}.spans`;

export const migrations: ReadonlyArray<{ version: number; name: string; statements: string[]; backfill?: (storage: Storage) => Promise<void> }> = [
  {
    version: 1,
    name: 'projects, api keys and spans',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.projects (
        id String,
        name String,
        retention_days UInt16 DEFAULT 0,
        created_at DateTime64(3, 'UTC'),
        deleted UInt8 DEFAULT 0,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
      `CREATE TABLE IF NOT EXISTS {db}.api_keys (
        key_hash String,
        id String,
        project_id String,
        name String,
        scope LowCardinality(String),
        prefix String,
        created_at DateTime64(3, 'UTC'),
        revoked UInt8 DEFAULT 0,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY key_hash`,
      // Spans are append-only; ingest/batcher.ts keeps a retried export from being stored twice.
      `CREATE TABLE IF NOT EXISTS {db}.spans (
        project_id LowCardinality(String),
        trace_id FixedString(32),
        span_id FixedString(16),
        parent_span_id String,
        name String,
        kind LowCardinality(String),
        start_time DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
        end_time DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
        duration_ms Float64,
        status_code LowCardinality(String),
        status_message String,
        service_name LowCardinality(String),
        scope_name LowCardinality(String),
        resource_attributes Map(LowCardinality(String), String) CODEC(ZSTD(3)),
        attributes Map(LowCardinality(String), String) CODEC(ZSTD(3)),
        events String CODEC(ZSTD(3)),
        operation LowCardinality(String),
        provider LowCardinality(String),
        model LowCardinality(String),
        request_model LowCardinality(String),
        response_model LowCardinality(String),
        input_tokens UInt64,
        output_tokens UInt64,
        cache_read_tokens UInt64,
        cache_write_tokens UInt64,
        reasoning_tokens UInt64,
        cost_total Nullable(Float64),
        cost_input Nullable(Float64),
        cost_output Nullable(Float64),
        finish_reasons Array(LowCardinality(String)),
        ttft_ms Nullable(Float64),
        input_messages String CODEC(ZSTD(3)),
        output_messages String CODEC(ZSTD(3)),
        system_instructions String CODEC(ZSTD(3)),
        tool_definitions String CODEC(ZSTD(3)),
        session_id String,
        user_id String,
        environment LowCardinality(String),
        tags Array(String),
        ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
        INDEX idx_trace trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
        INDEX idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 4,
        INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 4
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(start_time)
      ORDER BY (project_id, toStartOfHour(start_time), model, trace_id)
      SETTINGS index_granularity = 8192`,
    ],
  },
  {
    version: 2,
    name: 'per-project price overrides',
    statements: [
      // Negotiated, fine-tuned or self-hosted prices. Per-token prices are USD per million tokens;
      // per_hour prices a call by its duration (a dedicated GPU's hourly cost).
      `CREATE TABLE IF NOT EXISTS {db}.price_overrides (
        project_id String,
        id String,
        model String,
        provider String,
        input_per_mtok Nullable(Float64),
        output_per_mtok Nullable(Float64),
        cache_read_per_mtok Nullable(Float64),
        cache_write_per_mtok Nullable(Float64),
        per_hour Nullable(Float64),
        effective_from DateTime64(3, 'UTC'),
        created_at DateTime64(3, 'UTC'),
        deleted UInt8 DEFAULT 0,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (project_id, id)`,
    ],
  },
  {
    version: 3,
    name: 'datasets and versioned dataset items',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.datasets (
        project_id String,
        id String,
        name String,
        description String,
        version UInt32,
        created_at DateTime64(3, 'UTC'),
        updated_at DateTime64(3, 'UTC'),
        deleted UInt8 DEFAULT 0,
        row_version UInt64
      ) ENGINE = ReplacingMergeTree(row_version) ORDER BY (project_id, id)`,
      // Every change to an item appends a revision tagged with the dataset version it made, so any
      // older version can be read back exactly (an experiment records the version it ran on).
      `CREATE TABLE IF NOT EXISTS {db}.dataset_items (
        project_id String,
        dataset_id String,
        id String,
        dataset_version UInt32,
        input String CODEC(ZSTD(3)),
        expected_output Nullable(String) CODEC(ZSTD(3)),
        assertions String,
        metadata String,
        source_trace_id String,
        source_span_id String,
        created_at DateTime64(3, 'UTC'),
        updated_at DateTime64(3, 'UTC'),
        deleted UInt8 DEFAULT 0,
        INDEX idx_source source_trace_id TYPE bloom_filter(0.01) GRANULARITY 1
      ) ENGINE = MergeTree ORDER BY (project_id, dataset_id, id, dataset_version)`,
    ],
  },
  {
    version: 4,
    name: 'ingest request tokens for idempotent batched ingest',
    statements: [
      // One row per committed export request (a hash of project + body). Several requests share
      // one INSERT, so ClickHouse's own block deduplication cannot tell a retried request apart.
      `CREATE TABLE IF NOT EXISTS {db}.ingest_requests (
        token FixedString(32),
        project_id LowCardinality(String),
        spans UInt32,
        committed_at DateTime DEFAULT now()
      ) ENGINE = MergeTree ORDER BY token TTL committed_at + INTERVAL 2 DAY`,
    ],
  },
  {
    version: 5,
    name: 'experiments, their results and versioned score sets',
    statements: [
      // One versioned row per change of an experiment (status, progress); read with FINAL.
      `CREATE TABLE IF NOT EXISTS {db}.experiments (
        project_id String,
        id String,
        name String,
        dataset_id String,
        dataset_version UInt32,
        configs String,
        scorers String,
        repetitions UInt16,
        concurrency UInt16,
        status LowCardinality(String),
        status_reason String,
        total UInt32,
        done UInt32,
        errors UInt32,
        cost_usd Float64,
        baseline_experiment_id String,
        score_version UInt32,
        created_at DateTime64(3, 'UTC'),
        started_at Nullable(DateTime64(3, 'UTC')),
        finished_at Nullable(DateTime64(3, 'UTC')),
        deleted UInt8 DEFAULT 0,
        row_version UInt64
      ) ENGINE = ReplacingMergeTree(row_version) ORDER BY (project_id, id)`,
      // One row per item x configuration x repetition; a row written twice (a retried insert) stays one.
      `CREATE TABLE IF NOT EXISTS {db}.experiment_results (
        project_id String,
        experiment_id String,
        item_id String,
        config_id String,
        repetition UInt16,
        output String CODEC(ZSTD(3)),
        output_messages String CODEC(ZSTD(3)),
        error Nullable(String),
        latency_ms Float64,
        ttft_ms Nullable(Float64),
        input_tokens UInt64,
        output_tokens UInt64,
        cost_usd Nullable(Float64),
        trace_id String,
        created_at DateTime64(3, 'UTC'),
        row_version UInt64
      ) ENGINE = ReplacingMergeTree(row_version) ORDER BY (project_id, experiment_id, item_id, config_id, repetition)`,
      // Append-only: a rescore writes a new score_version, so earlier score sets stay readable.
      `CREATE TABLE IF NOT EXISTS {db}.experiment_scores (
        project_id String,
        experiment_id String,
        score_version UInt32,
        item_id String,
        config_id String,
        repetition UInt16,
        position UInt16,
        scorer String,
        value Float64,
        pass UInt8,
        reason String CODEC(ZSTD(3)),
        cost_usd Nullable(Float64),
        created_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree ORDER BY (project_id, experiment_id, score_version, item_id, config_id, repetition, position)`,
    ],
  },
  {
    version: 6,
    name: 'trace hours: find one trace without probing every granule',
    statements: [
      // The spans table is ordered by time, not by trace; the bloom filter on trace_id still had to be
      // checked in every granule. The hours a trace's spans started in, kept beside it, let a trace
      // lookup read just those hours through the primary key.
      `CREATE TABLE IF NOT EXISTS {db}.trace_hours (
        project_id LowCardinality(String),
        trace_id FixedString(32),
        hour DateTime('UTC')
      ) ENGINE = ReplacingMergeTree ORDER BY (project_id, trace_id, hour)`,
      TRACE_HOURS_MV,
      `INSERT INTO {db}.trace_hours SELECT DISTINCT project_id, trace_id, toStartOfHour(start_time) FROM {db}.spans`,
    ],
  },
  {
    version: 7,
    name: 'llm hours: per-model hourly rollup for metrics over long ranges',
    statements: LLM_HOURS_DDL,
    backfill: backfillLlmHours,
  },
  {
    version: 8,
    name: 'llm hours sample: quantile states of one call in 16, for busy long ranges',
    statements: LLM_HOURS_SAMPLE_DDL,
    backfill: backfillLlmHoursSample,
  },
  {
    version: 9,
    name: 'llm days sample: the hourly sample merged per day',
    statements: LLM_DAYS_SAMPLE_DDL,
    backfill: backfillLlmDaysSample,
  },
  {
    version: 10,
    name: 'session hours: per-session hourly rollup for the sessions list',
    statements: SESSION_HOURS_DDL,
    backfill: backfillSessionHours,
  },
  {
    version: 11,
    name: 'dimension hours: spans per filter value and hour, for the filter menus',
    statements: DIMENSION_HOURS_DDL,
    backfill: backfillDimensionHours,
  },
  {
    version: 12,
    name: 'trace hours in granules of 256 rows',
    // Each trace looked up reads a whole granule of trace_hours: a page of a hundred traces read
    // 100 x 8192 rows (~45 ms at 10M spans), in granules of 256 ~20 ms. The table is rebuilt beside
    // the old one and swapped in; every step is safe to run again after a crash, and nothing
    // ingests while migrations run. The view is made again so it writes into the new table.
    statements: [
      'DROP VIEW IF EXISTS {db}.trace_hours_mv',
      'DROP TABLE IF EXISTS {db}.trace_hours_next',
      `CREATE TABLE {db}.trace_hours_next (
        project_id LowCardinality(String),
        trace_id FixedString(32),
        hour DateTime('UTC')
      ) ENGINE = ReplacingMergeTree ORDER BY (project_id, trace_id, hour) SETTINGS index_granularity = 256`,
      'INSERT INTO {db}.trace_hours_next SELECT project_id, trace_id, hour FROM {db}.trace_hours',
      'EXCHANGE TABLES {db}.trace_hours AND {db}.trace_hours_next',
      'DROP TABLE {db}.trace_hours_next',
      TRACE_HOURS_MV,
    ],
  },
  {
    version: 13,
    name: 'spans ordered by trace within each hour, in granules of at most 4 MiB',
    // Reading one trace decompressed its large columns (messages, attributes) from the start of each
    // granule it touched up to its rows: with the spans of an hour ordered by model, a trace's spans
    // sat in two or three granules of up to 10 MiB. Ordered by trace they sit together, and smaller
    // granules halve what is decompressed to reach them: one trace at 10M spans 28-39 -> 18-19 ms
    // p50 (one day copied both ways), at the same bytes per span (spans of a trace share text, so
    // they also compress better together). The table is rebuilt beside the old one and swapped in;
    // the materialized views follow the name `spans`, so they feed the new table. Every step is
    // safe to run again after a crash, and nothing ingests while migrations run.
    statements: [
      'DROP TABLE IF EXISTS {db}.spans_next',
      `CREATE TABLE {db}.spans_next AS {db}.spans ENGINE = MergeTree
      PARTITION BY toYYYYMM(start_time)
      ORDER BY (project_id, toStartOfHour(start_time), trace_id)
      SETTINGS index_granularity = 8192, index_granularity_bytes = 4194304`,
      'INSERT INTO {db}.spans_next SELECT * FROM {db}.spans',
      'EXCHANGE TABLES {db}.spans AND {db}.spans_next',
      'DROP TABLE {db}.spans_next',
    ],
  },
  {
    version: 14,
    name: 'session traces: per-session trace rollup for the session page',
    statements: SESSION_TRACES_DDL,
    backfill: backfillSessionTraces,
  },
  {
    version: 15,
    name: 'trace summaries: per-trace hourly rollup for filtered trace lists, in place of trace hours',
    // It holds trace_hours' rows (a trace's hours, keyed by trace) and more, so that table goes.
    statements: [...TRACE_SUMMARIES_DDL, 'DROP VIEW IF EXISTS {db}.trace_hours_mv', 'DROP TABLE IF EXISTS {db}.trace_hours'],
    backfill: backfillTraceSummaries,
  },
  {
    version: 16,
    name: "spans by user: a projection that finds a user's spans without scanning everyone's",
    // Trace lists filtered by user walk back through that user's spans: the bloom filter on user_id
    // skips little (most blocks hold some span of any active user), so a month-long walk read ~0.1-0.3 s
    // of user_id per step at 10M spans; sorted by user, 6-12 ms, for 17.5 B/span. Deletes (retention)
    // rebuild the projection of the parts they touch, as they must on a table with one.
    statements: [
      "ALTER TABLE {db}.spans MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild'",
      'ALTER TABLE {db}.spans ADD PROJECTION IF NOT EXISTS spans_by_user (SELECT project_id, user_id, start_time, trace_id ORDER BY project_id, user_id, start_time)',
      'ALTER TABLE {db}.spans MATERIALIZE PROJECTION spans_by_user SETTINGS mutations_sync = 2',
    ],
  },
  {
    version: 17,
    name: 'trace summaries: hashes of their values, for testing many traces at once',
    // A list filtered by model and user tested each candidate trace on its rows' value sets, arrays
    // of strings. One array of their hashes reads a third faster (trace-summaries.ts); computed from
    // the row's own columns, so existing rows get it by writing just that column (1.6 s at 1M spans).
    statements: TRACE_SUMMARY_HASHES_DDL,
  },
  // 18 is not used: the text indexes for message search are put on or taken off at every start, as
  // PARALLAX_TEXT_INDEXES says (syncTextIndexes in text-search.ts), not once.
  {
    version: 19,
    name: 'usage per quarter hour: a projection of spans for the switch simulator',
    // Re-pricing 30 days of the busiest model at 10M spans read ~400 ms of spans; its sums per quarter
    // hour (usage-quarters.ts) are read in ~25 ms.
    statements: USAGE_QUARTERS_DDL,
  },
  {
    version: 20,
    name: 'trace totals: one row per settled trace, for trace lists sorted over weeks',
    // Filled by the collector's sealing job (trace-totals.ts), which writes every trace on its first run.
    statements: TRACE_TOTALS_DDL,
  },
];

export async function migrate(storage: Storage): Promise<{ applied: number[] }> {
  const db = quoteIdentifier(storage.database);
  const { client } = storage;
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (
      version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const done = await client.query({ query: `SELECT version FROM ${db}.schema_migrations FINAL`, format: 'JSONEachRow' });
  const appliedBefore = new Set((await done.json<{ version: number }>()).map((r) => r.version));
  const applied: number[] = [];
  for (const migration of migrations) {
    if (appliedBefore.has(migration.version)) continue;
    // Some rewrite every stored span (minutes for millions): say why an upgraded collector is slow to start.
    if (appliedBefore.size > 0) console.log(`parallax collector: upgrading storage, migration ${migration.version}: ${migration.name}`);
    for (const statement of migration.statements) {
      await client.command({ query: statement.replaceAll('{db}', db) });
    }
    await migration.backfill?.(storage);
    await client.insert({
      table: `${db}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name }],
      format: 'JSONEachRow',
    });
    applied.push(migration.version);
  }
  return { applied };
}
