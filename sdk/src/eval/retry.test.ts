import { describe, expect, it } from 'vitest';
import { retryAfterFromHeaders } from './providers.ts';
import { backoff, sleep } from './retry.ts';

describe('Retry-After', () => {
  const now = Date.parse('2026-11-24T10:00:00Z');

  it('reads seconds, an HTTP date, and retry-after-ms first', () => {
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '7' }), now)).toBe(7000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '1.5' }), now)).toBe(1500);
    // An HTTP date 12 s after "now".
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Tue, 24 Nov 2026 10:00:12 GMT' }), now)).toBe(12_000);
    // A date already past means "now".
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Tue, 24 Nov 2026 09:59:00 GMT' }), now)).toBe(0);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterFromHeaders({ 'retry-after': '3' }, now)).toBe(3000);
  });

  it('ignores what it cannot read', () => {
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'soon' }), now)).toBeNull();
    expect(retryAfterFromHeaders(new Headers(), now)).toBeNull();
    expect(retryAfterFromHeaders(undefined, now)).toBeNull();
  });
});

describe('backoff', () => {
  it('doubles per retry, half fixed and half jitter, never above the cap', () => {
    // Retry n waits between step/2 and step, step = min(cap, base · 2^n).
    expect([0, 1, 2, 3].map((n) => backoff(1000, n, 30_000, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([0, 1, 2, 3].map((n) => backoff(1000, n, 30_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoff(1000, 10, 30_000, () => 1)).toBe(30_000);
  });

  it('a wait ends early, with false, when the signal aborts', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(await sleep(1)).toBe(true);
  });
});
