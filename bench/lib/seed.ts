import type { ClickHouseClient } from '@clickhouse/client';
import { generateTraces, toSpanRow, type GeneratorOptions, type GenSpan } from '../span-generator.ts';

/** A trace met while seeding: what a person would later look it up by. */
export interface TraceSample {
  traceId: string;
  user: string;
  model: string;
  startMs: number;
}

export interface SeedResult {
  rows: number;
  seconds: number;
  /** Trace ids, users and order ids met on the way, for queries that must find something. */
  samples: TraceSample[];
}

/**
 * Inserts generated rows straight into a spans table in big batches, generating the next batch
 * while ClickHouse writes the previous one (its insert runs off the JS thread). The JSONEachRow
 * body goes inline in one statement: through chDB, the client's `insert()` spends more time
 * streaming and concatenating the rows than ClickHouse spends parsing them (measured 6.8 s vs
 * 2.5 s for 20k rows), and seeding speed is not what these benchmarks measure.
 */
export async function seedSpans(
  client: ClickHouseClient,
  table: string,
  projectId: string,
  options: GeneratorOptions,
  { batchRows = 20_000, onProgress }: { batchRows?: number; onProgress?: (rows: number, seconds: number) => void } = {},
): Promise<SeedResult> {
  const started = performance.now();
  const samples: TraceSample[] = [];
  let batch: string[] = [];
  let pending: Promise<unknown> = Promise.resolve();
  let rows = 0;
  let traces = 0;
  const flush = async () => {
    const values = batch;
    batch = [];
    await pending;
    pending = client.command({ query: `INSERT INTO ${table} FORMAT JSONEachRow\n${values.join('\n')}` });
    rows += values.length;
    onProgress?.(rows, (performance.now() - started) / 1000);
  };
  for (const trace of generateTraces(options)) {
    if (traces++ % 97 === 0) sample(samples, trace);
    for (const span of trace) batch.push(JSON.stringify(toSpanRow(span, projectId)));
    if (batch.length >= batchRows) await flush();
  }
  if (batch.length) await flush();
  await pending;
  return { rows, seconds: (performance.now() - started) / 1000, samples };
}

function sample(samples: TraceSample[], trace: GenSpan[]): void {
  const root = trace[0]!;
  const llm = trace.find((s) => s.attributes['gen_ai.request.model']);
  samples.push({
    traceId: root.traceId,
    user: String(root.attributes['user.id']),
    model: String(llm?.attributes['gen_ai.request.model'] ?? ''),
    startMs: Number(root.startNs / 1_000_000n),
  });
}

/**
 * Grows a seeded table `copies` times over with INSERT … SELECT, each copy re-keyed (new trace and
 * span ids, parent links kept) and rotated in time inside the same range, so the data stays spread
 * evenly over the range. Messages, users and sessions repeat: this reaches 10M rows in minutes
 * where generating them in JS takes over half an hour on two cores.
 */
export async function replicateSpans(
  client: ClickHouseClient,
  database: string,
  table: string,
  { copies, rangeStartMs, rangeMs, onProgress }: { copies: number; rangeStartMs: number; rangeMs: number; onProgress?: (copy: number, seconds: number) => void },
): Promise<{ seconds: number }> {
  const started = performance.now();
  const sourceBefore = new Date();
  const columns = (
    await (
      await client.query({
        query: `SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String} AND default_kind = '' ORDER BY position`,
        query_params: { db: database, table },
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>()
  ).map((c) => c.name);
  const startNs = `toInt64(${BigInt(rangeStartMs) * 1_000_000n})`;
  const rangeNs = `toInt64(${BigInt(rangeMs) * 1_000_000n})`;
  for (let copy = 1; copy <= copies; copy++) {
    // Rotate by copy × (3 days + 7 minutes), wrapping inside the range.
    const shiftNs = `toInt64(${BigInt(copy) * (3n * 86_400_000n + 7n * 60_000n) * 1_000_000n})`;
    const newStart = `fromUnixTimestamp64Nano(${startNs} + ((toUnixTimestamp64Nano(start_time) - ${startNs} + ${shiftNs}) % ${rangeNs}), 'UTC')`;
    const expressions: Record<string, string> = {
      trace_id: `lower(hex(MD5(concat(trace_id, '/${copy}'))))`,
      span_id: `substring(lower(hex(MD5(concat(span_id, '/${copy}')))), 1, 16)`,
      parent_span_id: `if(parent_span_id = '', '', substring(lower(hex(MD5(concat(parent_span_id, '/${copy}')))), 1, 16))`,
      start_time: newStart,
      end_time: `fromUnixTimestamp64Nano(toUnixTimestamp64Nano(${newStart}) + (toUnixTimestamp64Nano(end_time) - toUnixTimestamp64Nano(start_time)), 'UTC')`,
    };
    await client.command({
      query: `INSERT INTO ${database}.${table} (${columns.join(', ')})
              SELECT ${columns.map((c) => expressions[c] ?? c).join(', ')}
              FROM ${database}.${table} WHERE ingested_at < {firstCopyAt:DateTime64(3, 'UTC')}`,
      query_params: { firstCopyAt: sourceBefore.toISOString().replace('T', ' ').replace('Z', '') },
    });
    onProgress?.(copy, (performance.now() - started) / 1000);
  }
  return { seconds: (performance.now() - started) / 1000 };
}
