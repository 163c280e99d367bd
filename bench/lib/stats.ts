/** Nearest-rank percentile of `values` (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Timed {
  runs: number[];
  p50: number;
  p95: number;
  min: number;
  max: number;
}

/**
 * Runs `fn` `runs` times one after another (after `warmup` untimed runs) and returns the
 * wall-clock milliseconds; stops early once `budgetMs` is spent, but never before `minRuns`.
 */
export async function timeRuns(
  fn: (run: number) => Promise<unknown>,
  { runs = 20, warmup = 1, budgetMs = 60_000, minRuns = 5 }: { runs?: number; warmup?: number; budgetMs?: number; minRuns?: number } = {},
): Promise<Timed> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
    if (i + 1 >= minRuns && performance.now() - started > budgetMs) break;
  }
  return { runs: times, p50: percentile(times, 50), p95: percentile(times, 95), min: Math.min(...times), max: Math.max(...times) };
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
