// Experiment figures in words and numbers a person reads: rates, intervals, p-values, verdicts.
import type { ExperimentComparison, ExperimentModelConfig, ExperimentScorer, ExperimentStatus } from '#lib/experiments/types.ts';

/** Below this p-value a difference is called a difference; above it, noise. */
export const SIGNIFICANCE = 0.05;

export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—';
  const pct = rate * 100;
  return `${Number.isInteger(pct) ? pct : pct.toFixed(1)}%`;
}

export function formatScore(score: number | null | undefined): string {
  if (score === null || score === undefined || Number.isNaN(score)) return '—';
  return score.toFixed(2);
}

/** A 95% interval, e.g. "0.62 – 0.88". */
export function formatCi(ci: [number, number] | null | undefined, signed = false): string {
  if (!ci) return '—';
  const f = (x: number) => (signed && x > 0 ? '+' : '') + x.toFixed(2);
  return `${f(ci[0])} – ${f(ci[1])}`;
}

export function formatDelta(delta: number): string {
  return `${delta > 0 ? '+' : ''}${delta.toFixed(2)}`;
}

export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

export type Verdict = 'worse' | 'better' | 'same';

export function verdictOf(c: ExperimentComparison): Verdict {
  if (c.pValue >= SIGNIFICANCE || c.meanDelta === 0) return 'same';
  return c.meanDelta < 0 ? 'worse' : 'better';
}

/** "claude (this run) is worse than claude (baseline) (p = 0.03, Wilcoxon signed-rank)". */
export function comparisonSentence(c: ExperimentComparison, current: string, baseline: string): string {
  const p = `${formatP(c.pValue)}, ${c.test}`;
  switch (verdictOf(c)) {
    case 'worse':
      return `${current} is worse than ${baseline} (${p}).`;
    case 'better':
      return `${current} is better than ${baseline} (${p}).`;
    case 'same':
      return `No clear difference between ${current} and ${baseline} (${p}): the change in mean score is within what chance gives.`;
  }
}

export const STATUS_LABEL: Record<ExperimentStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

export const isFinished = (status: ExperimentStatus) => status === 'completed' || status === 'cancelled' || status === 'failed';

export function describeConfig(config: ExperimentModelConfig): string {
  const parts: string[] = [`${config.provider} · ${config.model}`];
  for (const [key, value] of Object.entries(config.params ?? {})) parts.push(`${key}=${JSON.stringify(value)}`);
  if (config.systemPrompt) parts.push('own system prompt');
  if (config.baseUrl) parts.push(config.baseUrl);
  return parts.join(' · ');
}

export function describeScorer(scorer: ExperimentScorer): string {
  const caseNote = (s: { ignoreCase?: boolean }) => (s.ignoreCase ? ' (ignore case)' : '');
  switch (scorer.type) {
    case 'exact_match':
      return `equals the expected output${caseNote(scorer)}`;
    case 'contains':
      return `contains "${scorer.value}"${caseNote(scorer)}`;
    case 'not_contains':
      return `does not contain "${scorer.value}"${caseNote(scorer)}`;
    case 'regex':
      return `matches /${scorer.pattern}/${scorer.flags ?? ''}`;
    case 'is_json':
      return 'is valid JSON';
    case 'json_schema':
      return 'matches a JSON schema';
    case 'length':
      return `length ${scorer.min ?? 0}–${scorer.max ?? '∞'} characters`;
    case 'latency':
      return `answers within ${scorer.maxMs} ms`;
    case 'cost':
      return `costs at most $${scorer.maxUsd} per call`;
    case 'semantic_similarity':
      return `similar to the expected output ≥ ${scorer.threshold} (${scorer.model})`;
    case 'llm_judge':
      return `judged by ${scorer.judge.model}${scorer.rubric ? `: ${scorer.rubric}` : ''}`;
  }
}

/** The question an item asks, in one line: its last user message's text. */
export function inputPreview(input: { messages: { role: string; parts: { type: string; content?: unknown }[] }[] } | null): string {
  if (!input) return '(this item is no longer in the dataset version)';
  const users = input.messages.filter((m) => m.role === 'user');
  const last = users.at(-1) ?? input.messages.at(-1);
  if (!last) return '(no messages)';
  const text = last.parts
    .filter((p) => p.type === 'text' && typeof p.content === 'string')
    .map((p) => p.content as string)
    .join(' ')
    .trim();
  return text || `(${last.parts.map((p) => p.type).join(', ')})`;
}
