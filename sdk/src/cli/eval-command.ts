// `parallax eval`: load the items, run them on every configuration through the eval library (tracing each call
// to the collector when one is configured), print the summary, write the reports, and turn the gate into an
// exit code: 0 passed, 1 a gate failed, 2 usage or configuration error.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { init, shutdown } from '../init.ts';
import { ConfigProblem } from '../eval/providers.ts';
import { runEvaluation } from '../eval/runner.ts';
import { compare, summarise } from '../eval/stats.ts';
import type { CallResult, RunProgress } from '../eval/types.ts';
import { parseEvalArgs, UsageError, type EvalArgs } from './args.ts';
import { fetchCollectorDataset, isLocalDataset, readJsonlDataset } from './dataset.ts';
import { gateFailures, junitXml, markdownSummary, summaryTable, type Report } from './report.ts';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const EXIT_OK = 0;
export const EXIT_GATE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export async function evalCommand(argv: string[], io: Io, signal?: AbortSignal): Promise<number> {
  let args: EvalArgs;
  let baseline: CallResult[] | undefined;
  try {
    args = parseEvalArgs(argv, io.env);
    baseline = args.baseline ? readBaseline(args.baseline) : undefined;
  } catch (error) {
    return usageFailure(error, io);
  }

  const local = isLocalDataset(args.dataset);
  const collector = args.collector ?? 'http://localhost:4318';
  let dataset;
  try {
    dataset = local ? readJsonlDataset(args.dataset) : await fetchCollectorDataset(collector, args.apiKey, args.dataset, args.datasetVersion);
  } catch (error) {
    return usageFailure(error, io);
  }

  // Trace the calls when there is a collector to send them to: named with --collector or the OTel endpoint,
  // or implied by a project key or a dataset read from it.
  const tracing = !local || args.collector !== undefined || args.apiKey !== undefined;
  if (tracing) {
    init({
      endpoint: `${collector.replace(/\/+$/, '')}/v1/traces`,
      ...(args.apiKey ? { apiKey: args.apiKey } : {}),
      serviceName: io.env.OTEL_SERVICE_NAME || 'parallax-eval',
    });
  }

  const experimentId = randomUUID();
  io.stderr(`parallax eval: ${dataset.items.length} items × ${args.configs.length} configurations × ${args.repetitions} from ${dataset.source} (experiment ${experimentId})\n`);
  let results: CallResult[];
  try {
    let lastPrint = 0;
    results = await runEvaluation({
      experimentId,
      items: dataset.items,
      configs: args.configs,
      scorers: args.scorers,
      repetitions: args.repetitions,
      concurrency: args.concurrency,
      timeoutMs: args.timeoutMs,
      retries: { maxRetries: args.retries },
      ...(args.judge ? { judge: args.judge } : {}),
      ...(signal ? { signal } : {}),
      providers: { env: io.env },
      onProgress: (p) => {
        const now = Date.now();
        if (p.done === p.total || now - lastPrint >= 2000) {
          lastPrint = now;
          io.stderr(progressLine(p));
        }
      },
    });
  } catch (error) {
    if (tracing) await shutdown();
    return usageFailure(error, io);
  }
  if (tracing) {
    io.stderr(`parallax eval: sending the traces to ${collector} (experiment ${experimentId})\n`);
    await shutdown();
  }

  const summaries = summarise(results);
  const comparisons = baseline ? compare(results, baseline) : null;
  const report: Report = { source: dataset.source, results, summaries, comparisons, threshold: args.threshold, repetitions: args.repetitions };
  io.stdout(`${summaryTable(report)}\n`);
  if (baseline && comparisons?.length === 0) io.stderr('parallax eval: the baseline has no configuration matching this run; nothing compared\n');

  try {
    if (args.junit) writeFileSync(args.junit, junitXml(report));
    if (args.markdown) writeFileSync(args.markdown, markdownSummary(report), { flag: args.markdown === io.env.GITHUB_STEP_SUMMARY ? 'a' : 'w' });
    if (args.json) {
      const saved = { version: 1, experimentId, dataset: dataset.source, createdAt: new Date().toISOString(), configs: args.configs, scorers: args.scorers, results, summaries, comparisons };
      writeFileSync(args.json, `${JSON.stringify(saved, null, 2)}\n`);
    }
  } catch (error) {
    io.stderr(`parallax eval: cannot write a report: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }

  // A configuration none of whose calls answered was not evaluated at all (a wrong key, an unknown model, a
  // provider down): that is a configuration problem, not a quality result.
  const unusable = summaries.filter((s) => s.calls > 0 && s.errors === s.calls);
  if (unusable.length && !signal?.aborted) {
    for (const s of unusable) {
      const first = results.find((r) => r.configId === s.configId && r.error);
      io.stderr(`parallax eval: config ${s.configId}: every call failed (first: ${first?.error}); check its key, model name and base URL\n`);
    }
    return EXIT_USAGE;
  }
  if (signal?.aborted) {
    io.stderr(`parallax eval: interrupted; ${results.length} ${results.length === 1 ? 'call' : 'calls'} finished and reported\n`);
    return EXIT_INTERRUPTED;
  }
  const failures = gateFailures(report);
  if (failures.length) {
    io.stderr(`\nFAILED\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    return EXIT_GATE;
  }
  io.stderr(`\npassed${args.threshold !== undefined ? ` (threshold ${(args.threshold * 100).toFixed(1)}%)` : ''}${comparisons ? ', no regressions against the baseline' : ''}\n`);
  return EXIT_OK;
}

function progressLine(p: RunProgress): string {
  return `  ${p.done}/${p.total} calls, ${p.errors} errors, $${p.costUsd.toFixed(4)} so far\n`;
}

function usageFailure(error: unknown, io: Io): number {
  if (error instanceof UsageError || error instanceof ConfigProblem) {
    io.stderr(`parallax eval: ${error.message}\n(parallax eval --help for usage)\n`);
    return EXIT_USAGE;
  }
  throw error;
}

/** A previous --json output (or a bare array of results). */
function readBaseline(path: string): CallResult[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--baseline ${path}: cannot read it as JSON (${(error as Error).message})`);
  }
  const results = Array.isArray(value) ? value : (value as { results?: unknown })?.results;
  if (!Array.isArray(results) || results.some((r) => typeof r?.itemId !== 'string' || typeof r?.configId !== 'string' || !Array.isArray(r?.scores))) {
    throw new UsageError(`--baseline ${path}: expected the --json output of an earlier parallax eval run`);
  }
  return results as CallResult[];
}
