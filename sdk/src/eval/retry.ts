// One retry policy for every provider (their SDKs' own retries are off): 429, 408/409, 5xx and network failures
// are retried, waiting what the provider asked for (Retry-After) or an exponential backoff with jitter, never
// longer than the cap. A wait is cut short by cancellation.
import type { ModelCallResult, ModelError } from './providers.ts';

export interface RetryPolicy {
  /** Retries after the first attempt. Default 3. */
  maxRetries?: number;
  /** The first backoff when the provider did not say how long to wait. Default 1000 ms. */
  baseDelayMs?: number;
  /** The longest wait. A provider asking for more is not retried. Default 30000 ms. */
  maxDelayMs?: number;
}

export interface RetriedCall {
  result: ModelCallResult;
  /** Attempts made, the first included. */
  attempts: number;
}

export async function callWithRetries(attempt: () => Promise<ModelCallResult>, policy: RetryPolicy = {}, signal?: AbortSignal): Promise<RetriedCall> {
  const { value, attempts } = await withRetries(attempt, (result) => result.error, policy, signal);
  return { result: value, attempts };
}

/** Retries `attempt` while `errorOf` finds a retryable error in what it returned. */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  errorOf: (value: T) => ModelError | null,
  policy: RetryPolicy = {},
  signal?: AbortSignal,
): Promise<{ value: T; attempts: number }> {
  const maxRetries = policy.maxRetries ?? 3;
  const base = policy.baseDelayMs ?? 1000;
  const cap = policy.maxDelayMs ?? 30_000;
  let attempts = 0;
  for (;;) {
    const value = await attempt();
    attempts++;
    const error = errorOf(value);
    if (!error || !error.retryable || attempts > maxRetries || signal?.aborted) return { value, attempts };
    const wait = error.retryAfterMs ?? backoff(base, attempts - 1, cap);
    if (wait > cap) {
      error.message += ` (the provider asked to wait ${Math.round(wait / 1000)} s, more than the ${Math.round(cap / 1000)} s cap; not retried)`;
      return { value, attempts };
    }
    if (!(await sleep(wait, signal))) return { value, attempts };
  }
}

/** Exponential backoff with "equal jitter": half the step fixed, half random, so retries spread out. */
export function backoff(baseMs: number, retry: number, capMs: number, random: () => number = Math.random): number {
  const step = Math.min(capMs, baseMs * 2 ** retry);
  return step / 2 + random() * (step / 2);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
