import type { Peer } from '../transport';
import { peerKey } from './outbound-targets';

/** How long a Call-ID keeps to the target that last answered it (a REGISTER refresh comes within the binding's half-life). */
export const AFFINITY_TTL_MS = 15 * 60_000;
/** Most Call-IDs remembered; the oldest go first beyond it. */
export const AFFINITY_MAX = 50_000;

/**
 * Which outbound target last answered each Call-ID, so that the requests of one registration or
 * dialog (the digest retry, refreshes, re-INVITE, BYE) keep to the P-CSCF that answered them
 * (3GPP TS 24.229 §5.1.1.1: a UE sends its requests through the P-CSCF it registered with) instead
 * of going back to a target that just failed them or that came back since. Bounded in time and size;
 * a dialog's Call-ID is forgotten as soon as our BYE has its outcome (failover.ts), so that calls
 * ended by us do not hold an entry for the TTL.
 */
export class CallAffinity {
  private readonly entries = new Map<string, { peer: Peer; until: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = AFFINITY_TTL_MS,
    private readonly max = AFFINITY_MAX,
  ) {}

  remember(callId: string, peer: Peer): void {
    if (callId === '') return;
    // re-inserted at the end: the Map's order is the order of last use
    this.entries.delete(callId);
    this.entries.set(callId, { peer, until: this.now() + this.ttlMs });
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Forgets `callId` (its dialog is over: no further request of it will be sent). */
  forget(callId: string): void {
    this.entries.delete(callId);
  }

  /** The target `callId` keeps to, if any and not expired. */
  of(callId: string): Peer | undefined {
    const e = this.entries.get(callId);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(callId);
      return undefined;
    }
    return e.peer;
  }

  /** `list` with the Call-ID's target first when it is in the list and `usable`. */
  order(callId: string, list: Peer[], usable: (p: Peer) => boolean): Peer[] {
    const peer = this.of(callId);
    if (!peer || !usable(peer)) return list;
    const key = peerKey(peer);
    const i = list.findIndex((p) => peerKey(p) === key);
    return i <= 0 ? list : [list[i] as Peer, ...list.slice(0, i), ...list.slice(i + 1)];
  }

  get size(): number {
    return this.entries.size;
  }
}
