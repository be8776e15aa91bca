import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { AckNext, ClaimedQueue, EventQueue, FanOutRequest, FanOutResult, QueuedEvent, QueueHead } from '../event-queue';
import type { SubscriptionStore } from '../subscription-store';

interface Fifo {
  events: QueuedEvent[];
  attempts: number;
  readyAt: number;
  lease?: { owner: string; until: number };
}

/**
 * In-memory EventQueue (single process): same semantics as the Redis one, copies on read and write.
 * The combined operations (`fanOut`, `claimReadyHeads`, `ackAndNext`) read subscriptions from
 * `subscriptions`, which must be given for them.
 */
@Injectable()
export class MemoryEventQueue extends EventQueue {
  private readonly fifos = new Map<string, Fifo>();
  private readonly sequences = new Map<string, number>();

  constructor(
    private readonly clock: Clock = Clock.system,
    private readonly subscriptions?: SubscriptionStore,
  ) {
    super();
  }

  private subs(): SubscriptionStore {
    if (!this.subscriptions) throw new Error('MemoryEventQueue: the combined operations need the SubscriptionStore (constructor argument)');
    return this.subscriptions;
  }

  private async claimed(subscriptionId: string, f: Fifo): Promise<ClaimedQueue | undefined> {
    const e = f.events[0];
    if (!e) return undefined;
    const head: QueueHead = { event: structuredClone(e), attempts: f.attempts };
    return { subscriptionId, head, subscription: await this.subs().get(subscriptionId) };
  }

  async fanOut(req: FanOutRequest): Promise<FanOutResult> {
    const subs = (await this.subs().findByDevice(req.phoneNumber, req.deviceId)).filter((s) => s.types.includes(req.type));
    if (subs.length > req.ids.length) return { kind: 'need-ids', needed: subs.length };
    const now = this.clock.now();
    const events: QueuedEvent[] = [];
    const toClaim: [string, Fifo][] = [];
    subs.forEach((sub, i) => {
      const f = this.fifos.get(sub.id);
      const free = !f || ((!f.lease || f.lease.until <= now) && f.readyAt <= now);
      const stored = this.push({
        id: req.ids[i] ?? '',
        subscriptionId: sub.id,
        type: req.type,
        time: req.time,
        data: req.data,
        ...(req.correlator !== undefined ? { correlator: req.correlator } : {}),
      });
      events.push(stored);
      const fifo = this.fifos.get(sub.id);
      if (req.claim && free && fifo) {
        fifo.lease = { owner: req.claim.owner, until: now + req.claim.leaseMs };
        fifo.readyAt = now + req.claim.leaseMs;
        toClaim.push([sub.id, fifo]);
      }
    });
    const claimed: ClaimedQueue[] = [];
    for (const [id, f] of toClaim) {
      const c = await this.claimed(id, f);
      if (c) claimed.push(c);
    }
    return { kind: 'enqueued', events, claimed };
  }

  async claimReadyHeads(now: number, limit: number, leaseMs: number, owner: string): Promise<ClaimedQueue[]> {
    const out: ClaimedQueue[] = [];
    for (const id of this.claimReady(now, limit, leaseMs, owner)) {
      const f = this.fifos.get(id);
      const c = f && (await this.claimed(id, f));
      if (c) out.push(c);
    }
    return out;
  }

  async ackAndNext(subscriptionId: string, eventId: string, owner: string, leaseMs: number): Promise<AckNext> {
    // No await until the state is settled: it is one atomic step, like the Redis script.
    const f = this.fifos.get(subscriptionId);
    if (!this.leased(f, owner) || f.events[0]?.id !== eventId) return { kind: 'lost' };
    f.events.shift();
    f.attempts = 0;
    if (f.events.length === 0) {
      this.fifos.delete(subscriptionId);
      return { kind: 'empty' };
    }
    const until = this.clock.now() + leaseMs;
    f.lease = { owner, until };
    f.readyAt = until;
    const next = await this.claimed(subscriptionId, f);
    return next ? { kind: 'next', next } : { kind: 'empty' };
  }

  private leased(f: Fifo | undefined, owner: string): f is Fifo {
    return !!f && !!f.lease && f.lease.owner === owner && f.lease.until > this.clock.now();
  }

  async enqueue(event: Omit<QueuedEvent, 'sequence'>): Promise<QueuedEvent> {
    return this.push(event);
  }

  private push(event: Omit<QueuedEvent, 'sequence'>): QueuedEvent {
    const sequence = (this.sequences.get(event.subscriptionId) ?? 0) + 1;
    this.sequences.set(event.subscriptionId, sequence);
    const stored: QueuedEvent = { ...structuredClone(event), sequence };
    let f = this.fifos.get(event.subscriptionId);
    if (!f) this.fifos.set(event.subscriptionId, (f = { events: [], attempts: 0, readyAt: this.clock.now() }));
    f.events.push(stored);
    return structuredClone(stored);
  }

  private claimReady(now: number, limit: number, leaseMs: number, owner: string): string[] {
    const out: string[] = [];
    for (const [id, f] of this.fifos) {
      if (out.length >= limit) break;
      if (f.events.length === 0) {
        if (!f.lease || f.lease.until <= now) this.fifos.delete(id);
        continue;
      }
      if (f.readyAt > now || (f.lease && f.lease.until > now)) continue;
      f.lease = { owner, until: now + leaseMs };
      f.readyAt = now + leaseMs;
      out.push(id);
    }
    return out;
  }

  async renew(subscriptionId: string, owner: string, leaseMs: number): Promise<boolean> {
    const f = this.fifos.get(subscriptionId);
    if (!this.leased(f, owner)) return false;
    const until = this.clock.now() + leaseMs;
    f.lease = { owner, until };
    f.readyAt = Math.max(f.readyAt, until);
    return true;
  }

  async ack(subscriptionId: string, eventId: string, owner: string): Promise<boolean> {
    const f = this.fifos.get(subscriptionId);
    if (!this.leased(f, owner) || f.events[0]?.id !== eventId) return false;
    f.events.shift();
    f.attempts = 0;
    return true;
  }

  async retryAt(subscriptionId: string, eventId: string, attempts: number, notBefore: number, owner: string): Promise<boolean> {
    const f = this.fifos.get(subscriptionId);
    if (!this.leased(f, owner) || f.events[0]?.id !== eventId) return false;
    f.attempts = attempts;
    f.readyAt = notBefore;
    delete f.lease;
    return true;
  }

  async release(subscriptionId: string, owner: string, readyAt: number): Promise<void> {
    const f = this.fifos.get(subscriptionId);
    if (!this.leased(f, owner)) return;
    delete f.lease;
    if (f.events.length === 0) this.fifos.delete(subscriptionId);
    else f.readyAt = readyAt;
  }

  async releaseAllOf(owner: string, now: number): Promise<string[]> {
    const ids = [...this.fifos].filter(([, f]) => f.lease?.owner === owner && f.lease.until > now).map(([id]) => id);
    for (const id of ids) await this.release(id, owner, now);
    return ids;
  }

  async discard(subscriptionId: string): Promise<string[]> {
    const f = this.fifos.get(subscriptionId);
    this.fifos.delete(subscriptionId);
    this.sequences.delete(subscriptionId);
    return f ? f.events.map((e) => e.id) : [];
  }

  async backlog(): Promise<number> {
    let n = 0;
    for (const f of this.fifos.values()) n += f.events.length;
    return n;
  }
}
