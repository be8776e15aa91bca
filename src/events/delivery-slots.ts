import type { RootLogger } from '../common/logging/root-logger';
import type { ClaimedQueue } from '../store/event-queue';

/** A queue leased to this instance, and when the lease was asked for (epoch ms, before the request). */
export interface Lease {
  claimed: ClaimedQueue;
  leasedAt: number;
}

/** Hand-offs kept waiting for a free slot, per slot of `concurrency`; beyond that they go back to the shared queue. */
const PENDING_PER_SLOT = 16;

/**
 * The concurrency slots of one delivery worker: which subscriptions are being drained now, which
 * leased queues wait for a slot, and which queues were leased to us again while our previous
 * drain of them was finishing (follow-ups). It knows nothing of polling or of the store: it runs
 * the leases it is offered and gives back (releases) those it cannot run.
 *
 * A follow-up happens when a drain has already ended its lease (ack of the last event, retry,
 * release) but not yet returned, and a hand-off or poll leases the same queue to us again: the
 * new lease is run right after the old drain, never beside it (one drain per queue keeps order).
 */
export class DeliverySlots {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Leased while every slot was busy; started in arrival order (Map keeps insertion order). */
  private readonly pending = new Map<string, Lease>();
  private readonly followUps = new Map<string, Lease>();
  private closed = false;

  /**
   * @param run drains one leased queue; expected to handle its own errors
   * @param giveBack releases a lease we will not run (closing, overloaded)
   * @param onIdleSlot a drain finished and nothing was waiting for its slot
   */
  constructor(
    private readonly concurrency: number,
    private readonly run: (lease: Lease) => Promise<void>,
    private readonly giveBack: (subscriptionId: string) => void,
    private readonly onIdleSlot: () => void,
    private readonly logger: RootLogger,
  ) {}

  /** Subscriptions being drained right now. */
  get active(): number {
    return this.inFlight.size;
  }

  /** Slots that are neither running nor promised to a waiting lease: how much a poll may claim. */
  get free(): number {
    return Math.max(0, this.concurrency - this.inFlight.size - this.pending.size);
  }

  /** A leased queue (handed off or polled): run it now, after the current drain of it, when a slot frees up, or give it back. */
  offer(lease: Lease): void {
    const id = lease.claimed.subscriptionId;
    if (this.pending.has(id)) return; // already waiting, under the same (re-taken) lease
    if (this.inFlight.has(id)) this.followUps.set(id, lease);
    else if (this.closed) this.giveBack(id);
    else if (this.inFlight.size < this.concurrency) this.start(lease);
    else if (this.pending.size >= this.concurrency * PENDING_PER_SLOT)
      this.giveBack(id); // overloaded: left to the poll
    else this.pending.set(id, lease);
  }

  /** Gives back every waiting lease; follow-ups are given back as their drains end. Idempotent. */
  close(): void {
    this.closed = true;
    for (const id of this.pending.keys()) this.giveBack(id);
    this.pending.clear();
  }

  /** Resolves when every drain started so far (follow-ups included) has finished. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private start(lease: Lease): void {
    const id = lease.claimed.subscriptionId;
    const p = this.run(lease)
      .catch((err: unknown) => this.logger.error({ err, subscriptionId: id }, 'event delivery drain failed'))
      .finally(() => {
        this.inFlight.delete(id);
        this.afterDrain(id);
      });
    this.inFlight.set(id, p);
  }

  private afterDrain(id: string): void {
    const followUp = this.followUps.get(id);
    this.followUps.delete(id);
    const next = followUp ?? this.pending.values().next().value;
    if (!next) return this.onIdleSlot();
    this.pending.delete(next.claimed.subscriptionId);
    if (this.closed) this.giveBack(next.claimed.subscriptionId);
    else this.start(next);
  }
}
