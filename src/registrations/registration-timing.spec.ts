import { ApiError } from '../common/errors/api-error';
import { refreshAt, requestedExpiresS, resolveExpiry, retryDelayMs } from './registration-timing';

const policy = { minTtlS: 60, maxTtlS: 86400, defaultTtlS: 3600 };
const now = Date.parse('2026-11-28T12:00:00Z');

describe('registration timing', () => {
  it('defaults to now + the default TTL', () => {
    expect(resolveExpiry(undefined, now, policy)).toBe(now + 3600_000);
  });
  it('applies a requested expiry within bounds as-is', () => {
    expect(resolveExpiry('2026-11-28T13:30:00+01:00', now, policy)).toBe(Date.parse('2026-11-28T12:30:00Z'));
  });
  it('caps at the maximum', () => {
    expect(resolveExpiry('2027-11-28T12:00:00Z', now, policy)).toBe(now + 86400_000);
  });
  it('refuses below the minimum with OUT_OF_RANGE', () => {
    const call = () => resolveExpiry('2026-11-28T12:00:30Z', now, policy);
    expect(call).toThrow(ApiError);
    expect(call).toThrow(expect.objectContaining({ status: 400, code: 'OUT_OF_RANGE' }));
  });
  it('refreshes a minute early for long grants and half-way for short ones', () => {
    expect(refreshAt(now, 600)).toBe(now + 540_000);
    expect(refreshAt(now, 60)).toBe(now + 30_000);
  });
  it('backs off 5, 10, 20 … 60 s between failed refreshes', () => {
    expect([1, 2, 3, 4, 5, 9].map(retryDelayMs)).toEqual([5000, 10000, 20000, 40000, 60000, 60000]);
  });
  it('never asks the registrar for longer than the CAMARA expiry', () => {
    expect(requestedExpiresS(now, now + 120_000, 600)).toBe(120);
    expect(requestedExpiresS(now, now + 3600_000, 600)).toBe(600);
  });
});
