import { exponentialBackoff } from './retry-schedule';

describe(exponentialBackoff.name, () => {
  it('doubles from the base and spreads the default budget over about 5 minutes', () => {
    const s = exponentialBackoff({ maxAttempts: 6, random: () => 0.5 });
    const waits = [1, 2, 3, 4, 5].map((n) => s.delayMs(n));
    expect(waits).toEqual([10_000, 20_000, 40_000, 80_000, 160_000]);
    expect(waits.reduce((a, b) => a + b, 0)).toBe(310_000);
  });

  it.each([
    [0, 8_000],
    [0.999999, 12_000],
  ])('applies ±20%% jitter (random %p → %p ms)', (r, ms) => {
    expect(exponentialBackoff({ maxAttempts: 6, random: () => r }).delayMs(1)).toBeCloseTo(ms, -1);
  });

  it('caps the delay', () => {
    expect(exponentialBackoff({ maxAttempts: 20, capMs: 60_000, random: () => 0.5 }).delayMs(10)).toBe(60_000);
  });

  it('uses Retry-After instead of the computed delay, capped', () => {
    const s = exponentialBackoff({ maxAttempts: 6, capMs: 300_000 });
    expect(s.delayMs(1, 42_000)).toBe(42_000);
    expect(s.delayMs(1, 3_600_000)).toBe(300_000);
    expect(s.delayMs(1, 0)).toBe(0);
  });
});
