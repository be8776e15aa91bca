import { loadConfig } from '../config/app-config';
import { ManualClock } from '../store/subscription-store.contract';
import { MemorySessionStore } from '../store/memory/memory-session.store';
import { aSession } from '../store/session-store.contract';
import { SessionQuota } from './session-quota';

describe(SessionQuota.name, () => {
  const setup = async (cap: string) => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const store = new MemorySessionStore(clock);
    const refused: string[] = [];
    const quota = new SessionQuota(loadConfig({ QUOTA_SESSIONS_PER_NUMBER: cap }), store, { limitRefused: (l) => refused.push(l) });
    await store.create(aSession(clock.now(), { status: 'Ringing', phoneNumber: '+17085852753' }), 60_000);
    await store.create(aSession(clock.now(), { status: 'Terminated', endedAt: clock.now(), phoneNumber: '+17085852753' }), 60_000);
    return { quota, refused };
  };

  it('lets a number below its cap call, counting only sessions in progress', async () => {
    const { quota } = await setup('2');
    await expect(quota.check('+17085852753')).resolves.toBeUndefined();
  });

  it('refuses the call beyond QUOTA_SESSIONS_PER_NUMBER with 429 and Retry-After, and counts it', async () => {
    const { quota, refused } = await setup('1');
    await expect(quota.check('+17085852753')).rejects.toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS', retryAfterS: expect.any(Number) });
    expect(refused).toEqual(['sessions-per-number']);
    await expect(quota.check('+17085854000')).resolves.toBeUndefined();
  });

  it('is off at 0', async () => {
    const { quota } = await setup('0');
    await expect(quota.check('+17085852753')).resolves.toBeUndefined();
  });
});
