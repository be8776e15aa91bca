import { loadConfig } from '../config/app-config';
import { quotaExceeded } from '../store/quota';
import { principal, setup } from './__testing__/sessions-harness';
import { SessionQuota } from './session-quota';

describe(SessionQuota.name, () => {
  it('asks the store for QUOTA_SESSIONS_PER_NUMBER on regular calls and for no cap on emergency calls', () => {
    const quota = new SessionQuota(loadConfig({ QUOTA_SESSIONS_PER_NUMBER: '3' }));
    expect(quota.capFor('REGULAR')).toBe(3);
    expect(quota.capFor('EMERGENCY')).toBe(0);
    expect(new SessionQuota(loadConfig({ QUOTA_SESSIONS_PER_NUMBER: '0' })).capFor('REGULAR')).toBe(0);
  });

  it("turns the store's refusal into 429 TOO_MANY_REQUESTS with Retry-After, and counts it", () => {
    const refused: string[] = [];
    const quota = new SessionQuota(loadConfig({}), { limitRefused: (l) => refused.push(l) });
    expect(quota.tooManyRequests('+17085852753', quotaExceeded(20, 20))).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS', retryAfterS: expect.any(Number) });
    quota.busy();
    expect(refused).toEqual(['sessions-per-number', 'sessions-per-number']);
  });
});

describe('POST /sessions under QUOTA_SESSIONS_PER_NUMBER', () => {
  it('refuses the call beyond the cap with 429 before any INVITE, and takes calls again once one ended', async () => {
    const { sessions, reg, body, sip } = await setup({ QUOTA_SESSIONS_PER_NUMBER: '1' });
    const first = await sessions.create(principal(), reg.registrationId, body());
    await expect(sessions.create(principal(), reg.registrationId, body())).rejects.toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
    expect(sip.calls.filter((c) => c.op === 'invite')).toHaveLength(1);
    await sessions.remove(principal(), first.mediaSessionId);
    await expect(sessions.create(principal(), reg.registrationId, body())).resolves.toMatchObject({ status: 'Initial' });
  });

  it('lets exactly the cap through when the calls are made in parallel', async () => {
    const { sessions, reg, body, sip } = await setup({ QUOTA_SESSIONS_PER_NUMBER: '2' });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => sessions.create(principal(), reg.registrationId, body())));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'rejected' && (r.reason as { status?: number }).status === 429)).toHaveLength(4);
    expect(sip.calls.filter((c) => c.op === 'invite')).toHaveLength(2);
  });
});
