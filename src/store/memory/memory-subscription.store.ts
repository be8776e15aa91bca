import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { QuotaExceeded, quotaExceeded } from '../quota';
import { StoredSubscription, SUBSCRIPTION_GRACE_MS, SubscriptionStore, TerminationReason } from '../subscription-store';

/** In-memory SubscriptionStore: copies on read and write and honours TTLs, like the Redis one. */
@Injectable()
export class MemorySubscriptionStore extends SubscriptionStore {
  private readonly byId = new Map<string, { sub: StoredSubscription; expiresAt: number }>();
  private readonly byDevice = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly leases = new Map<string, number>();

  constructor(private readonly clock: Clock = Clock.system) {
    super();
  }

  private live(id: string): StoredSubscription | undefined {
    const rec = this.byId.get(id);
    if (rec && rec.expiresAt <= this.clock.now()) {
      this.drop(rec.sub);
      return undefined;
    }
    return rec?.sub;
  }

  private ttlEnd(sub: StoredSubscription): number {
    if (sub.state === 'ENDED') return this.clock.now() + SUBSCRIPTION_GRACE_MS;
    return sub.endsAt === undefined ? Number.POSITIVE_INFINITY : sub.endsAt + SUBSCRIPTION_GRACE_MS;
  }

  private unindex(sub: StoredSubscription): void {
    this.byDevice.get(deviceKey(sub))?.delete(sub.id);
    this.byOwner.get(sub.owner)?.delete(sub.id);
    this.leases.delete(sub.id);
  }

  private drop(sub: StoredSubscription): void {
    this.unindex(sub);
    this.byId.delete(sub.id);
  }

  private put(sub: StoredSubscription): void {
    this.byId.set(sub.id, { sub: structuredClone(sub), expiresAt: this.ttlEnd(sub) });
  }

  private activeAmong(ids: Set<string> | undefined): StoredSubscription[] {
    const now = this.clock.now();
    const out: StoredSubscription[] = [];
    for (const id of ids ?? []) {
      const s = this.live(id);
      if (s && s.state === 'ACTIVE' && (s.endsAt === undefined || s.endsAt > now)) out.push(structuredClone(s));
    }
    return out;
  }

  async create(sub: StoredSubscription, maxPerDevice = 0): Promise<QuotaExceeded | undefined> {
    // no await between the count and the insert: atomic on the event loop
    const active = maxPerDevice > 0 ? this.activeAmong(this.byDevice.get(deviceKey(sub))).length : 0;
    if (maxPerDevice > 0 && active >= maxPerDevice) return quotaExceeded(active, maxPerDevice);
    const stored: StoredSubscription = { ...sub, state: 'ACTIVE', version: 1 };
    this.put(stored);
    setOf(this.byDevice, deviceKey(sub)).add(sub.id);
    setOf(this.byOwner, sub.owner).add(sub.id);
    return undefined;
  }

  async get(id: string): Promise<StoredSubscription | undefined> {
    const s = this.live(id);
    return s && structuredClone(s);
  }

  async listByOwner(owner: string): Promise<StoredSubscription[]> {
    return this.activeAmong(this.byOwner.get(owner));
  }

  async findByDevice(phoneNumber: string, deviceId: string): Promise<StoredSubscription[]> {
    return this.activeAmong(this.byDevice.get(deviceKey({ phoneNumber, deviceId })));
  }

  async update(next: StoredSubscription, expectedVersion: number): Promise<StoredSubscription | undefined> {
    const cur = this.live(next.id);
    if (!cur || cur.state !== 'ACTIVE' || cur.version !== expectedVersion) return undefined;
    const stored: StoredSubscription = { ...next, state: 'ACTIVE', version: expectedVersion + 1 };
    this.put(stored);
    this.leases.delete(next.id);
    return structuredClone(stored);
  }

  async end(id: string, reason: TerminationReason): Promise<StoredSubscription | undefined> {
    const cur = this.live(id);
    if (!cur || cur.state !== 'ACTIVE') return undefined;
    const ended: StoredSubscription = { ...cur, state: 'ENDED', terminationReason: reason, version: cur.version + 1 };
    this.unindex(cur);
    this.put(ended);
    return structuredClone(ended);
  }

  async purge(id: string): Promise<void> {
    const rec = this.byId.get(id);
    if (rec) this.drop(rec.sub);
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<StoredSubscription[]> {
    const out: StoredSubscription[] = [];
    for (const id of [...this.byId.keys()]) {
      if (out.length >= limit) break;
      const s = this.live(id);
      if (!s || s.state !== 'ACTIVE' || s.endsAt === undefined) continue;
      if (Math.max(s.endsAt, this.leases.get(id) ?? 0) <= now) {
        this.leases.set(id, now + leaseMs);
        out.push(structuredClone(s));
      }
    }
    return out;
  }
}

const deviceKey = (s: { phoneNumber: string; deviceId: string }): string => `${s.phoneNumber}|${s.deviceId}`;

function setOf(m: Map<string, Set<string>>, k: string): Set<string> {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  return s;
}
