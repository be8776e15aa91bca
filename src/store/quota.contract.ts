import { randomUUID } from 'node:crypto';
import { isQuotaExceeded, quotaExceeded } from './quota';
import type { RegistrationStore } from './registration-store';
import { aRegistration } from './registration-store.contract';
import type { SessionStore } from './session-store';
import { aSession } from './session-store.contract';
import type { SubscriptionStore } from './subscription-store';
import { aSubscription, ManualClock } from './subscription-store.contract';

export interface QuotaHarness {
  registrations: RegistrationStore;
  sessions: SessionStore;
  subscriptions: SubscriptionStore;
  /** The clock every store of the harness reads. */
  clock: ManualClock;
}

const TTL = 60_000;
const PARALLEL = 50;
const CAP = 10;

/** `n` calls started together (none awaits another), settled in order. */
const inParallel = <T>(n: number, call: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, (_, i) => call(i)));

/**
 * The per-owner caps of issue #13, checked and applied in the same atomic step as the insert: run
 * by the memory unit spec and by the Redis integration tests (single node and Cluster). The
 * parallel cases start every create before any answers; against Redis they race in the server.
 */
export function quotaContract(name: string, setup: () => Promise<QuotaHarness>): void {
  describe(`store quotas (${name})`, () => {
    let h: QuotaHarness;
    let number: string;
    beforeEach(async () => {
      h = await setup();
      // a number of its own per test: stores may share a server
      number = `+1708${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    });

    describe('registrations per number', () => {
      it('refuses the registration beyond the cap, writes nothing, and frees a slot on delete', async () => {
        const now = h.clock.now();
        const a = aRegistration(now, { phoneNumber: number });
        expect(await h.registrations.create(a, 2)).toBe(true);
        expect(await h.registrations.create(aRegistration(now, { phoneNumber: number }), 2)).toBe(true);
        const third = aRegistration(now, { phoneNumber: number });
        expect(await h.registrations.create(third, 2)).toEqual(quotaExceeded(2, 2));
        expect(await h.registrations.get(third.registrationId)).toBeUndefined();
        expect(await h.registrations.findByDevice(number, third.deviceId)).toBeUndefined();
        expect(await h.registrations.create(aRegistration(now, { phoneNumber: number.replace('+1708', '+1709') }), 2)).toBe(true);
        expect(await h.registrations.create(third, 0)).toBe(true);
        expect(await h.registrations.delete(a.registrationId)).toBe(true);
        expect(await h.registrations.delete(third.registrationId)).toBe(true);
        expect(await h.registrations.create(aRegistration(now, { phoneNumber: number }), 2)).toBe(true);
      });

      it('answers "exists" before "quota" for a device that already has one', async () => {
        const a = aRegistration(h.clock.now(), { phoneNumber: number });
        expect(await h.registrations.create(a, 1)).toBe(true);
        expect(await h.registrations.create({ ...a, registrationId: randomUUID() }, 1)).toBe(false);
      });

      it('does not count a registration past its expiresAt', async () => {
        const now = h.clock.now();
        expect(await h.registrations.create(aRegistration(now, { phoneNumber: number, expiresAt: now + 1000 }), 1)).toBe(true);
        expect(isQuotaExceeded(await h.registrations.create(aRegistration(now, { phoneNumber: number }), 1))).toBe(true);
        h.clock.advance(1001);
        expect(await h.registrations.create(aRegistration(h.clock.now(), { phoneNumber: number }), 1)).toBe(true);
      });

      it(`lets exactly ${CAP} of ${PARALLEL} parallel creates through`, async () => {
        const now = h.clock.now();
        const results = await inParallel(PARALLEL, () => h.registrations.create(aRegistration(now, { phoneNumber: number }), CAP));
        expect(results.filter((r) => r === true)).toHaveLength(CAP);
        expect(results.filter(isQuotaExceeded)).toHaveLength(PARALLEL - CAP);
        expect(await h.registrations.countActiveByNumber(number, now)).toBe(CAP);
      });
    });

    describe('sessions in progress per number', () => {
      it('refuses a non-final session beyond the cap, stores a final one, and frees a slot when one ends', async () => {
        const now = h.clock.now();
        const a = aSession(now, { phoneNumber: number, status: 'Ringing' });
        expect(await h.sessions.create(a, TTL, 2)).toBeUndefined();
        expect(await h.sessions.create(aSession(now, { phoneNumber: number }), TTL, 2)).toBeUndefined();
        const third = aSession(now, { phoneNumber: number });
        expect(await h.sessions.create(third, TTL, 2)).toEqual(quotaExceeded(2, 2));
        expect(await h.sessions.get(third.mediaSessionId)).toBeUndefined();
        const ended = aSession(now, { phoneNumber: number, status: 'Failed', endedAt: now });
        expect(await h.sessions.create(ended, TTL, 2)).toBeUndefined();
        expect(await h.sessions.get(ended.mediaSessionId)).toBeDefined();
        expect(await h.sessions.create(aSession(now, { phoneNumber: number.replace('+1708', '+1709') }), TTL, 2)).toBeUndefined();
        await h.sessions.update({ ...a, status: 'Terminated', endedAt: now }, 1, TTL);
        expect(await h.sessions.create(third, TTL, 2)).toBeUndefined();
        expect(isQuotaExceeded(await h.sessions.create(aSession(now, { phoneNumber: number }), TTL, 2))).toBe(true);
        expect(await h.sessions.create(aSession(now, { phoneNumber: number }), TTL, 0)).toBeUndefined();
      });

      it(`lets exactly ${CAP} of ${PARALLEL} parallel creates through`, async () => {
        const now = h.clock.now();
        const results = await inParallel(PARALLEL, () => h.sessions.create(aSession(now, { phoneNumber: number }), TTL, CAP));
        expect(results.filter((r) => r === undefined)).toHaveLength(CAP);
        expect(results.filter(isQuotaExceeded)).toHaveLength(PARALLEL - CAP);
        expect(await h.sessions.countActiveByNumber(number)).toBe(CAP);
      });
    });

    describe('subscriptions per device', () => {
      const deviceId = '0b6e4e4c-7d3a-4c39-9a0e-4d5f7e8a9b10';

      it('refuses the subscription beyond the cap, writes nothing, and frees a slot when one ends', async () => {
        const mine = { owner: number, phoneNumber: number, deviceId };
        const a = aSubscription(mine);
        expect(await h.subscriptions.create(a, 2)).toBeUndefined();
        expect(await h.subscriptions.create(aSubscription(mine), 2)).toBeUndefined();
        const third = aSubscription(mine);
        expect(await h.subscriptions.create(third, 2)).toEqual(quotaExceeded(2, 2));
        expect(await h.subscriptions.get(third.id)).toBeUndefined();
        expect(await h.subscriptions.findByDevice(number, deviceId)).toHaveLength(2);
        expect(await h.subscriptions.create(aSubscription({ ...mine, deviceId: randomUUID() }), 2)).toBeUndefined();
        expect(await h.subscriptions.end(a.id, 'SUBSCRIPTION_DELETED')).toBeDefined();
        expect(await h.subscriptions.create(third, 2)).toBeUndefined();
        expect(isQuotaExceeded(await h.subscriptions.create(aSubscription(mine), 2))).toBe(true);
        await h.subscriptions.purge(third.id);
        expect(await h.subscriptions.create(aSubscription(mine), 2)).toBeUndefined();
      });

      it('does not count a subscription past its endsAt, and follows an update of endsAt', async () => {
        const mine = { owner: number, phoneNumber: number, deviceId };
        const now = h.clock.now();
        const short = aSubscription({ ...mine, endsAt: now + 1000 });
        expect(await h.subscriptions.create(short, 1)).toBeUndefined();
        expect(isQuotaExceeded(await h.subscriptions.create(aSubscription(mine), 1))).toBe(true);
        const longer = await h.subscriptions.update({ ...short, endsAt: now + 5000 }, 1);
        expect(longer).toBeDefined();
        h.clock.advance(1001);
        expect(isQuotaExceeded(await h.subscriptions.create(aSubscription(mine), 1))).toBe(true);
        h.clock.advance(4000);
        expect(await h.subscriptions.create(aSubscription(mine), 1)).toBeUndefined();
      });

      it(`lets exactly ${CAP} of ${PARALLEL} parallel creates through`, async () => {
        const mine = { owner: number, phoneNumber: number, deviceId };
        const results = await inParallel(PARALLEL, () => h.subscriptions.create(aSubscription(mine), CAP));
        expect(results.filter((r) => r === undefined)).toHaveLength(CAP);
        expect(results.filter(isQuotaExceeded)).toHaveLength(PARALLEL - CAP);
        expect(await h.subscriptions.findByDevice(number, deviceId)).toHaveLength(CAP);
      });
    });
  });
}
