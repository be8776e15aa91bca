import { Clock } from '../common/clock';
import type { EventQueue } from './event-queue';
import type { StoredSubscription, SubscriptionStore } from './subscription-store';

/** A clock tests move by hand. */
export class ManualClock extends Clock {
  constructor(private t = Date.UTC(2030, 0, 1)) {
    super();
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface SubscriptionStoreHarness {
  store: SubscriptionStore;
  queue: EventQueue;
  clock: ManualClock;
}

let n = 0;
export function aSubscription(over: Partial<StoredSubscription> = {}): StoredSubscription {
  n += 1;
  return {
    id: `sub-${n}-${Math.random().toString(36).slice(2, 8)}`,
    owner: '+34600000001',
    phoneNumber: '+34600000001',
    deviceId: '7d444840-9dc0-11d1-b245-5ffdce74fad2',
    protocol: 'HTTP',
    sink: 'https://sink.example.com/events',
    types: ['org.camaraproject.webrtc-events.v0.session-status'],
    startsAt: '2030-01-01T00:00:00.000Z',
    state: 'ACTIVE',
    version: 0,
    ...over,
  };
}

const event = (subscriptionId: string, id: string) => ({
  id,
  subscriptionId,
  type: 'org.camaraproject.webrtc-events.v0.session-status' as const,
  time: '2030-01-01T00:00:00.000Z',
  data: { mediaSessionId: 'm1', status: 'Ringing', nested: { list: [] as unknown[] } },
});

/**
 * The behaviour every SubscriptionStore and EventQueue must show, run against memory (unit) and
 * Redis (integration). `make` returns a fresh, empty store each time.
 */
export function subscriptionStoreContract(name: string, make: () => Promise<SubscriptionStoreHarness>): void {
  describe(`${name} SubscriptionStore contract`, () => {
    let h: SubscriptionStoreHarness;
    beforeEach(async () => {
      h = await make();
    });

    it('stores a subscription at version 1 and returns copies', async () => {
      const s = aSubscription();
      await h.store.create(s);
      const got = await h.store.get(s.id);
      expect(got).toEqual({ ...s, version: 1, state: 'ACTIVE' });
      got!.types.push('org.camaraproject.webrtc-events.v0.registration-ends');
      expect((await h.store.get(s.id))!.types).toHaveLength(1);
    });

    it('finds ACTIVE subscriptions by (phoneNumber, deviceId) and by owner', async () => {
      const a = aSubscription();
      const b = aSubscription({ types: ['org.camaraproject.webrtc-events.v0.session-invitation'] });
      const other = aSubscription({ owner: '+34600000002', phoneNumber: '+34600000002' });
      const otherDevice = aSubscription({ deviceId: '3fa85f64-5717-4562-b3fc-2c963f66afa6' });
      for (const s of [a, b, other, otherDevice]) await h.store.create(s);
      const ids = (xs: StoredSubscription[]) => xs.map((x) => x.id).sort();
      expect(ids(await h.store.findByDevice(a.phoneNumber, a.deviceId))).toEqual([a.id, b.id].sort());
      expect(ids(await h.store.listByOwner(a.owner))).toEqual([a.id, b.id, otherDevice.id].sort());
      expect(ids(await h.store.listByOwner('+34999999999'))).toEqual([]);
    });

    it('hides subscriptions past endsAt from fan-out and listing', async () => {
      const s = aSubscription({ endsAt: h.clock.now() + 1000 });
      await h.store.create(s);
      expect(await h.store.findByDevice(s.phoneNumber, s.deviceId)).toHaveLength(1);
      h.clock.advance(1000);
      expect(await h.store.findByDevice(s.phoneNumber, s.deviceId)).toHaveLength(0);
      expect(await h.store.listByOwner(s.owner)).toHaveLength(0);
    });

    it('updates with compare-and-set', async () => {
      const s = aSubscription();
      await h.store.create(s);
      const next = { ...s, subscriptionExpireTime: '2031-01-01T00:00:00Z', endsAt: Date.UTC(2031, 0, 1) };
      const updated = await h.store.update(next, 1);
      expect(updated?.version).toBe(2);
      expect(await h.store.update(next, 1)).toBeUndefined();
      expect((await h.store.get(s.id))?.subscriptionExpireTime).toBe('2031-01-01T00:00:00Z');
    });

    it('ends a subscription once: it leaves every index but stays readable until purged', async () => {
      const s = aSubscription({ endsAt: h.clock.now() + 60_000 });
      await h.store.create(s);
      const ended = await h.store.end(s.id, 'SUBSCRIPTION_DELETED');
      expect(ended).toMatchObject({ id: s.id, state: 'ENDED', terminationReason: 'SUBSCRIPTION_DELETED' });
      expect(await h.store.end(s.id, 'SUBSCRIPTION_EXPIRED')).toBeUndefined();
      expect(await h.store.findByDevice(s.phoneNumber, s.deviceId)).toEqual([]);
      expect(await h.store.listByOwner(s.owner)).toEqual([]);
      expect(await h.store.update({ ...s }, ended!.version)).toBeUndefined();
      expect(await h.store.claimDue(h.clock.now() + 120_000, 10, 1000)).toEqual([]);
      expect((await h.store.get(s.id))?.state).toBe('ENDED');
      await h.store.purge(s.id);
      expect(await h.store.get(s.id)).toBeUndefined();
    });

    it('leases due subscriptions to one claimer at a time', async () => {
      const now = h.clock.now();
      const due = aSubscription({ endsAt: now + 10 });
      const later = aSubscription({ endsAt: now + 10_000 });
      const never = aSubscription();
      for (const s of [due, later, never]) await h.store.create(s);
      expect((await h.store.claimDue(now + 10, 10, 5000)).map((s) => s.id)).toEqual([due.id]);
      expect(await h.store.claimDue(now + 20, 10, 5000)).toEqual([]);
      expect((await h.store.claimDue(now + 5010, 10, 5000)).map((s) => s.id)).toEqual([due.id]);
    });

    it('moves the expiry index on update', async () => {
      const now = h.clock.now();
      const s = aSubscription({ endsAt: now + 10 });
      await h.store.create(s);
      await h.store.update({ ...s, endsAt: undefined }, 1);
      expect(await h.store.claimDue(now + 100_000, 10, 1000)).toEqual([]);
    });
  });

  describe(`${name} EventQueue contract`, () => {
    let h: SubscriptionStoreHarness;
    beforeEach(async () => {
      h = await make();
    });
    /** Ids of the queues a poll (`claimReadyHeads`) leases to `owner`. */
    const claimIds = async (now: number, owner: string, leaseMs = 1000): Promise<string[]> => (await h.queue.claimReadyHeads(now, 10, leaseMs, owner)).map((c) => c.subscriptionId).sort();

    it('keeps events in order with per-subscription sequence numbers', async () => {
      const a = await h.queue.enqueue(event('s1', 'e1'));
      const b = await h.queue.enqueue(event('s1', 'e2'));
      const c = await h.queue.enqueue(event('s2', 'e3'));
      expect([a.sequence, b.sequence, c.sequence]).toEqual([1, 2, 1]);
      const heads = await h.queue.claimReadyHeads(h.clock.now(), 10, 1000, 'A');
      expect(heads.map((x) => x.head).sort((x, y) => x.event.id.localeCompare(y.event.id))).toEqual([
        { event: { ...event('s1', 'e1'), sequence: 1 }, attempts: 0 },
        { event: { ...event('s2', 'e3'), sequence: 1 }, attempts: 0 },
      ]);
      expect(await h.queue.backlog()).toBe(3);
    });

    it('leases a ready subscription to one owner; ack pops the head', async () => {
      const now = h.clock.now();
      await h.queue.enqueue(event('s1', 'e1'));
      await h.queue.enqueue(event('s1', 'e2'));
      expect(await claimIds(now, 'A')).toEqual(['s1']);
      expect(await claimIds(now, 'B')).toEqual([]);
      expect(await h.queue.ack('s1', 'e1', 'B')).toBe(false);
      expect(await h.queue.ack('s1', 'e2', 'A')).toBe(false);
      expect(await h.queue.ack('s1', 'e1', 'A')).toBe(true);
      expect(await h.queue.backlog()).toBe(1);
      await h.queue.release('s1', 'A', now);
      expect((await h.queue.claimReadyHeads(now, 10, 1000, 'B')).map((c) => c.head.event.id)).toEqual(['e2']);
    });

    it('defers a failed head with its attempt count, then makes it ready again', async () => {
      const now = h.clock.now();
      await h.queue.enqueue(event('s1', 'e1'));
      await claimIds(now, 'A');
      expect(await h.queue.retryAt('s1', 'e1', 1, now + 500, 'A')).toBe(true);
      expect(await claimIds(now + 499, 'B')).toEqual([]);
      expect((await h.queue.claimReadyHeads(now + 500, 10, 1000, 'B')).map((c) => c.head)).toMatchObject([{ attempts: 1, event: { id: 'e1' } }]);
      expect(await h.queue.ack('s1', 'e1', 'B')).toBe(true);
      await h.queue.enqueue(event('s1', 'e2'));
      await h.queue.release('s1', 'B', now + 500);
      expect((await h.queue.claimReadyHeads(now + 500, 10, 1000, 'C')).map((c) => c.head)).toMatchObject([{ attempts: 0, event: { id: 'e2', sequence: 2 } }]);
    });

    it('release makes a non-empty queue ready at the given time', async () => {
      const now = h.clock.now();
      await h.queue.enqueue(event('s1', 'e1'));
      await claimIds(now, 'A', 60_000);
      await h.queue.release('s1', 'A', now);
      expect(await claimIds(now, 'B', 60_000)).toEqual(['s1']);
      expect(await h.queue.renew('s1', 'B', 60_000)).toBe(true);
      expect(await h.queue.renew('s1', 'A', 60_000)).toBe(false);
    });

    it('releaseAllOf ends every live lease of one (lost) owner, and only those: its queues are ready at once', async () => {
      const now = h.clock.now();
      await h.queue.enqueue(event('s1', 'e1'));
      await h.queue.enqueue(event('s2', 'e2'));
      expect(await claimIds(now, 'lost', 60_000)).toEqual(['s1', 's2']);
      await h.queue.enqueue(event('s3', 'e3'));
      expect(await claimIds(now, 'alive', 60_000)).toEqual(['s3']);
      expect(await claimIds(now, 'B', 60_000)).toEqual([]);
      expect((await h.queue.releaseAllOf('lost', now)).sort()).toEqual(['s1', 's2']);
      expect(await claimIds(now, 'B', 60_000)).toEqual(['s1', 's2']);
      expect(await h.queue.renew('s3', 'alive', 60_000)).toBe(true);
      expect(await h.queue.releaseAllOf('lost', now)).toEqual([]);
    });

    const fan = (sub: StoredSubscription, ids: string[], claim?: { owner: string; leaseMs: number }) => ({
      phoneNumber: sub.phoneNumber,
      deviceId: sub.deviceId,
      type: 'org.camaraproject.webrtc-events.v0.session-status' as const,
      time: '2030-01-01T00:00:00.000Z',
      data: { mediaSessionId: 'm1', status: 'Ringing', nested: { list: [] as unknown[] } },
      correlator: 'c-1',
      ids,
      ...(claim ? { claim } : {}),
    });

    it('fanOut: one event per ACTIVE subscription of the device that asked for the type, atomically with the lookup', async () => {
      const a = aSubscription();
      const b = aSubscription();
      const otherType = aSubscription({ types: ['org.camaraproject.webrtc-events.v0.session-invitation'] });
      const otherDevice = aSubscription({ deviceId: '3fa85f64-5717-4562-b3fc-2c963f66afa6' });
      const past = aSubscription({ endsAt: h.clock.now() + 10 });
      const ended = aSubscription();
      for (const s of [a, b, otherType, otherDevice, past, ended]) await h.store.create(s);
      await h.store.end(ended.id, 'SUBSCRIPTION_DELETED');
      h.clock.advance(10);
      const r = await h.queue.fanOut(fan(a, ['e1', 'e2', 'e3']));
      expect(r.kind).toBe('enqueued');
      if (r.kind !== 'enqueued') return;
      expect(r.claimed).toEqual([]);
      expect(r.events.map((e) => e.subscriptionId).sort()).toEqual([a.id, b.id].sort());
      expect(r.events.map((e) => e.id)).toEqual(['e1', 'e2']);
      for (const e of r.events) expect(e).toEqual({ ...event(e.subscriptionId, e.id), correlator: 'c-1', sequence: 1 });
      const heads = await h.queue.claimReadyHeads(h.clock.now(), 10, 1000, 'A');
      expect(heads.map((c) => c.head).sort((x, y) => x.event.id.localeCompare(y.event.id))).toEqual(r.events.map((event) => ({ event, attempts: 0 })));
      expect(await h.queue.backlog()).toBe(2);
      for (const c of heads) await h.queue.release(c.subscriptionId, 'A', h.clock.now());
      const again = await h.queue.fanOut(fan(a, ['e4', 'e5']));
      expect(again.kind === 'enqueued' && again.events.map((e) => e.sequence)).toEqual([2, 2]);
      expect(await claimIds(h.clock.now(), 'B')).toEqual([a.id, b.id].sort());
    });

    it('fanOut asks for more ids, writing nothing, when more subscriptions match', async () => {
      const a = aSubscription();
      await h.store.create(a);
      await h.store.create(aSubscription());
      expect(await h.queue.fanOut(fan(a, ['e1']))).toEqual({ kind: 'need-ids', needed: 2 });
      expect(await h.queue.backlog()).toBe(0);
      expect(await h.queue.fanOut({ ...fan(a, []), phoneNumber: '+34999999999' })).toEqual({ kind: 'enqueued', events: [], claimed: [] });
    });

    it('fanOut with claim leases a free queue to the owner and returns its head and subscription', async () => {
      const a = aSubscription();
      await h.store.create(a);
      const r = await h.queue.fanOut(fan(a, ['e1'], { owner: 'A', leaseMs: 1000 }));
      expect(r.kind === 'enqueued' && r.claimed).toEqual([
        { subscriptionId: a.id, head: { event: { ...event(a.id, 'e1'), correlator: 'c-1', sequence: 1 }, attempts: 0 }, subscription: { ...a, version: 1, state: 'ACTIVE' } },
      ]);
      // Leased: nobody else claims it, and a second fan-out does not hand it off again.
      expect(await claimIds(h.clock.now(), 'B')).toEqual([]);
      const second = await h.queue.fanOut(fan(a, ['e2'], { owner: 'A', leaseMs: 1000 }));
      expect(second.kind === 'enqueued' && second.claimed).toEqual([]);
      // ackAndNext: the burst is drained under the same lease.
      expect(await h.queue.ackAndNext(a.id, 'e2', 'A', 1000)).toEqual({ kind: 'lost' });
      expect(await h.queue.ackAndNext(a.id, 'e1', 'B', 1000)).toEqual({ kind: 'lost' });
      const next = await h.queue.ackAndNext(a.id, 'e1', 'A', 1000);
      expect(next).toMatchObject({ kind: 'next', next: { subscriptionId: a.id, head: { event: { id: 'e2', sequence: 2 }, attempts: 0 }, subscription: { id: a.id, version: 1 } } });
      h.clock.advance(900);
      expect(await claimIds(h.clock.now(), 'B')).toEqual([]); // the lease was extended
      expect(await h.queue.ackAndNext(a.id, 'e2', 'A', 1000)).toEqual({ kind: 'empty' });
      expect(await h.queue.backlog()).toBe(0);
      // Empty: the lease has ended, the next fan-out claims again (for anyone).
      const third = await h.queue.fanOut(fan(a, ['e3'], { owner: 'B', leaseMs: 1000 }));
      expect(third.kind === 'enqueued' && third.claimed.map((c) => [c.subscriptionId, c.head.event.id])).toEqual([[a.id, 'e3']]);
    });

    it('fanOut with claim does not take a queue whose head waits for a retry, and hands off the oldest event first', async () => {
      const a = aSubscription();
      await h.store.create(a);
      const now = h.clock.now();
      await h.queue.fanOut(fan(a, ['e1']));
      await claimIds(now, 'A');
      await h.queue.retryAt(a.id, 'e1', 2, now + 500, 'A');
      const r = await h.queue.fanOut(fan(a, ['e2'], { owner: 'A', leaseMs: 1000 }));
      expect(r.kind === 'enqueued' && r.claimed).toEqual([]);
      h.clock.advance(500);
      const due = await h.queue.fanOut(fan(a, ['e3'], { owner: 'B', leaseMs: 1000 }));
      expect(due.kind === 'enqueued' && due.claimed.map((c) => [c.head.event.id, c.head.attempts])).toEqual([['e1', 2]]);
    });

    it('claimReadyHeads leases ready queues with their heads, attempts and subscription records', async () => {
      const a = aSubscription();
      await h.store.create(a);
      const now = h.clock.now();
      await h.queue.fanOut(fan(a, ['e1']));
      await h.queue.enqueue(event('orphan', 'e9'));
      await claimIds(now, 'A');
      await h.queue.retryAt(a.id, 'e1', 1, now, 'A');
      await h.queue.release('orphan', 'A', now);
      const claimed = await h.queue.claimReadyHeads(now, 10, 1000, 'B');
      expect(claimed.sort((x, y) => x.subscriptionId.localeCompare(y.subscriptionId))).toEqual(
        [
          { subscriptionId: 'orphan', head: { event: { ...event('orphan', 'e9'), sequence: 1 }, attempts: 0 }, subscription: undefined },
          { subscriptionId: a.id, head: { event: { ...event(a.id, 'e1'), correlator: 'c-1', sequence: 1 }, attempts: 1 }, subscription: { ...a, version: 1, state: 'ACTIVE' } },
        ].sort((x, y) => x.subscriptionId.localeCompare(y.subscriptionId)),
      );
      expect(await h.queue.claimReadyHeads(now, 10, 1000, 'C')).toEqual([]);
      expect(await h.queue.ack(a.id, 'e1', 'B')).toBe(true);
    });

    it('discards a queue and reports what was in it', async () => {
      await h.queue.enqueue(event('s1', 'e1'));
      await h.queue.enqueue(event('s1', 'e2'));
      expect(await h.queue.discard('s1')).toEqual(['e1', 'e2']);
      expect(await claimIds(h.clock.now(), 'A')).toEqual([]);
      expect(await h.queue.backlog()).toBe(0);
      expect((await h.queue.enqueue(event('s1', 'e3'))).sequence).toBe(1);
    });
  });
}
