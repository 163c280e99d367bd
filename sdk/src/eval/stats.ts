// Summaries of a run per configuration and comparisons with a baseline run, with the uncertainty a reader needs
// to tell a real change from noise. Resampling uses a seeded PRNG, so the same results give the same intervals.
//
// Definitions (what a reader of a report should be able to recompute):
// - a call's score is the mean of its scores' values (1 when it has no scores), 0 when the call failed;
//   a call passes when it did not fail and every score passed.
// - an item's score is the mean of its calls' scores (its repetitions); an item passes when more than half of
//   its calls pass.
// - intervals are 95% percentile bootstrap intervals over items (2000 resamples, seed 1), the percentiles
//   interpolated linearly between order statistics.
// - the paired test on per-item score differences is an exact sign-flip permutation test for n ≤ 20 pairs (all
//   2^n sign assignments, statistic |Σ d|, two-sided), and above that a Wilcoxon signed-rank test with the
//   normal approximation (zeros dropped, tie-corrected variance, continuity correction), two-sided.
import type { CallResult, Comparison, ConfigSummary } from './types.ts';

export interface StatsOptions {
  /** Bootstrap resamples. Default 2000. */
  resamples?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
}

const EXACT_MAX_PAIRS = 20;

export function callScore(result: CallResult): number {
  if (result.error) return 0;
  if (result.scores.length === 0) return 1;
  return mean(result.scores.map((s) => s.value));
}

export function callPassed(result: CallResult): boolean {
  return !result.error && result.scores.every((s) => s.pass);
}

/** One row per configuration, in the order configurations first appear in `results`. */
export function summarise(results: readonly CallResult[], options: StatsOptions = {}): ConfigSummary[] {
  const out: ConfigSummary[] = [];
  for (const [configId, calls] of groupBy(results, (r) => r.configId)) {
    const items = perItem(calls);
    const itemScores = [...items.values()].map((i) => i.score);
    const ok = calls.filter((c) => !c.error);
    const latencies = (ok.length ? ok : calls).map((c) => c.latencyMs).sort((a, b) => a - b);
    const ttfts = calls.map((c) => c.ttftMs).filter((t): t is number => t !== null).sort((a, b) => a - b);
    const costs = calls.map((c) => c.costUsd);
    const totalCostUsd = costs.some((c) => c === null) ? null : sum(costs as number[]);
    const grading = calls.flatMap((c) => c.scores.filter((s) => s.costUsd !== undefined).map((s) => s.costUsd ?? null));
    out.push({
      configId,
      calls: calls.length,
      errors: calls.length - ok.length,
      passRate: calls.filter(callPassed).length / calls.length,
      meanScore: mean(itemScores),
      meanScoreCi: bootstrapMeanCi(itemScores, options),
      costPerItemUsd: totalCostUsd === null ? null : totalCostUsd / items.size,
      totalCostUsd,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP95Ms: percentile(latencies, 0.95),
      ttftP50Ms: ttfts.length ? percentile(ttfts, 0.5) : null,
      gradingCostUsd: grading.length === 0 ? 0 : grading.some((c) => c === null) ? null : sum(grading as number[]),
    });
  }
  return out;
}

export interface CompareOptions extends StatsOptions {
  /** Which baseline configuration each current one is compared with. Default: the same id, else the baseline's only configuration. */
  pairs?: Record<string, string>;
}

/** One comparison per configuration of `current` that has a baseline configuration to compare with. */
export function compare(current: readonly CallResult[], baseline: readonly CallResult[], options: CompareOptions = {}): Comparison[] {
  const now = groupBy(current, (r) => r.configId);
  const before = groupBy(baseline, (r) => r.configId);
  const out: Comparison[] = [];
  for (const [configId, calls] of now) {
    const baselineConfigId = options.pairs?.[configId] ?? (before.has(configId) ? configId : before.size === 1 ? [...before.keys()][0]! : undefined);
    if (baselineConfigId === undefined || !before.has(baselineConfigId)) continue;
    const a = perItem(calls);
    const b = perItem(before.get(baselineConfigId)!);
    const regressions: string[] = [];
    const improvements: string[] = [];
    const deltas: number[] = [];
    for (const [itemId, item] of a) {
      const old = b.get(itemId);
      if (!old) continue;
      deltas.push(item.score - old.score);
      if (old.passed && !item.passed) regressions.push(itemId);
      else if (!old.passed && item.passed) improvements.push(itemId);
    }
    const test = pairedTest(deltas);
    out.push({
      configId,
      baselineConfigId,
      regressions,
      improvements,
      meanDelta: mean(deltas),
      meanDeltaCi: bootstrapMeanCi(deltas, options),
      pValue: test.pValue,
      test: test.name,
    });
  }
  return out;
}

interface ItemStats {
  score: number;
  passed: boolean;
}

function perItem(calls: readonly CallResult[]): Map<string, ItemStats> {
  const out = new Map<string, ItemStats>();
  for (const [itemId, group] of groupBy(calls, (c) => c.itemId)) {
    const passes = group.filter(callPassed).length;
    out.set(itemId, { score: mean(group.map(callScore)), passed: passes * 2 > group.length });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Bootstrap

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; enough for resampling and reproducible across platforms. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 95% percentile bootstrap interval of the mean. One value (or none) has no spread: [m, m]. */
export function bootstrapMeanCi(values: readonly number[], options: StatsOptions = {}): [number, number] {
  const n = values.length;
  if (n === 0) return [0, 0];
  if (n === 1) return [values[0]!, values[0]!];
  const resamples = options.resamples ?? 2000;
  const random = seededRandom(options.seed ?? 1);
  const means = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += values[Math.floor(random() * n)]!;
    means[r] = total / n;
  }
  means.sort((a, b) => a - b);
  return [percentile(means, 0.025), percentile(means, 0.975)];
}

// ---------------------------------------------------------------------------------------------------------------
// Paired tests

export interface PairedTestResult {
  pValue: number;
  name: string;
}

/** Two-sided paired test on differences: exact sign-flip for n ≤ 20, Wilcoxon signed-rank (normal) above. */
export function pairedTest(deltas: readonly number[]): PairedTestResult {
  if (deltas.length === 0) return { pValue: 1, name: 'none (no items in common)' };
  if (deltas.length <= EXACT_MAX_PAIRS) return { pValue: signFlipPValue(deltas), name: `exact sign-flip permutation (n=${deltas.length})` };
  return { pValue: wilcoxonPValue(deltas), name: `Wilcoxon signed-rank, normal approximation (n=${deltas.length})` };
}

/** Share of the 2^n sign assignments whose |Σ ±d| is at least the observed |Σ d|. */
export function signFlipPValue(deltas: readonly number[]): number {
  const n = deltas.length;
  const observed = Math.abs(sum(deltas));
  // Scores are means of few values; a tolerance keeps equal sums equal despite floating-point rounding.
  const tolerance = 1e-9 * Math.max(1, sum(deltas.map(Math.abs)));
  let extreme = 0;
  const count = 2 ** n;
  for (let mask = 0; mask < count; mask++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += mask & (1 << i) ? -deltas[i]! : deltas[i]!;
    if (Math.abs(total) >= observed - tolerance) extreme++;
  }
  return extreme / count;
}

export function wilcoxonPValue(deltas: readonly number[]): number {
  const nonzero = deltas.filter((d) => d !== 0);
  const n = nonzero.length;
  if (n === 0) return 1;
  const ranked = nonzero.map((d) => ({ d, abs: Math.abs(d) })).sort((a, b) => a.abs - b.abs);
  const ranks = new Array<number>(n);
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && ranked[j + 1]!.abs === ranked[i]!.abs) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[k] = rank;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  let wPlus = 0;
  for (let i = 0; i < n; i++) if (ranked[i]!.d > 0) wPlus += ranks[i]!;
  const expected = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48;
  if (variance === 0) return 1;
  const z = Math.max(0, Math.abs(wPlus - expected) - 0.5) / Math.sqrt(variance);
  return Math.min(1, 2 * (1 - normalCdf(z)));
}

/** Φ(z) via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/** The q-quantile of sorted values, interpolated linearly between order statistics (numpy's default). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const fraction = position - lower;
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * fraction;
}

function mean(values: readonly number[]): number {
  return values.length ? sum(values) / values.length : 0;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const value of values) {
    const k = key(value);
    let group = out.get(k);
    if (!group) out.set(k, (group = []));
    group.push(value);
  }
  return out;
}
