// Measured evidence for schema/query changes the collector could make, tried on the benchmark's
// own data with the collector's current SQL next to the proposed SQL (same engine, same rows,
// straight through the client, no HTTP). collector/src is not touched: the SQL below is a copy of
// collector/src/store/traces.ts as of this benchmark.
import type { ClickHouseClient } from '@clickhouse/client';
import { RARE_WORDS } from './genai-content.ts';
import { partStats, rows, waitForMerges } from './clickhouse.ts';
import type { TraceSample } from './seed.ts';
import { formatBytes, formatCount, formatMs, timeRuns } from './stats.ts';
import { printTable } from './table.ts';

interface Meta {
  now: number;
  samples: TraceSample[];
}

const SUMMARY = `
       trace_id AS traceId,
       argMin(name, (parent_span_id != '', start_time)) AS name,
       argMin(service_name, (parent_span_id != '', start_time)) AS serviceName,
       toString(min(start_time)) AS startTime,
       (toUnixTimestamp64Nano(max(end_time)) - toUnixTimestamp64Nano(min(start_time))) / 1e6 AS durationMs,
       count() AS spanCount,
       countIf(operation != '') AS llmCalls,
       countIf(status_code = 'ERROR') AS errorCount,
       arraySort(groupUniqArrayIf(model, model != '')) AS models,
       sum(input_tokens) AS inputTokens,
       sum(output_tokens) AS outputTokens,
       if(countIf(cost_total IS NOT NULL) = 0, NULL, sum(cost_total)) AS cost`;
const RANGE = `project_id = {project:String} AND start_time >= {from:DateTime64(3, 'UTC')} AND start_time < {to:DateTime64(3, 'UTC')}`;
const TAIL = 'ORDER BY min(start_time) DESC, trace_id DESC LIMIT 51';

/** Today's listTraces: span conditions only in HAVING, so every span in the range is aggregated. */
function currentList(table: string, having: string): string {
  return `SELECT ${SUMMARY} FROM ${table} WHERE ${RANGE} GROUP BY trace_id HAVING ${having} ${TAIL}`;
}

/**
 * Proposed: find the matching traces first with the conditions in WHERE (primary key, skip
 * indexes and PREWHERE apply), then aggregate only their spans. Same result: a trace is listed
 * when one of its spans matches, and its totals cover all its spans.
 */
function prefilteredList(table: string, where: string): string {
  return `SELECT ${SUMMARY} FROM ${table}
     WHERE ${RANGE} AND trace_id IN (SELECT trace_id FROM ${table} WHERE ${RANGE} AND (${where}))
     GROUP BY trace_id ${TAIL}`;
}

const TEXT_COLUMNS = ['input_messages', 'output_messages', 'system_instructions', 'name'];
const CURRENT_TEXT = TEXT_COLUMNS.map((c) => `positionCaseInsensitiveUTF8(${c}, {q:String}) > 0`).join(' OR ');
const TOKEN_TEXT = TEXT_COLUMNS.map((c) => `hasToken(lower(${c}), lower({q:String}))`).join(' OR ');

export async function runProposals(client: ClickHouseClient, database: string, meta: Meta, { runs }: { runs: number }): Promise<void> {
  const spans = `${database}.spans`;
  const to = new Date(meta.now);
  const day = new Date(meta.now - 86_400_000);
  const month = new Date(meta.now - 30 * 86_400_000);
  const param = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
  const base = { project: 'default', to: param(to) };
  const withModel = meta.samples.filter((s) => s.model);
  const pick = <T>(items: T[], i: number) => items[((i % items.length) + items.length) % items.length]!;
  const results: (string | number)[][] = [];
  const compare = async (name: string, table: string, current: string, proposed: string, params: (run: number) => Record<string, unknown>) => {
    const a = await timeRuns((run) => rows(client, current.replaceAll('{table}', table), params(run)), { runs, budgetMs: 45_000, minRuns: 5 });
    const b = await timeRuns((run) => rows(client, proposed.replaceAll('{table}', table), params(run)), { runs, budgetMs: 45_000, minRuns: 5 });
    // Same answers, or the proposal is no proposal (a token match can differ from a substring match).
    let same = 0;
    for (const run of [0, 1, 2]) {
      const x = JSON.stringify(await rows(client, current.replaceAll('{table}', table), params(run)));
      const y = JSON.stringify(await rows(client, proposed.replaceAll('{table}', table), params(run)));
      if (x === y) same++;
    }
    results.push([name, formatMs(a.p50), formatMs(a.p95), formatMs(b.p50), formatMs(b.p95), `${(a.p50 / b.p50).toFixed(1)}×`, `${same}/3`]);
    console.log(`  ${name}: current p50 ${formatMs(a.p50)} → proposed p50 ${formatMs(b.p50)}`);
  };

  console.log('\nproposals (collector SQL vs proposed SQL, same rows, through the client):');
  const filterParams = (from: Date) => (run: number) => {
    const s = pick(withModel, run * 7919);
    return { ...base, from: param(from), model: s.model, userId: s.user };
  };
  for (const [label, from] of [['30d', month], ['24h', day]] as const) {
    await compare(
      `traces model+user, ${label}: conditions in WHERE first`,
      spans,
      currentList('{table}', 'countIf(model = {model:String}) > 0 AND countIf(user_id = {userId:String}) > 0'),
      prefilteredList('{table}', 'model = {model:String} AND user_id = {userId:String}'),
      filterParams(from),
    );
  }
  await compare(
    'full text rare word, 30d: WHERE first, still positionCaseInsensitive',
    spans,
    currentList('{table}', `countIf(${CURRENT_TEXT}) > 0`),
    prefilteredList('{table}', CURRENT_TEXT),
    (run) => ({ ...base, from: param(month), q: pick(RARE_WORDS, run) }),
  );

  // A text (inverted) index needs the data rewritten: try it on a copy of one trace in ten.
  const copy = `bench_proposal.spans_text`;
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS bench_proposal' });
  await client.command({ query: `DROP TABLE IF EXISTS ${copy}` });
  const [{ ddl }] = (await rows<{ ddl: string }>(client, 'SELECT create_table_query AS ddl FROM system.tables WHERE database = {db:String} AND name = {t:String}', { db: database, t: 'spans' })) as [{ ddl: string }];
  const indexes = TEXT_COLUMNS.map((c) => `INDEX idx_text_${c} ${c} TYPE text(tokenizer = splitByNonAlpha, preprocessor = lower(${c}))`).join(', ');
  await client.command({
    query: ddl.replace(new RegExp(`^CREATE TABLE ${database}\\.spans`), `CREATE TABLE ${copy}`).replace(/\)\s*ENGINE = MergeTree/, `, ${indexes}) ENGINE = MergeTree`),
  });
  const plain = `bench_proposal.spans_plain`;
  await client.command({ query: `DROP TABLE IF EXISTS ${plain}` });
  await client.command({ query: ddl.replace(new RegExp(`^CREATE TABLE ${database}\\.spans`), `CREATE TABLE ${plain}`) });
  const t0 = performance.now();
  await client.command({ query: `INSERT INTO ${plain} SELECT * FROM ${spans} WHERE cityHash64(trace_id) % 10 = 0` });
  const tPlain = performance.now() - t0;
  const t1 = performance.now();
  await client.command({ query: `INSERT INTO ${copy} SELECT * FROM ${plain}` });
  const tText = performance.now() - t1;
  await waitForMerges(client, 300_000);
  const sPlain = await partStats(client, 'bench_proposal', 'spans_plain');
  const sText = await partStats(client, 'bench_proposal', 'spans_text');
  console.log(
    `  copy of one trace in ten: ${formatCount(sPlain.rows)} spans; plain ${formatBytes(sPlain.bytesOnDisk)} written in ${(tPlain / 1000).toFixed(0)} s, ` +
      `with text indexes ${formatBytes(sText.bytesOnDisk)} (+${(((sText.bytesOnDisk - sPlain.bytesOnDisk) / sPlain.bytesOnDisk) * 100).toFixed(0)}%) written in ${(tText / 1000).toFixed(0)} s`,
  );
  const label = `${formatCount(sPlain.rows)}-span copy`;
  for (const [range, from] of [['30d', month], ['24h', day]] as const) {
    for (const [kind, words] of [['rare', RARE_WORDS], ['common', ['refund', 'invoice', 'password', 'delivery', 'billing']]] as const) {
      const textParams = (run: number) => ({ ...base, from: param(from), q: pick([...words], run) });
      await compare(
        `full text ${kind} word, ${range}, ${label}: plain table, current SQL → text index + hasToken, WHERE first`,
        `{table}`,
        currentList(plain, `countIf(${CURRENT_TEXT}) > 0`),
        prefilteredList(copy, TOKEN_TEXT),
        textParams,
      );
    }
  }
  const explain = await rows<{ explain: string }>(
    client,
    `EXPLAIN indexes = 1 SELECT trace_id FROM ${copy} WHERE ${RANGE} AND (${TOKEN_TEXT})`,
    { ...base, from: param(month), q: 'kubernetes' },
  );
  console.log(`\n  EXPLAIN indexes = 1 of the token prefilter on the copy:\n${explain.map((r) => '    ' + r.explain).join('\n')}`);
  const explainCurrent = await rows<{ explain: string }>(
    client,
    `EXPLAIN indexes = 1 ${currentList(spans, 'countIf(model = {model:String}) > 0 AND countIf(user_id = {userId:String}) > 0')}`,
    { ...base, from: param(month), model: 'gpt-4o', userId: 'user-00042' },
  );
  console.log(`\n  EXPLAIN indexes = 1 of today's model+user list (30d):\n${explainCurrent.map((r) => '    ' + r.explain).join('\n')}`);
  printTable(['change', 'current p50', 'current p95', 'proposed p50', 'proposed p95', 'speed-up (p50)', 'same answers'], results, 'proposals');
  await client.command({ query: 'DROP DATABASE bench_proposal' });
}
