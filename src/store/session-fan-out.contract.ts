import { randomUUID } from 'node:crypto';
import type { EventQueue, FanOutRequest } from './event-queue';
import type { SessionStore } from './session-store';
import { aSession } from './session-store.contract';
import { aSubscription, ManualClock } from './subscription-store.contract';
import type { SubscriptionStore } from './subscription-store';

export interface SessionFanOutHarness {
  sessions: SessionStore;
  subscriptions: SubscriptionStore;
  queue: EventQueue;
  clock: ManualClock;
  /** Whether this backend persists the event in the same step as the session (else the caller publishes it). */
  atomic: boolean;
}

const LONG_TTL_MS = 3600_000;
const STATUS = 'org.camaraproject.webrtc-events.v0.session-status' as const;

/**
 * `SessionStore#updateAndFanOut`: a transition and its session-status event in one step, run
 * against memory (unit) and Redis (integration). `make` returns fresh, empty stores sharing a backend.
 */
export function sessionFanOutContract(name: string, make: () => Promise<SessionFanOutHarness>): void {
  describe(`SessionStore#updateAndFanOut contract (${name})`, () => {
    let h: SessionFanOutHarness;
    beforeEach(async () => {
      h = await make();
    });

    const request = (phoneNumber: string, deviceId: string, ids: number, claim?: FanOutRequest['claim']): FanOutRequest => ({
      phoneNumber,
      deviceId,
      type: STATUS,
      time: new Date(h.clock.now()).toISOString(),
      data: { status: 'Ringing' },
      ids: Array.from({ length: ids }, () => randomUUID()),
      ...(claim && { claim }),
    });
    const backlog = () => h.queue.backlog();

    it('writes the transition, and enqueues one event per matching subscription in the same step', async () => {
      const sub = aSubscription();
      const other = aSubscription({ types: ['org.camaraproject.webrtc-events.v0.session-invitation'] });
      for (const s of [sub, other]) await h.subscriptions.create(s);
      const s = aSession(h.clock.now(), { phoneNumber: sub.phoneNumber, deviceId: sub.deviceId });
      await h.sessions.create(s, LONG_TTL_MS);
      const r = await h.sessions.updateAndFanOut({ ...s, status: 'Ringing', sequenceNumber: 1 }, 1, LONG_TTL_MS, request(sub.phoneNumber, sub.deviceId, 4, { owner: 'me', leaseMs: 30_000 }));
      expect(r?.session).toMatchObject({ status: 'Ringing', version: 2 });
      expect(await h.sessions.get(s.mediaSessionId)).toMatchObject({ status: 'Ringing', version: 2 });
      if (!h.atomic) {
        expect(r?.fanOut).toBeUndefined();
        expect(await backlog()).toBe(0);
        return;
      }
      expect(r?.fanOut?.kind).toBe('enqueued');
      if (r?.fanOut?.kind !== 'enqueued') return;
      expect(r.fanOut.events.map((e) => [e.subscriptionId, e.sequence, e.data])).toEqual([[sub.id, 1, { status: 'Ringing' }]]);
      // leased to the owner that asked, with its head: the in-process hand-off
      expect(r.fanOut.claimed.map((c) => [c.subscriptionId, c.head.event.id, c.subscription?.id])).toEqual([[sub.id, r.fanOut.events[0]?.id, sub.id]]);
      expect(await backlog()).toBe(1);
    });

    it('writes neither the session nor an event on a version conflict', async () => {
      const sub = aSubscription();
      await h.subscriptions.create(sub);
      const s = aSession(h.clock.now(), { phoneNumber: sub.phoneNumber, deviceId: sub.deviceId });
      await h.sessions.create(s, LONG_TTL_MS);
      expect(await h.sessions.updateAndFanOut({ ...s, status: 'Ringing' }, 7, LONG_TTL_MS, request(sub.phoneNumber, sub.deviceId, 4))).toBeUndefined();
      expect(await h.sessions.get(s.mediaSessionId)).toMatchObject({ status: 'Initial', version: 1 });
      expect(await backlog()).toBe(0);
      // the positive control: the right version writes
      expect((await h.sessions.updateAndFanOut({ ...s, status: 'Ringing' }, 1, LONG_TTL_MS, request(sub.phoneNumber, sub.deviceId, 4)))?.session.version).toBe(2);
      expect(await backlog()).toBe(h.atomic ? 1 : 0);
    });

    it('reaches a subscription made after its last fan-out for the device', async () => {
      const first = aSubscription();
      await h.subscriptions.create(first);
      const s = aSession(h.clock.now(), { phoneNumber: first.phoneNumber, deviceId: first.deviceId });
      await h.sessions.create(s, LONG_TTL_MS);
      const one = await h.sessions.updateAndFanOut({ ...s, status: 'Ringing' }, 1, LONG_TTL_MS, request(first.phoneNumber, first.deviceId, 4));
      const second = aSubscription();
      await h.subscriptions.create(second);
      const two = await h.sessions.updateAndFanOut({ ...s, status: 'Connected' }, 2, LONG_TTL_MS, request(first.phoneNumber, first.deviceId, 4));
      expect(two?.session.version).toBe(3);
      if (!h.atomic) return expect(two?.fanOut).toBeUndefined();
      const subs = (r: typeof one) => (r?.fanOut?.kind === 'enqueued' ? r.fanOut.events.map((e) => e.subscriptionId).sort() : []);
      expect(subs(one)).toEqual([first.id]);
      expect(subs(two)).toEqual([first.id, second.id].sort());
    });

    it('writes the session but no event when more subscriptions match than event ids were given', async () => {
      const subs = [aSubscription(), aSubscription()];
      for (const sub of subs) await h.subscriptions.create(sub);
      const s = aSession(h.clock.now(), { phoneNumber: subs[0]!.phoneNumber, deviceId: subs[0]!.deviceId });
      await h.sessions.create(s, LONG_TTL_MS);
      const r = await h.sessions.updateAndFanOut({ ...s, status: 'Ringing' }, 1, LONG_TTL_MS, request(s.phoneNumber, s.deviceId!, 1));
      expect(r?.session.version).toBe(2);
      expect(await backlog()).toBe(0);
      if (h.atomic) expect(r?.fanOut).toEqual({ kind: 'need-ids', needed: 2 });
    });
  });
}
