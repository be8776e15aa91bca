/** When to try a failed event again, and when to give up. */
export interface RetrySchedule {
  /** Total attempts per event, the first one included. */
  readonly maxAttempts: number;
  /** Delay before attempt `failedAttempts + 1`; `retryAfterMs` is the sink's `Retry-After`, if any. */
  delayMs(failedAttempts: number, retryAfterMs?: number): number;
}

export interface BackoffOptions {
  maxAttempts: number;
  /** Delay after the first failure (before jitter). */
  baseMs?: number;
  /** No delay (Retry-After included) exceeds this. */
  capMs?: number;
  /** ± fraction applied to each computed delay. */
  jitter?: number;
  random?: () => number;
}

/**
 * Exponential backoff with jitter: base·2^(n-1) ± jitter, capped. With the defaults (6 attempts,
 * 10 s base) the five waits are ~10, 20, 40, 80, 160 s: the budget spans about 5 minutes.
 * A `Retry-After` replaces the computed delay (capped), so a 429/503 sink sets the pace.
 */
export function exponentialBackoff(opts: BackoffOptions): RetrySchedule {
  const { maxAttempts, baseMs = 10_000, capMs = 300_000, jitter = 0.2, random = Math.random } = opts;
  return {
    maxAttempts,
    delayMs(failedAttempts: number, retryAfterMs?: number): number {
      if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), capMs);
      const raw = baseMs * 2 ** Math.max(0, failedAttempts - 1);
      const jittered = raw * (1 - jitter + 2 * jitter * random());
      return Math.round(Math.min(jittered, capMs));
    },
  };
}
