/**
 * A seeded pseudo-random source (mulberry32), so a benchmark's data set is the same on every run
 * and on every machine: figures compare only when the data does.
 */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Index drawn by weight; `cumulative` is the running sum of the weights. */
  weighted(cumulative: readonly number[]): number {
    const x = this.next() * cumulative[cumulative.length - 1]!;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Zipf-like rank in [0, n): rank 0 is the most frequent. Real traffic is skewed this way
   * (a few heavy users, a few very common words), which is what indexes and filters meet.
   */
  zipf(n: number, exponent = 1.1): number {
    // Inverse of the continuous power-law CDF; close enough to a discrete Zipf for data generation.
    const a = 1 - exponent;
    const u = this.next();
    const x = Math.pow(u * (Math.pow(n + 1, a) - 1) + 1, 1 / a) - 1;
    return Math.min(n - 1, Math.max(0, Math.floor(x)));
  }

  /** Lower-case hex of `bytes` random bytes (trace and span ids). */
  hex(bytes: number): string {
    let out = '';
    for (let i = 0; i < bytes; i += 4) {
      out += ((this.next() * 4294967296) >>> 0).toString(16).padStart(8, '0');
    }
    return out.slice(0, bytes * 2);
  }

  /** Log-normal around `median` (latencies, token counts). */
  logNormal(median: number, sigma: number): number {
    const u1 = Math.max(this.next(), 1e-12);
    const u2 = this.next();
    const gaussian = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return median * Math.exp(sigma * gaussian);
  }
}

/** Running sums of weights, for Random.weighted. */
export function cumulativeWeights(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}
