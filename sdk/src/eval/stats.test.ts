import { describe, expect, it } from 'vitest';
import { bootstrapMeanCi, compare, normalCdf, pairedTest, percentile, signFlipPValue, summarise, wilcoxonPValue } from './stats.ts';
import type { CallResult } from './types.ts';

function call(itemId: string, value: number | null, extra: Partial<CallResult> = {}): CallResult {
  return {
    itemId,
    configId: 'gpt',
    repetition: 0,
    output: 'x',
    outputMessages: [],
    error: null,
    latencyMs: 100,
    ttftMs: null,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    traceId: null,
    scores: value === null ? [] : [{ scorer: 'judge', value, pass: value >= 0.75, reason: '' }],
    ...extra,
  };
}

describe('summarise', () => {
  it('computes pass rate, mean score, cost and latency percentiles as a reader would by hand', () => {
    const results = [
      call('i1', 1, { latencyMs: 100, ttftMs: 40, costUsd: 0.001 }),
      call('i2', 1, { latencyMs: 200, ttftMs: 50, costUsd: 0.001 }),
      call('i3', 0.5, { latencyMs: 300, ttftMs: 60, costUsd: 0.002 }),
      call('i4', 0, { latencyMs: 400, ttftMs: null, costUsd: 0.002 }),
      call('i5', 1, { latencyMs: 500, ttftMs: 80, costUsd: 0.004 }),
      // A failed call: score 0, not passed, its latency left out of the percentiles.
      call('i6', 1, { latencyMs: 9000, ttftMs: null, costUsd: 0, error: 'HTTP 500: boom' }),
    ];
    const [summary] = summarise(results);
    expect(summary).toMatchObject({ configId: 'gpt', calls: 6, errors: 1 });
    // Passed: i1, i2, i5 (score ≥ 0.75 and no error) → 3 / 6.
    expect(summary!.passRate).toBe(0.5);
    // (1 + 1 + 0.5 + 0 + 1 + 0) / 6 = 3.5 / 6.
    expect(summary!.meanScore).toBeCloseTo(3.5 / 6, 12);
    // 0.001 + 0.001 + 0.002 + 0.002 + 0.004 + 0 = 0.010 over 6 items.
    expect(summary!.totalCostUsd).toBeCloseTo(0.01, 12);
    expect(summary!.costPerItemUsd).toBeCloseTo(0.01 / 6, 12);
    // Successful latencies 100..500: p50 is the middle one, 300; p95 sits at rank 0.95 × 4 = 3.8, so
    // 400 + 0.8 × (500 − 400) = 480.
    expect(summary!.latencyP50Ms).toBe(300);
    expect(summary!.latencyP95Ms).toBeCloseTo(480, 9);
    // TTFTs 40, 50, 60, 80: p50 at rank 1.5 → (50 + 60) / 2 = 55.
    expect(summary!.ttftP50Ms).toBe(55);
    expect(summary!.meanScoreCi[0]).toBeLessThanOrEqual(summary!.meanScore);
    expect(summary!.meanScoreCi[1]).toBeGreaterThanOrEqual(summary!.meanScore);
    // Seeded: the same results give the same interval.
    expect(summarise(results)[0]!.meanScoreCi).toEqual(summary!.meanScoreCi);
  });

  it('averages repetitions within an item, keeps unknown cost unknown and counts grading cost apart', () => {
    const results = [
      call('a', 1, { repetition: 0, costUsd: 0.01 }),
      call('a', 0, { repetition: 1, costUsd: null }),
      call('b', 1, { costUsd: 0.01, scores: [{ scorer: 'llm_judge', value: 1, pass: true, reason: '', costUsd: 0.0005 }] }),
      call('c', 1, { configId: 'claude', costUsd: 0.01, scores: [{ scorer: 'llm_judge', value: 1, pass: true, reason: '', costUsd: null }] }),
    ];
    const [gpt, claude] = summarise(results);
    // Item a: (1 + 0) / 2 = 0.5; item b: 1 → mean over items (0.5 + 1) / 2 = 0.75, not the per-call 2/3.
    expect(gpt!.meanScore).toBe(0.75);
    expect(gpt!.totalCostUsd).toBeNull();
    expect(gpt!.costPerItemUsd).toBeNull();
    expect(gpt!.gradingCostUsd).toBe(0.0005);
    expect(claude!.gradingCostUsd).toBeNull();
    expect(claude!.calls).toBe(1);
  });
});

describe('bootstrap interval', () => {
  it('matches the exact bootstrap distribution of a small sample', () => {
    // Scores 0, 0, 0, 1: a resample of 4 has k ones with k ~ Binomial(4, 1/4), mean k/4.
    //   P(mean = 0)    = (3/4)^4              = 81/256 ≈ 31.6%  → the 2.5th percentile is 0.
    //   P(mean ≥ 0.75) = 4·(1/4)^3·(3/4) + (1/4)^4 = 12/256 + 1/256 = 13/256 ≈ 5.1%
    //   P(mean = 1)    = 1/256 ≈ 0.4%
    // 2.5% of resamples lie above the 97.5th percentile: more than P(mean = 1), less than P(mean ≥ 0.75),
    // so the 97.5th percentile is 0.75. Interval: [0, 0.75].
    expect(bootstrapMeanCi([0, 0, 0, 1])).toEqual([0, 0.75]);
    // Scores 0, 1: P(mean = 0) = P(mean = 1) = 1/4 ≫ 2.5% → [0, 1].
    expect(bootstrapMeanCi([0, 1])).toEqual([0, 1]);
    // No spread, no interval.
    expect(bootstrapMeanCi([0.4, 0.4, 0.4])).toEqual([expect.closeTo(0.4, 12), expect.closeTo(0.4, 12)]);
    expect(bootstrapMeanCi([0.7])).toEqual([0.7, 0.7]);
  });

  it('is reproducible for a seed and changes with it', () => {
    const values = [0.1, 0.9, 0.4, 0.35, 0.8, 0.6, 0.2, 0.75];
    expect(bootstrapMeanCi(values)).toEqual(bootstrapMeanCi(values));
    expect(bootstrapMeanCi(values, { seed: 7 })).not.toEqual(bootstrapMeanCi(values, { seed: 8 }));
  });
});

describe('paired tests', () => {
  it('exact sign-flip test on 6 items, enumerated by hand', () => {
    // Differences 1, 1, 1, 1, 1, −1: observed Σ = 4. Flipping k of the six signs to "−" gives Σ = 6 − 2k when all
    // magnitudes are 1, so |Σ| ≥ 4 exactly when k ∈ {0, 1, 5, 6}: C(6,0) + C(6,1) + C(6,5) + C(6,6) = 1 + 6 + 6 + 1
    // = 14 of 2^6 = 64 assignments → p = 14/64 = 0.21875.
    expect(signFlipPValue([1, 1, 1, 1, 1, -1])).toBe(14 / 64);
  });

  it('exact sign-flip test with uneven differences', () => {
    // Differences 0.5, 0.25, 0.25, −0.5: observed |Σ| = 0.5. Write Σ = X + Y with X = ±0.5 ± 0.5 ∈ {1 (1 way),
    // 0 (2 ways), −1 (1 way)} and Y = ±0.25 ± 0.25 ∈ {0.5 (1), 0 (2), −0.5 (1)}.
    //   X = ±1: every Y keeps |Σ| ≥ 0.5 → 4 ways each, 8 in all.
    //   X = 0 (2 ways): Y = ±0.5 → |Σ| = 0.5 (2 × 2 = 4 ways); Y = 0 → 0 (does not count).
    // 8 + 4 = 12 of 16 → p = 0.75.
    expect(signFlipPValue([0.5, 0.25, 0.25, -0.5])).toBe(0.75);
    expect(pairedTest([0.5, 0.25, 0.25, -0.5])).toEqual({ pValue: 0.75, name: 'exact sign-flip permutation (n=4)' });
  });

  it('Wilcoxon signed-rank with the normal approximation above 20 pairs', () => {
    // 22 differences: one zero (dropped) and 21 with magnitudes 0.01·k, k = 1..21, so their ranks are k.
    // Negative: ranks 1..9 and 14 → W− = 45 + 14 = 59, W+ = 231 − 59 = 172.
    // n = 21: E[W+] = n(n+1)/4 = 115.5; Var = n(n+1)(2n+1)/24 = 21·22·43/24 = 827.75, sd = 28.7706.
    // z = (|172 − 115.5| − 0.5) / 28.7706 = 56 / 28.7706 = 1.9464.
    // Φ(1.94) = 0.97381, Φ(1.95) = 0.97441 → Φ(1.9464) ≈ 0.97381 + 0.64·0.00060 = 0.97420 → p = 2·(1 − 0.97420) = 0.0516.
    const negative = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 14]);
    const deltas = [0, ...Array.from({ length: 21 }, (_, i) => (negative.has(i + 1) ? -1 : 1) * 0.01 * (i + 1))];
    expect(wilcoxonPValue(deltas)).toBeCloseTo(0.0516, 3);
    expect(pairedTest(deltas).name).toBe('Wilcoxon signed-rank, normal approximation (n=22)');
  });

  it('normal CDF agrees with the table', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
  });
});

describe('compare', () => {
  it('lists regressions and improvements, the mean difference and the exact test', () => {
    const baseline = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6'].map((id, i) => call(id, i === 5 ? 1 : 0));
    const current = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6'].map((id, i) => call(id, i === 5 ? 0 : 1));
    const [comparison] = compare(current, baseline);
    expect(comparison).toMatchObject({
      configId: 'gpt',
      baselineConfigId: 'gpt',
      regressions: ['i6'],
      improvements: ['i1', 'i2', 'i3', 'i4', 'i5'],
      pValue: 14 / 64,
      test: 'exact sign-flip permutation (n=6)',
    });
    // Differences 1, 1, 1, 1, 1, −1 → mean 4/6.
    expect(comparison!.meanDelta).toBeCloseTo(4 / 6, 12);
    expect(comparison!.meanDeltaCi[0]).toBeLessThan(comparison!.meanDelta);
    expect(comparison!.meanDeltaCi[1]).toBeLessThanOrEqual(1);
  });

  it('passes an item by the majority of its repetitions, and pairs a renamed configuration when the baseline has one', () => {
    const baseline = [call('a', 1, { configId: 'old' }), call('b', 1, { configId: 'old' })];
    const current = [
      // a: 2 of 3 repetitions pass → passes; b: 1 of 3 → fails: a regression.
      call('a', 1, { configId: 'new', repetition: 0 }),
      call('a', 1, { configId: 'new', repetition: 1 }),
      call('a', 0, { configId: 'new', repetition: 2 }),
      call('b', 1, { configId: 'new', repetition: 0 }),
      call('b', 0, { configId: 'new', repetition: 1 }),
      call('b', 0, { configId: 'new', repetition: 2, error: 'timed out after 100 ms' }),
      // An item the baseline did not have is not compared.
      call('c', 0, { configId: 'new' }),
    ];
    const [comparison] = compare(current, baseline);
    expect(comparison).toMatchObject({ configId: 'new', baselineConfigId: 'old', regressions: ['b'], improvements: [] });
    // a: 2/3 − 1 = −1/3; b: 1/3 − 1 = −2/3 → mean −1/2.
    expect(comparison!.meanDelta).toBeCloseTo(-0.5, 12);
    // Two negative differences: of the 4 sign assignments only (−,−) and (+,+) reach |Σ| = 1 → p = 2/4.
    expect(comparison!.pValue).toBe(0.5);
  });

  it('has nothing to compare when no baseline configuration matches', () => {
    const baseline = [call('a', 1, { configId: 'x' }), call('a', 1, { configId: 'y' })];
    expect(compare([call('a', 1, { configId: 'z' })], baseline)).toEqual([]);
  });
});

describe('percentile', () => {
  it('interpolates between order statistics', () => {
    expect(percentile([10], 0.95)).toBe(10);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9)).toBe(10);
  });
});
