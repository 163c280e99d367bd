// What a run prints and writes: the summary table for the terminal, JUnit XML for CI test reporters, Markdown for
// a job summary, and the gate (pass-rate threshold, regressions) that decides the exit code.
import { callPassed } from '../eval/stats.ts';
import type { CallResult, Comparison, ConfigSummary } from '../eval/types.ts';

export interface Report {
  source: string;
  results: CallResult[];
  summaries: ConfigSummary[];
  comparisons: Comparison[] | null;
  threshold: number | undefined;
  repetitions: number;
}

/** Why the run fails its gate, one line each; empty when it passes. */
export function gateFailures(report: Report): string[] {
  const out: string[] = [];
  if (report.threshold !== undefined) {
    for (const s of report.summaries) {
      if (s.passRate < report.threshold) out.push(`${s.configId}: pass rate ${percent(s.passRate)} is under the threshold ${percent(report.threshold)}`);
    }
  }
  for (const c of report.comparisons ?? []) {
    if (c.regressions.length) out.push(`${c.configId}: ${plural(c.regressions.length, 'item')} passed in the baseline (${c.baselineConfigId}) and fail now: ${c.regressions.join(', ')}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Terminal

const HEADERS = ['configuration', 'calls', 'errors', 'pass rate', 'mean score (95% CI)', 'cost/item', 'total cost', 'p50 latency', 'p95 latency', 'p50 TTFT'];

function row(s: ConfigSummary): string[] {
  return [
    s.configId,
    String(s.calls),
    String(s.errors),
    percent(s.passRate),
    `${s.meanScore.toFixed(3)} [${s.meanScoreCi[0].toFixed(3)}, ${s.meanScoreCi[1].toFixed(3)}]`,
    usd(s.costPerItemUsd),
    usd(s.totalCostUsd),
    duration(s.latencyP50Ms),
    duration(s.latencyP95Ms),
    s.ttftP50Ms === null ? '–' : duration(s.ttftP50Ms),
  ];
}

export function summaryTable(report: Report): string {
  const rows = [HEADERS, ...report.summaries.map(row)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  const lines = [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  for (const c of report.comparisons ?? []) lines.push('', comparisonLine(c));
  const failures = failingCalls(report.results);
  if (failures.length) {
    lines.push('', `Failing calls (${failures.length}):`);
    for (const f of failures.slice(0, 20)) lines.push(`  ${f.result.configId}  ${caseName(f.result, report.repetitions)}: ${f.reasons.join('; ')}`);
    if (failures.length > 20) lines.push(`  … and ${failures.length - 20} more (see --junit or --json)`);
  }
  return lines.join('\n');
}

function comparisonLine(c: Comparison): string {
  const against = c.baselineConfigId === c.configId ? 'the baseline' : `baseline ${c.baselineConfigId}`;
  return (
    `${c.configId} vs ${against}: ${plural(c.regressions.length, 'regression')}${c.regressions.length ? ` (${c.regressions.join(', ')})` : ''}, ` +
    `${plural(c.improvements.length, 'improvement')}; mean Δ ${signed(c.meanDelta)} [${signed(c.meanDeltaCi[0])}, ${signed(c.meanDeltaCi[1])}], p = ${c.pValue.toPrecision(3)} (${c.test})`
  );
}

interface Failing {
  result: CallResult;
  reasons: string[];
}

function failingCalls(results: readonly CallResult[]): Failing[] {
  const out: Failing[] = [];
  for (const result of results) {
    if (callPassed(result)) continue;
    const reasons = result.error ? [`error: ${result.error}`] : result.scores.filter((s) => !s.pass).map((s) => `${s.scorer}: ${s.reason}`);
    out.push({ result, reasons });
  }
  return out;
}

function caseName(result: CallResult, repetitions: number): string {
  return repetitions > 1 ? `${result.itemId} #${result.repetition + 1}` : result.itemId;
}

// ---------------------------------------------------------------------------------------------------------------
// JUnit XML

/**
 * One testsuite per configuration, one testcase per item × repetition. A call that failed to answer is an
 * <error>; an answer that failed a score is a <failure> listing every failed scorer with its reason.
 */
export function junitXml(report: Report): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let time = 0;
  for (const summary of report.summaries) {
    const calls = report.results.filter((r) => r.configId === summary.configId);
    const cases: string[] = [];
    let suiteFailures = 0;
    let suiteErrors = 0;
    let suiteTime = 0;
    for (const result of calls) {
      const seconds = result.latencyMs / 1000;
      suiteTime += seconds;
      const open = `    <testcase classname="${xml(summary.configId)}" name="${xml(caseName(result, report.repetitions))}" time="${seconds.toFixed(3)}"`;
      if (result.error) {
        suiteErrors++;
        cases.push(`${open}>\n      <error type="call_error" message="${xml(result.error)}">${xmlText(result.error)}</error>\n    </testcase>`);
        continue;
      }
      const failed = result.scores.filter((s) => !s.pass);
      if (failed.length) {
        suiteFailures++;
        const message = failed.map((s) => `${s.scorer}: ${s.reason}`).join('; ');
        const body = [...failed.map((s) => `${s.scorer} (${s.value.toFixed(3)}): ${s.reason}`), '', `output: ${result.output}`].join('\n');
        cases.push(`${open}>\n      <failure type="score" message="${xml(message)}">${xmlText(body)}</failure>\n    </testcase>`);
      } else {
        cases.push(`${open}/>`);
      }
    }
    tests += calls.length;
    failures += suiteFailures;
    errors += suiteErrors;
    time += suiteTime;
    const properties = [
      ['passRate', summary.passRate],
      ['meanScore', summary.meanScore],
      ['meanScoreCiLow', summary.meanScoreCi[0]],
      ['meanScoreCiHigh', summary.meanScoreCi[1]],
      ['costPerItemUsd', summary.costPerItemUsd ?? 'unpriced'],
      ['totalCostUsd', summary.totalCostUsd ?? 'unpriced'],
      ['latencyP50Ms', summary.latencyP50Ms],
      ['latencyP95Ms', summary.latencyP95Ms],
    ]
      .map(([name, value]) => `      <property name="${name}" value="${xml(String(value))}"/>`)
      .join('\n');
    suites.push(
      `  <testsuite name="${xml(summary.configId)}" tests="${calls.length}" failures="${suiteFailures}" errors="${suiteErrors}" skipped="0" time="${suiteTime.toFixed(3)}">\n` +
        `    <properties>\n${properties}\n    </properties>\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${xml(`parallax eval: ${report.source}`)}" tests="${tests}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">\n` +
    `${suites.join('\n')}\n</testsuites>\n`
  );
}

/** Escapes for an attribute value; drops the characters XML 1.0 cannot hold at all. */
export function xml(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

/** Escapes for element text, where line breaks may stay as they are. */
function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

export function markdownSummary(report: Report): string {
  const gate = gateFailures(report);
  const lines = [`## Parallax eval: ${md(report.source)}`, ''];
  lines.push(gate.length ? `**Failed:** ${gate.map(md).join('; ')}` : '**Passed**' + (report.threshold !== undefined ? ` (threshold ${percent(report.threshold)})` : ''), '');
  lines.push(`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const s of report.summaries) {
    const cells = row(s).map(md);
    const under = report.threshold !== undefined && s.passRate < report.threshold;
    cells[0] = `${under ? '❌' : '✅'} ${cells[0]}`;
    lines.push(`| ${cells.join(' | ')} |`);
  }
  if (report.comparisons?.length) {
    lines.push('', '### Against the baseline', '');
    for (const c of report.comparisons) lines.push(`- ${md(comparisonLine(c))}`);
  }
  const failures = failingCalls(report.results);
  if (failures.length) {
    lines.push('', `### Failing calls (${failures.length})`, '', '| configuration | item | why |', '| --- | --- | --- |');
    for (const f of failures.slice(0, 50)) lines.push(`| ${md(f.result.configId)} | ${md(caseName(f.result, report.repetitions))} | ${md(f.reasons.join('; '))} |`);
    if (failures.length > 50) lines.push('', `… and ${failures.length - 50} more.`);
  }
  return lines.join('\n') + '\n';
}

/** Table-safe Markdown: pipes escaped, newlines flattened, HTML-ish characters neutralised. */
function md(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function usd(value: number | null): string {
  if (value === null) return 'unpriced';
  if (value === 0) return '$0';
  return value < 0.01 ? `$${value.toPrecision(3)}` : `$${value.toFixed(4)}`;
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(3)}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
