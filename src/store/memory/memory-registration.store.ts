import { Injectable } from '@nestjs/common';
import { Registration, REGISTRATION_GRACE_MS, RegistrationStore } from '../registration-store';
import { Clock } from '../../common/clock';
import { QuotaExceeded, quotaExceeded } from '../quota';

/** In-memory RegistrationStore: copies on read and write and honours TTLs, like the Redis one. */
@Injectable()
export class MemoryRegistrationStore extends RegistrationStore {
  private readonly byId = new Map<string, Registration>();
  private readonly byDevice = new Map<string, string>();
  private readonly leases = new Map<string, number>();
  /** Ids by phone number, so the per-number quota does not scan every registration. */
  private readonly byNumber = new Map<string, Set<string>>();

  constructor(private readonly clock: Clock = Clock.system) {
    super();
  }

  private live(id: string): Registration | undefined {
    const r = this.byId.get(id);
    if (r && r.expiresAt + REGISTRATION_GRACE_MS <= this.clock.now()) {
      this.drop(r);
      return undefined;
    }
    return r;
  }

  private drop(r: Registration): void {
    this.byId.delete(r.registrationId);
    this.leases.delete(r.registrationId);
    if (this.byDevice.get(deviceKey(r)) === r.registrationId) this.byDevice.delete(deviceKey(r));
    const ids = this.byNumber.get(r.phoneNumber);
    ids?.delete(r.registrationId);
    if (ids?.size === 0) this.byNumber.delete(r.phoneNumber);
  }

  async create(reg: Registration, maxPerNumber = 0): Promise<boolean | QuotaExceeded> {
    const existing = this.byDevice.get(deviceKey(reg));
    if (existing && this.live(existing)) return false;
    // no await between the count and the insert: atomic on the event loop
    const active = maxPerNumber > 0 ? this.activeByNumber(reg.phoneNumber, this.clock.now()) : 0;
    if (maxPerNumber > 0 && active >= maxPerNumber) return quotaExceeded(active, maxPerNumber);
    const stored = { ...structuredClone(reg), version: 1 };
    this.byId.set(reg.registrationId, stored);
    this.byDevice.set(deviceKey(reg), reg.registrationId);
    const ids = this.byNumber.get(reg.phoneNumber) ?? new Set<string>();
    this.byNumber.set(reg.phoneNumber, ids.add(reg.registrationId));
    return true;
  }

  async get(registrationId: string): Promise<Registration | undefined> {
    const r = this.live(registrationId);
    return r && structuredClone(r);
  }

  async findByDevice(phoneNumber: string, deviceId: string): Promise<Registration | undefined> {
    const id = this.byDevice.get(`${phoneNumber}|${deviceId}`);
    return id ? this.get(id) : undefined;
  }

  async hasDevice(phoneNumber: string, deviceId: string): Promise<boolean> {
    const id = this.byDevice.get(`${phoneNumber}|${deviceId}`);
    return id !== undefined && this.live(id) !== undefined;
  }

  async update(next: Registration, expectedVersion: number): Promise<Registration | undefined> {
    const cur = this.live(next.registrationId);
    if (!cur || cur.version !== expectedVersion) return undefined;
    const stored = { ...structuredClone(next), version: expectedVersion + 1 };
    this.byId.set(next.registrationId, stored);
    this.leases.delete(next.registrationId);
    return structuredClone(stored);
  }

  async delete(registrationId: string, expectedVersion?: number): Promise<boolean> {
    const cur = this.live(registrationId);
    if (!cur || (expectedVersion !== undefined && cur.version !== expectedVersion)) return false;
    this.drop(cur);
    return true;
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<Registration[]> {
    const out: Registration[] = [];
    // no copy of the keys: a Map iterator tolerates the deletions live() makes
    for (const id of this.byId.keys()) {
      if (out.length >= limit) break;
      const r = this.live(id);
      if (!r) continue;
      const due = Math.max(r.dueAt, this.leases.get(id) ?? 0);
      if (due <= now) {
        this.leases.set(id, now + leaseMs);
        out.push(structuredClone(r));
      }
    }
    return out;
  }

  async count(): Promise<number> {
    return this.byId.size;
  }

  async countActiveByNumber(phoneNumber: string, now: number): Promise<number> {
    return this.activeByNumber(phoneNumber, now);
  }

  private activeByNumber(phoneNumber: string, now: number): number {
    let n = 0;
    for (const id of [...(this.byNumber.get(phoneNumber) ?? [])]) {
      const r = this.live(id);
      if (r && r.expiresAt > now) n++;
    }
    return n;
  }
}

const deviceKey = (r: { phoneNumber: string; deviceId: string }): string => `${r.phoneNumber}|${r.deviceId}`;
