// Collector ingest vs a direct ClickHouse insert of the same rows, in one run.
//
// Collector side: several OTLP/HTTP exporters (a child process, so they do not share the
// collector's event loop) POST protobuf export requests of 512 spans — the BatchSpanProcessor's
// default batch — to a collector running in this process on embedded ClickHouse (chDB).
// Direct side: the same spans as rows, the same 512-row batches, the same number of inserts in
// flight, the same insert settings (JSONEachRow, a deduplication token, async_insert=0) through the
// same @clickhouse/client + chDB engine, into a copy of the collector's spans table in another
// database, with whatever the migrations attach to it (materialized views and their tables), so
// both sides do the same write-side work. chDB allows one engine per process, so both sides share
// it; they run one after the other, in both orders, each after background merges have settled.
// Then each step the collector runs on a request is timed alone (CPU per span), to show where the
// collector's time goes beyond the insert.
//
//   node collector-ingest.ts                   4 rounds of 100k spans per side, 6 exporters
//   BENCH_QUICK=1 node collector-ingest.ts     2 rounds of 20k spans, a smoke run
//   BENCH_INGEST_SPANS=… BENCH_ROUNDS=… BENCH_CLIENTS=… BENCH_MESSAGE_SCALE=…
//   BENCH_SPANS_ONLY=1 node collector-ingest.ts  both sides insert into the spans table alone (the
//                                                collector's materialized views dropped): what the
//                                                collector costs, apart from the schema's write work
import type { ClickHouseClient } from '@clickhouse/client';
import { configFromEnv, startCollector } from '@parallax/collector';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { partStats, rows, waitForMerges } from './lib/clickhouse.ts';
import { formatBytes, formatCount, formatMs, percentile } from './lib/stats.ts';
import { printTable } from './lib/table.ts';
import { generateSpans, toExportRequest, toSpanRow, type GenSpan, type SpanTableRow } from './span-generator.ts';
import { extractGenAI } from '../collector/src/ingest/genai.ts';
import { toSpanRows } from '../collector/src/ingest/normalize.ts';
import { priceCall } from '../collector/src/ingest/pricing.ts';
import { decodeProtobuf } from '../collector/src/otlp/decode-protobuf.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const quick = process.env.BENCH_QUICK === '1';
const spansPerRound = Number(process.env.BENCH_INGEST_SPANS ?? (quick ? 20_000 : 100_000));
// Other work on the machine comes and goes by the minute: more, shorter rounds in alternating order
// spread it over both sides.
const rounds = Number(process.env.BENCH_ROUNDS ?? (quick ? 2 : 4));
const clients = Number(process.env.BENCH_CLIENTS ?? 6);
const messageScale = Number(process.env.BENCH_MESSAGE_SCALE ?? 0.5);
const spansOnly = process.env.BENCH_SPANS_ONLY === '1';
const BATCH = 512;
const API_KEY = 'px-bench-0123456789abcdef0123456789abcdef';
const NOW = Date.UTC(2026, 10, 24, 12);
/** Spans whose requests the per-step CPU table times. */
const STEP_SPANS = Math.min(spansPerRound, 20_480);

const SAME_COLUMNS = [
  'project_id', 'trace_id', 'span_id', 'parent_span_id', 'name', 'kind', 'start_time', 'end_time', 'duration_ms', 'status_code',
  'status_message', 'service_name', 'scope_name', 'resource_attributes', 'attributes', 'events', 'operation', 'provider', 'model',
  'request_model', 'response_model', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens',
  'finish_reasons', 'ttft_ms', 'input_messages', 'output_messages', 'system_instructions', 'tool_definitions', 'session_id',
  'user_id', 'environment', 'tags',
];

const dataDir = mkdtempSync(join(tmpdir(), 'parallax-bench-ingest-'));
console.log(
  `collector ingest benchmark — ${availableParallelism()} cores, embedded ClickHouse (chDB); ${formatCount(spansPerRound)} spans per side per round, ` +
    `batches of ${BATCH}, ${clients} concurrent exporters/inserts, message scale ${messageScale}`,
);
// Defaults for everything else, so new collector settings need no edit here; no background
// retention sweeps during a measurement.
const collector = await startCollector({
  ...configFromEnv({ PARALLAX_RETENTION_INTERVAL_SECONDS: '0' }),
  port: 0,
  host: '127.0.0.1',
  dataDir,
  clickhouse: { database: 'parallax' },
  apiKey: API_KEY,
  maxBodyBytes: 16 * 1024 * 1024,
  retryAfterSeconds: 1,
  publicUrl: 'http://127.0.0.1',
});
const client = collector.storage.client;

interface Phase {
  side: 'collector' | 'direct';
  round: number;
  spans: number;
  seconds: number;
  latencies: number[];
  rssBeforeMb: number;
  rssPeakMb: number;
  heapPeakMb: number;
  /** CPU the exporters (the sender process) used, per span: on the collector side only. */
  senderCpuUsPerSpan: number | null;
  load: number;
  retries: number;
}
const phases: Phase[] = [];

try {
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS bench_direct' });
  if (spansOnly) {
    const dropped = await dropViewsOn(client, 'parallax', 'spans');
    console.log(`BENCH_SPANS_ONLY: dropped ${dropped.join(', ') || 'nothing'}; both sides insert into spans alone`);
  }
  const replicated = await replicateWritePath(client, 'parallax', 'bench_direct', 'spans');
  console.log(`direct side writes through the same objects as the collector's: ${replicated.join(', ')}`);

  for (let round = 1; round <= rounds; round++) {
    // New spans each round (no deduplication across rounds); the order flips so neither side
    // always goes first. Each side makes the round's spans itself (the same seed gives the same
    // spans), so the collector's phase holds only what the collector holds.
    const order: Phase['side'][] = round % 2 === 1 ? ['collector', 'direct'] : ['direct', 'collector'];
    for (const side of order) {
      await waitForMerges(client, 300_000);
      if (side === 'collector') phases.push(await ingestThroughCollector(round));
      else phases.push(await insertDirectly(client, round));
      const p = phases[phases.length - 1]!;
      console.log(`  round ${round} ${side}: ${formatCount(p.spans / p.seconds)} spans/s (${p.seconds.toFixed(1)} s), peak RSS ${p.rssPeakMb.toFixed(0)} MB`);
    }
  }

  // Nothing lost, nothing doubled: every span once on each side.
  const sent = spansPerRound * rounds;
  const check = async (db: string) =>
    (await rows<{ n: number; ids: number }>(client, `SELECT count() AS n, uniqExact(trace_id, span_id) AS ids FROM ${db}.spans WHERE project_id = 'default'`))[0]!;
  const stored = { collector: await check('parallax'), direct: await check('bench_direct') };
  // Same rows on both sides: a hash over every column but the cost (priced by the collector with
  // @pydantic/genai-prices, by the generator with its own table) and the ingest time.
  const fingerprint = async (db: string) =>
    (
      await rows<{ h: string; priced: number }>(
        client,
        `SELECT toString(sum(cityHash64(${SAME_COLUMNS.join(', ')}))) AS h, countIf(cost_total IS NOT NULL) AS priced FROM ${db}.spans`,
      )
    )[0]!;
  const prints = { collector: await fingerprint('parallax'), direct: await fingerprint('bench_direct') };
  if (prints.collector.h !== prints.direct.h) {
    const perColumn = async (db: string) =>
      (await rows<Record<string, string>>(client, `SELECT ${SAME_COLUMNS.map((c) => `toString(sum(cityHash64(${c}))) AS ${c}`).join(', ')} FROM ${db}.spans`))[0]!;
    const [a, b] = [await perColumn('parallax'), await perColumn('bench_direct')];
    console.log(`NOT the same rows on both sides; columns that differ: ${SAME_COLUMNS.filter((c) => a[c] !== b[c]).join(', ')}`);
  }

  await waitForMerges(client, 300_000);
  const asIs = { collector: await partStats(client, 'parallax', 'spans'), direct: await partStats(client, 'bench_direct', 'spans') };
  await client.command({ query: 'OPTIMIZE TABLE parallax.spans FINAL' });
  await client.command({ query: 'OPTIMIZE TABLE bench_direct.spans FINAL' });
  const optimized = { collector: await partStats(client, 'parallax', 'spans'), direct: await partStats(client, 'bench_direct', 'spans') };

  const rate = (side: Phase['side']) => {
    const ps = phases.filter((p) => p.side === side);
    return ps.reduce((a, p) => a + p.spans, 0) / ps.reduce((a, p) => a + p.seconds, 0);
  };
  printTable(
    ['side', 'round', 'spans/s', 'seconds', 'batch p50', 'batch p95', 'RSS before', 'RSS peak', 'JS heap peak', 'exporters CPU/span', 'retries', 'load avg'],
    phases.map((p) => [
      p.side,
      p.round,
      formatCount(p.spans / p.seconds),
      p.seconds.toFixed(1),
      formatMs(percentile(p.latencies, 50)),
      formatMs(percentile(p.latencies, 95)),
      `${p.rssBeforeMb.toFixed(0)} MB`,
      `${p.rssPeakMb.toFixed(0)} MB`,
      `${p.heapPeakMb.toFixed(0)} MB`,
      p.senderCpuUsPerSpan === null ? '-' : `${p.senderCpuUsPerSpan.toFixed(1)} µs`,
      p.retries,
      p.load.toFixed(2),
    ]),
    `ingest, ${availableParallelism()} cores, ${BATCH}-span batches, ${clients} in flight${spansOnly ? ', spans table alone (BENCH_SPANS_ONLY)' : ''} (batch latency: request on the collector side, insert on the direct side)`,
  );
  const ratio = rate('collector') / rate('direct');
  const roundRatios = Array.from({ length: rounds }, (_, i) => {
    const [collectorPhase, directPhase] = (['collector', 'direct'] as const).map((side) => phases.find((p) => p.round === i + 1 && p.side === side)!);
    return collectorPhase!.spans / collectorPhase!.seconds / (directPhase!.spans / directPhase!.seconds);
  });
  console.log(
    `\ncollector ${formatCount(rate('collector'))} spans/s vs direct ${formatCount(rate('direct'))} spans/s over all ${rounds} rounds: ratio ${ratio.toFixed(2)} ` +
      `(goal ≥ 0.70: ${ratio >= 0.7 ? 'met' : 'MISSED'}); per round ${roundRatios.map((r) => r.toFixed(2)).join(', ')}`,
  );
  printTable(
    ['table', 'sent', 'stored', 'distinct span ids', 'lost/doubled', 'same rows (but cost)', 'priced rows', 'B/span as-is', 'parts', 'B/span after OPTIMIZE FINAL', 'uncompressed B/span'],
    (['collector', 'direct'] as const).map((side) => [
      side === 'collector' ? 'parallax.spans (collector)' : 'bench_direct.spans',
      formatCount(sent),
      formatCount(stored[side].n),
      formatCount(stored[side].ids),
      stored[side].n === sent && stored[side].ids === sent ? 'none' : 'YES',
      prints.collector.h === prints.direct.h ? 'yes' : 'NO',
      formatCount(prints[side].priced),
      (asIs[side].bytesOnDisk / asIs[side].rows).toFixed(0),
      asIs[side].parts,
      (optimized[side].bytesOnDisk / optimized[side].rows).toFixed(0),
      (optimized[side].uncompressed / optimized[side].rows).toFixed(0),
    ]),
    'storage after all rounds',
  );
  printTable(
    ['step', 'µs/span'],
    ingestStepCosts().map(([step, us]) => [step, us.toFixed(1)]),
    `collector CPU per span, each step alone on the same ${formatCount(STEP_SPANS)} spans' requests (best of 5; load avg ${loadavg()[0]!.toFixed(2)})`,
  );
  if (stored.collector.n !== sent || stored.collector.ids !== sent) process.exitCode = 1;
} finally {
  await collector.close();
  rmSync(dataDir, { recursive: true, force: true });
}

function batchesOf(round: number): GenSpan[][] {
  const spans = [...generateSpans({ seed: round, spans: spansPerRound, now: NOW, messageScale })];
  const batches: GenSpan[][] = [];
  for (let i = 0; i < spans.length; i += BATCH) batches.push(spans.slice(i, i + BATCH));
  return batches;
}

/** The round's export requests, serialized with the OTLP exporter's own serializer, in a file for the sender. */
function writeExportRequests(round: number, file: string): number {
  const parts: Buffer[] = [];
  let spans = 0;
  for (const batch of batchesOf(round)) {
    const body = toExportRequest(batch);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.length);
    parts.push(length, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    spans += batch.length;
  }
  writeFileSync(file, Buffer.concat(parts));
  return spans;
}

async function ingestThroughCollector(round: number): Promise<Phase> {
  const file = join(dataDir, `bodies-${round}.bin`);
  const spans = writeExportRequests(round, file);
  collectGarbage();
  const child = spawn(process.execPath, [join(import.meta.dirname, 'lib/otlp-sender.ts'), file, `${collector.url}/v1/traces`, API_KEY, String(clients)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  await new Promise((r) => setTimeout(r, 500));
  const memory = watchMemory();
  child.stdin.write('go\n');
  const code = await exited;
  const memoryUse = memory.stop();
  if (code !== 0) throw new Error(`the OTLP sender exited with ${code}`);
  const result = JSON.parse(out) as { seconds: number; cpuSeconds: number; retries: number; latencies: number[] };
  rmSync(file);
  return {
    side: 'collector',
    round,
    spans,
    seconds: result.seconds,
    latencies: result.latencies,
    ...memoryUse,
    senderCpuUsPerSpan: (result.cpuSeconds * 1e6) / spans,
    load: loadavg()[0]!,
    retries: result.retries,
  };
}

async function insertDirectly(db: ClickHouseClient, round: number): Promise<Phase> {
  const rowBatches: SpanTableRow[][] = batchesOf(round).map((batch) => batch.map((span) => toSpanRow(span, 'default')));
  collectGarbage();
  // The collector's token is a hash of project and body; any per-batch unique token costs the same.
  const tokens = rowBatches.map((_, i) => createHash('sha256').update(`direct/${round}/${i}`).digest('hex'));
  const latencies: number[] = [];
  let next = 0;
  const memory = watchMemory();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < rowBatches.length) {
        const i = next++;
        const t = performance.now();
        // Settings in the SQL, as the collector states them (the embedded client refuses request
        // settings: chDB would keep them for the session). The rows are encoded as client.insert would.
        const result = await db.exec({
          query: `INSERT INTO bench_direct.spans SETTINGS insert_deduplication_token = '${tokens[i]!}', async_insert = 0 FORMAT JSONEachRow`,
          values: Readable.from(rowBatches[i]!.map((row) => `${JSON.stringify(row)}\n`)),
        });
        result.stream.resume();
        await finished(result.stream);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const memoryUse = memory.stop();
  return { side: 'direct', round, spans: rowBatches.reduce((a, b) => a + b.length, 0), seconds, latencies, ...memoryUse, senderCpuUsPerSpan: null, load: loadavg()[0]!, retries: 0 };
}

/**
 * What the collector does per request besides waiting for ClickHouse, one step at a time over the
 * same export requests, in process CPU time: the steps' sum is what ingest adds to an insert.
 */
function ingestStepCosts(): [string, number][] {
  const spans = [...generateSpans({ seed: 1, spans: STEP_SPANS, now: NOW, messageScale })];
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < spans.length; i += BATCH) bodies.push(toExportRequest(spans.slice(i, i + BATCH)));
  const decoded = bodies.map(decodeProtobuf);
  const rowBatches = decoded.map((d) => toSpanRows('default', d.scopes));
  const calls = decoded.flatMap((d) =>
    d.scopes.flatMap((scope) =>
      scope.spans.flatMap((span) => {
        const genai = extractGenAI(span.attributes, span.events, scope.scopeName);
        const at = new Date(Number(span.startTimeUnixNano / 1_000_000n));
        return genai ? [{ provider: genai.provider, models: [genai.responseModel, genai.requestModel], usage: genai, at, durationMs: 0 }] : [];
      }),
    ),
  );
  const perSpan = (work: () => void): number => {
    work();
    let best = Infinity;
    for (let run = 0; run < 5; run++) {
      const before = process.cpuUsage();
      work();
      const used = process.cpuUsage(before);
      best = Math.min(best, used.user + used.system);
    }
    return best / STEP_SPANS;
  };
  const steps: [string, number][] = [
    ['request token (sha256 of the body)', perSpan(() => bodies.forEach((b) => createHash('sha256').update('default').update('\0').update(b).digest('hex')))],
    ['protobuf decode', perSpan(() => bodies.forEach(decodeProtobuf))],
    ['normalise to rows (conventions, columns, cost)', perSpan(() => decoded.forEach((d) => toSpanRows('default', d.scopes)))],
    ['  of which pricing', perSpan(() => calls.forEach((call) => priceCall(call)))],
    ['insert encoding (JSONEachRow text, made on arrival)', perSpan(() => rowBatches.forEach((rows) => rows.map((row) => JSON.stringify(row) + '\n').join('')))],
  ];
  return [...steps, ['total (pricing counted once)', steps.reduce((sum, [step, us]) => (step.startsWith('  ') ? sum : sum + us), 0)]];
}

/** Drops the materialized views that `table` feeds, so inserts into it do nothing else. */
async function dropViewsOn(db: ClickHouseClient, database: string, table: string): Promise<string[]> {
  const [source] = await rows<{ depDbs: string[]; depTables: string[] }>(
    db,
    'SELECT dependencies_database AS depDbs, dependencies_table AS depTables FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    { db: database, name: table },
  );
  const views = source!.depTables.map((view, i) => `${source!.depDbs[i]}.${view}`);
  for (const view of views) await db.command({ query: `DROP VIEW ${view}` });
  return views;
}

/**
 * Recreates `table` from the collector's own DDL in database `to`, with whatever the migrations attach
 * to it (materialized views, the tables they write to, and theirs in turn), so an insert into the copy
 * does the same write-side work as one into the original. Returns the objects, in creation order.
 */
async function replicateWritePath(db: ClickHouseClient, from: string, to: string, table: string): Promise<string[]> {
  const created: string[] = [];
  const ddlOf = async (name: string) =>
    (
      await rows<{ ddl: string; depDbs: string[]; depTables: string[] }>(
        db,
        `SELECT create_table_query AS ddl, dependencies_database AS depDbs, dependencies_table AS depTables
         FROM system.tables WHERE database = {db:String} AND name = {name:String}`,
        { db: from, name },
      )
    )[0];
  const inOtherDb = (ddl: string) => ddl.replace(new RegExp(`\\b${from}\\.`, 'g'), `${to}.`);
  const replicate = async (name: string): Promise<void> => {
    if (created.includes(name)) return;
    const source = await ddlOf(name);
    if (!source) throw new Error(`${from}.${name} does not exist: the benchmark cannot copy its write path`);
    // A materialized view writes to its TO table, which must exist first.
    const target = new RegExp(`\\bTO ${from}\\.(\\w+)`).exec(source.ddl)?.[1];
    if (target) await replicate(target);
    await db.command({ query: inOtherDb(source.ddl) });
    created.push(name);
    for (let i = 0; i < source.depTables.length; i++) {
      if (source.depDbs[i] !== from) throw new Error(`${from}.${name} feeds ${source.depDbs[i]}.${source.depTables[i]}, outside ${from}: not copied`);
      await replicate(source.depTables[i]!);
    }
  };
  await replicate(table);
  return created.map((name) => `${to}.${name}`);
}

/** Before a phase, so its memory figures start from what the phase itself holds. */
function collectGarbage(): void {
  gc();
  gc();
}

/**
 * This process's RSS (collector + chDB engine) and JS heap in use (the collector's own objects),
 * sampled every 100 ms.
 */
function watchMemory(): { stop(): { rssBeforeMb: number; rssPeakMb: number; heapPeakMb: number } } {
  const before = process.memoryUsage.rss();
  let peak = before;
  let heapPeak = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage();
    peak = Math.max(peak, rss);
    heapPeak = Math.max(heapPeak, heapUsed);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return { rssBeforeMb: before / 1e6, rssPeakMb: peak / 1e6, heapPeakMb: heapPeak / 1e6 };
    },
  };
}
