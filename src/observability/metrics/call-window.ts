/**
 * The short-memory view of call setup that the live dashboard reads: per-second counters of the
 * last 15 minutes, recent setup-time samples, and the last failures. Pure data structures; the
 * caller passes the time, so tests need no clock.
 */

/** How far back the dashboard looks. */
export const WINDOW_S = 15 * 60;

/** One second of call-setup traffic. */
export interface SecondCounts {
  /** INVITEs sent or received (session attempts, RFC 6076 §4.1). */
  attempts: number;
  /** Setups that got a 2xx. */
  answered: number;
  /** Setups that ended without a 2xx (any final ≥ 300, timeout, transport error, cancel). */
  failed: number;
  /** Of `failed`: final 3xx (redirections, excluded from SER/SEER denominators by RFC 6076). */
  redirected: number;
  /** Of `failed`: 480/486/600/603 (the far end answered "no": effective per RFC 6076 SEER). */
  effectiveFailures: number;
}

type CountKey = keyof SecondCounts;

/** A ring of `size` one-second slots; a slot is reused when its second is older than the window. */
export class PerSecondSeries {
  private readonly stamps: Float64Array;
  private readonly counts: Record<CountKey, Uint32Array>;

  constructor(private readonly size: number = WINDOW_S) {
    this.stamps = new Float64Array(size).fill(-1);
    this.counts = {
      attempts: new Uint32Array(size),
      answered: new Uint32Array(size),
      failed: new Uint32Array(size),
      redirected: new Uint32Array(size),
      effectiveFailures: new Uint32Array(size),
    };
  }

  add(nowMs: number, key: CountKey, n = 1): void {
    const second = Math.floor(nowMs / 1000);
    const i = second % this.size;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      for (const arr of Object.values(this.counts)) arr[i] = 0;
    }
    this.counts[key][i] = (this.counts[key][i] ?? 0) + n;
  }

  /** Counts for each of the last `seconds` seconds ending at `nowMs` (oldest first; empty seconds are zeros). */
  lastSeconds(nowMs: number, seconds: number = this.size): Array<{ second: number } & SecondCounts> {
    const n = Math.min(seconds, this.size);
    const end = Math.floor(nowMs / 1000);
    const out: Array<{ second: number } & SecondCounts> = [];
    for (let s = end - n + 1; s <= end; s++) {
      const i = ((s % this.size) + this.size) % this.size;
      const live = this.stamps[i] === s;
      const at = (k: CountKey): number => (live ? (this.counts[k][i] ?? 0) : 0);
      out.push({ second: s, attempts: at('attempts'), answered: at('answered'), failed: at('failed'), redirected: at('redirected'), effectiveFailures: at('effectiveFailures') });
    }
    return out;
  }

  /** Sums over the last `seconds` seconds. */
  total(nowMs: number, seconds: number): SecondCounts {
    const sum: SecondCounts = { attempts: 0, answered: 0, failed: 0, redirected: 0, effectiveFailures: 0 };
    for (const s of this.lastSeconds(nowMs, seconds)) {
      sum.attempts += s.attempts;
      sum.answered += s.answered;
      sum.failed += s.failed;
      sum.redirected += s.redirected;
      sum.effectiveFailures += s.effectiveFailures;
    }
    return sum;
  }
}

/** A fixed-capacity FIFO: pushing into a full ring drops the oldest entry. */
export class RingBuffer<T> {
  private readonly items: Array<T | undefined>;
  private next = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.length = Math.min(this.length + 1, this.capacity);
  }

  get size(): number {
    return this.length;
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.next - this.length + this.capacity) % this.capacity;
    for (let k = 0; k < this.length; k++) {
      const item = this.items[(start + k) % this.capacity];
      if (item !== undefined) out.push(item);
    }
    return out;
  }
}

/** Timestamped samples (ms values) kept for `windowMs`, at most `capacity` of them. */
export class RecentSamples {
  private readonly ring: RingBuffer<{ at: number; value: number }>;

  constructor(
    capacity: number,
    private readonly windowMs: number = WINDOW_S * 1000,
  ) {
    this.ring = new RingBuffer(capacity);
  }

  add(nowMs: number, value: number): void {
    this.ring.push({ at: nowMs, value });
  }

  /** Values recorded within the window ending at `nowMs`, oldest first. */
  values(nowMs: number): number[] {
    const from = nowMs - this.windowMs;
    return this.ring
      .toArray()
      .filter((s) => s.at > from && s.at <= nowMs)
      .map((s) => s.value);
  }
}

/**
 * Nearest-rank percentile (the smallest sample with at least p% of the samples ≤ it). `undefined`
 * when there are no samples. `p` in (0, 100].
 */
export function percentile(sortedAscending: readonly number[], p: number): number | undefined {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const n = sortedAscending.length;
  if (n === 0) return undefined;
  const rank = Math.ceil((p / 100) * n);
  return sortedAscending[Math.min(Math.max(rank, 1), n) - 1];
}

export interface Distribution {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /** Non-cumulative counts: `le` is the bucket's upper bound (ms), `null` for +Inf. */
  buckets: Array<{ le: number | null; count: number }>;
}

/** Summary of `values` (ms) against upper bounds `boundsMs` (ascending). */
export function distribution(values: readonly number[], boundsMs: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const buckets: Array<{ le: number | null; count: number }> = boundsMs.map((le) => ({ le, count: 0 }));
  buckets.push({ le: null, count: 0 });
  for (const v of sorted) {
    const idx = boundsMs.findIndex((le) => v <= le);
    const b = buckets[idx === -1 ? buckets.length - 1 : idx];
    if (b) b.count++;
  }
  const pick = (p: number): number | null => percentile(sorted, p) ?? null;
  return { count: sorted.length, p50: pick(50), p95: pick(95), p99: pick(99), max: sorted[sorted.length - 1] ?? null, buckets };
}
