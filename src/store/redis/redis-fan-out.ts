import type { ClaimedQueue, FanOutRequest, FanOutResult, QueuedEvent } from '../event-queue';
import type { StoredSubscription } from '../subscription-store';
import type { Keys } from './redis-client';

/** Devices whose subscription ids this instance remembers for a fan-out (see `DeviceMembers`). */
const MAX_CACHED_DEVICES = 10_000;
/** A fan-out answers "stale" at most this often in a row before the publish fails. */
export const MAX_STALE_REPLIES = 5;

export type Reply = string | number | null | Reply[];

export const str = (r: Reply | undefined): string | undefined => (typeof r === 'string' ? r : undefined);
export const strings = (r: Reply | undefined): string[] => (Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : []);

export function parseEntry(entry: string): QueuedEvent {
  const nl = entry.indexOf('\n');
  return JSON.parse(entry.slice(nl + 1)) as QueuedEvent;
}

/** A subscription record from its hash fields { v, s, d } (as `RedisSubscriptionStore#get`). */
export function parseSubscription(v: Reply | undefined, s: Reply | undefined, d: Reply | undefined): StoredSubscription | undefined {
  const vs = str(v);
  const ds = str(d);
  if (!vs || !ds) return undefined;
  const sub = JSON.parse(ds) as StoredSubscription;
  sub.version = Number(vs);
  if (s === 'ACTIVE' || s === 'ENDED') sub.state = s;
  return sub;
}

/** `{head, attempts, v, s, d}` starting at `row[i]` → ClaimedQueue (undefined if there is no head). */
export function claimedFrom(subscriptionId: string, row: Reply[], i: number): ClaimedQueue | undefined {
  const entry = str(row[i]);
  if (entry === undefined) return undefined;
  const attempts = Number(str(row[i + 1]) ?? row[i + 1] ?? 0);
  return { subscriptionId, head: { event: parseEntry(entry), attempts }, subscription: parseSubscription(row[i + 2], row[i + 3], row[i + 4]) };
}

/**
 * The subscription ids of each device's index, as this instance last saw them. A fan-out script must
 * be given every key it touches, so the caller names the subscriptions before the script reads the
 * index; the script checks the names against the index and answers "stale" (with the actual ids)
 * when they differ. Remembering them keeps a publish at one round trip; a device whose
 * subscriptions changed elsewhere costs one more. Least recently used devices are forgotten first.
 */
export class DeviceMembers {
  private readonly ids = new Map<string, string[]>();

  constructor(private readonly max = MAX_CACHED_DEVICES) {}

  /** devices remembered */
  get size(): number {
    return this.ids.size;
  }

  get(device: string): string[] {
    const ids = this.ids.get(device);
    if (!ids) return [];
    this.ids.delete(device);
    this.ids.set(device, ids);
    return ids;
  }
  set(device: string, ids: string[]): void {
    this.ids.delete(device);
    this.ids.set(device, ids);
    if (this.ids.size > this.max) this.ids.delete(this.ids.keys().next().value ?? device);
  }
}

/** One attempt of a fan-out: the keys and ARGV of the `FAN_OUT` Lua (evFanOut, sessUpdateFanOut), and how to read its reply. */
export interface FanOutAttempt {
  keys: string[];
  args: (string | number)[];
  /** `{-1, actualIds}` → false (remembered; try again); otherwise the result of `(needed, rows, dangling)`. */
  read(code: Reply | undefined, rows: Reply | undefined, dangling: Reply | undefined, staleIds: Reply | undefined): FanOutResult | false;
}

/** Builds fan-out attempts for one store (the device members it remembers, the key names). */
export class RedisFanOut {
  private readonly members = new DeviceMembers();

  constructor(private readonly k: Keys) {}

  attempt(req: FanOutRequest, now: number): FanOutAttempt {
    const { k } = this;
    const rest: Omit<QueuedEvent, 'id' | 'subscriptionId' | 'sequence'> = {
      type: req.type,
      time: req.time,
      data: req.data,
      ...(req.correlator !== undefined ? { correlator: req.correlator } : {}),
    };
    const device = k.subscriptionsByDevice(req.phoneNumber, req.deviceId);
    const ids = this.members.get(device);
    // serialised once: the queued entries' JSON (ARGV) and, parsed back, each returned event's own copy (cheaper than structuredClone)
    const restJson = JSON.stringify(rest);
    const perSub = ids.flatMap((id) => [k.subscription(id), k.queue(id), k.queueSequence(id), k.queueLease(id), k.queueHead(id)]);
    return {
      keys: [device, k.queuesReady(), k.queueBacklog(), ...perSub],
      args: [req.type, now, restJson, req.claim?.owner ?? '', req.claim?.leaseMs ?? 0, ids.length, ...ids, ...req.ids],
      read: (code, rows, dangling, staleIds) => {
        if (Number(code) === -1) {
          this.members.set(device, strings(staleIds));
          return false;
        }
        const gone = new Set(strings(dangling));
        if (gone.size > 0)
          this.members.set(
            device,
            ids.filter((id) => !gone.has(id)),
          );
        const needed = Number(code);
        if (needed > 0) return { kind: 'need-ids', needed };
        const events: QueuedEvent[] = [];
        const claimed: ClaimedQueue[] = [];
        const list = Array.isArray(rows) ? rows : [];
        for (let i = 0; i < list.length; i++) {
          const row = list[i];
          if (!Array.isArray(row)) continue;
          const subscriptionId = str(row[0]) ?? '';
          events.push({ id: req.ids[i] ?? '', subscriptionId, ...(JSON.parse(restJson) as typeof rest), sequence: Number(row[1]) });
          if (Number(row[2]) === 1) {
            const c = claimedFrom(subscriptionId, row, 3);
            if (c) claimed.push(c);
          }
        }
        return { kind: 'enqueued', events, claimed };
      },
    };
  }
}
