import { randomUUID } from 'node:crypto';
import type { Registration, RegistrationStore } from './registration-store';
import { REGISTRATION_GRACE_MS } from './registration-store';

/** A registration as a test would create it; `over` replaces fields. */
export function aRegistration(now: number, over: Partial<Registration> = {}): Registration {
  return {
    registrationId: randomUUID(),
    deviceId: randomUUID(),
    phoneNumber: '+17085852753',
    createdAt: now,
    expiresAt: now + 3600_000,
    binding: { callId: randomUUID(), cseq: 1, contact: 'sip:x@127.0.0.1:5070' },
    networkExpiresAt: now + 600_000,
    dueAt: now + 540_000,
    refreshFailures: 0,
    version: 0,
    ...over,
  };
}

/**
 * One behaviour, two backends: run by the memory store's unit spec and by the Redis integration
 * test. `setup` returns a fresh, empty store and a way to move its clock.
 */
export function registrationStoreContract(name: string, setup: () => Promise<{ store: RegistrationStore; now: () => number; advance?: (ms: number) => Promise<void> }>): void {
  describe(`RegistrationStore contract (${name})`, () => {
    let store: RegistrationStore;
    let now: () => number;
    let advance: ((ms: number) => Promise<void>) | undefined;
    beforeEach(async () => {
      ({ store, now, advance } = await setup());
    });

    it('creates and reads back a registration with version 1', async () => {
      const r = aRegistration(now());
      expect(await store.create(r)).toBe(true);
      const got = await store.get(r.registrationId);
      expect(got).toEqual({ ...r, version: 1 });
      expect(await store.findByDevice(r.phoneNumber, r.deviceId)).toEqual({ ...r, version: 1 });
      expect(await store.hasDevice(r.phoneNumber, r.deviceId)).toBe(true);
      // another device of the same number, and the same device id of another number, have none
      expect(await store.hasDevice(r.phoneNumber, `${r.deviceId}-other`)).toBe(false);
      expect(await store.hasDevice('+15550000000', r.deviceId)).toBe(false);
    });

    it('keeps the IMS facts of the binding through create and update (TS 24.229 §5.1.1.2.2)', async () => {
      const ims = {
        serviceRoute: ['sip:orig@10.0.0.1;lr'],
        associatedUris: ['sip:+17085852753@ims.lab', 'tel:+17085852753'],
        path: ['sip:p@10.0.0.9;lr'],
        pubGruu: 'sip:+17085852753@ims.lab;gr=urn:uuid:1',
      };
      const r = aRegistration(now(), { binding: { callId: 'c', cseq: 1, contact: 'sip:x@127.0.0.1:5070', ims } });
      await store.create(r);
      expect((await store.get(r.registrationId))?.binding.ims).toEqual(ims);
      const refreshed = { ...ims, serviceRoute: ['sip:orig2@10.0.0.3;lr'], tempGruu: 'sip:t1@ims.lab;gr' };
      await store.update({ ...r, version: 1, binding: { ...r.binding, cseq: 2, ims: refreshed } }, 1);
      expect((await store.get(r.registrationId))?.binding.ims).toEqual(refreshed);
    });

    it('keeps the reg event subscription (RFC 3680) through create and update', async () => {
      const dialog = {
        callId: 'reg-0123456789abcdef-r1',
        role: 'uac' as const,
        localTag: 'lt',
        remoteTag: 'rt',
        localUri: 'sip:+17085852753@ims.lab',
        remoteUri: 'sip:+17085852753@ims.lab',
        localSeq: 1,
        remoteTarget: 'sip:scscf@10.0.0.2',
        routeSet: ['sip:pcscf@10.0.0.1;lr'],
        localContact: 'sip:x@127.0.0.1:5070',
        state: 'confirmed' as const,
      };
      const r = aRegistration(now(), { regEvent: { dueAt: now(), registerDueAt: now() + 540_000, failures: 0 } });
      await store.create(r);
      expect((await store.get(r.registrationId))?.regEvent).toEqual(r.regEvent);
      const regEvent = { dialog, expiresAt: now() + 600_000_000, dueAt: now() + 599_940_000, registerDueAt: now() + 540_000, failures: 0, version: { callId: dialog.callId, value: 3 } };
      await store.update({ ...r, version: 1, regEvent }, 1);
      expect((await store.get(r.registrationId))?.regEvent).toEqual(regEvent);
    });

    it('refuses a second registration for the same (phoneNumber, deviceId)', async () => {
      const r = aRegistration(now());
      expect(await store.create(r)).toBe(true);
      expect(await store.create(aRegistration(now(), { deviceId: r.deviceId }))).toBe(false);
      expect(await store.create(aRegistration(now(), { deviceId: r.deviceId, phoneNumber: '+17085854000' }))).toBe(true);
    });

    it('updates with compare-and-set on the version', async () => {
      const r = aRegistration(now());
      await store.create(r);
      const v1 = (await store.get(r.registrationId))!;
      const saved = await store.update({ ...v1, refreshFailures: 2 }, 1);
      expect(saved?.version).toBe(2);
      expect(await store.update({ ...v1, refreshFailures: 3 }, 1)).toBeUndefined();
      expect((await store.get(r.registrationId))?.refreshFailures).toBe(2);
    });

    it('deletes a registration and frees its device for a new one', async () => {
      const r = aRegistration(now());
      await store.create(r);
      expect(await store.delete(r.registrationId, 99)).toBe(false);
      expect(await store.delete(r.registrationId)).toBe(true);
      expect(await store.get(r.registrationId)).toBeUndefined();
      expect(await store.findByDevice(r.phoneNumber, r.deviceId)).toBeUndefined();
      expect(await store.hasDevice(r.phoneNumber, r.deviceId)).toBe(false);
      expect(await store.create(aRegistration(now(), { deviceId: r.deviceId }))).toBe(true);
      expect(await store.delete(r.registrationId)).toBe(false);
    });

    it('leases due registrations to one claimer at a time', async () => {
      const due = aRegistration(now(), { dueAt: now() - 1 });
      const later = aRegistration(now(), { dueAt: now() + 60_000 });
      await store.create(due);
      await store.create(later);
      const first = await store.claimDue(now(), 10, 30_000);
      expect(first.map((r) => r.registrationId)).toEqual([due.registrationId]);
      expect(await store.claimDue(now(), 10, 30_000)).toEqual([]);
      // an update (new dueAt) ends the lease
      await store.update({ ...first[0]!, dueAt: now() - 1 }, first[0]!.version);
      expect((await store.claimDue(now(), 10, 30_000)).map((r) => r.registrationId)).toEqual([due.registrationId]);
    });

    it('gives a lease back after it expires (a crashed claimer)', async () => {
      const due = aRegistration(now(), { dueAt: now() - 1 });
      await store.create(due);
      expect(await store.claimDue(now(), 10, 1000)).toHaveLength(1);
      expect(await store.claimDue(now() + 1001, 10, 1000)).toHaveLength(1);
    });

    it('counts registrations', async () => {
      await store.create(aRegistration(now()));
      await store.create(aRegistration(now()));
      expect(await store.count()).toBe(2);
    });

    it('counts the active registrations of one number (quota)', async () => {
      const a = aRegistration(now());
      await store.create(a);
      await store.create(aRegistration(now()));
      await store.create(aRegistration(now(), { expiresAt: now() + 500 }));
      await store.create(aRegistration(now(), { phoneNumber: '+17085854000' }));
      expect(await store.countActiveByNumber('+17085852753', now())).toBe(3);
      expect(await store.countActiveByNumber('+17085852753', now() + 1000)).toBe(2);
      await store.delete(a.registrationId);
      expect(await store.countActiveByNumber('+17085852753', now())).toBe(2);
      expect(await store.countActiveByNumber('+15550000000', now())).toBe(0);
    });

    it('forgets a registration a grace period after it expired', async () => {
      if (!advance) return;
      const r = aRegistration(now(), { expiresAt: now() + 1000 });
      await store.create(r);
      expect(await store.hasDevice(r.phoneNumber, r.deviceId)).toBe(true);
      await advance(1000 + REGISTRATION_GRACE_MS + 10);
      expect(await store.get(r.registrationId)).toBeUndefined();
      expect(await store.findByDevice(r.phoneNumber, r.deviceId)).toBeUndefined();
      expect(await store.hasDevice(r.phoneNumber, r.deviceId)).toBe(false);
    });
  });
}
