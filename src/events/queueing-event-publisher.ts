import { randomUUID } from 'node:crypto';
import { Clock } from '../store/clock';
import { EventQueue } from '../store/event-queue';
import { SubscriptionStore } from '../store/subscription-store';
import { EventAudience, EventPublisher, WebrtcEventType } from './event-publisher';

/**
 * The EventPublisher: one queued event per ACTIVE subscription of the audience that asked for the
 * type, persisted before `publish` resolves; then the local worker is nudged.
 */
export class QueueingEventPublisher extends EventPublisher {
  constructor(
    private readonly store: SubscriptionStore,
    private readonly queue: EventQueue,
    private readonly onEnqueued: () => void = () => undefined,
    private readonly clock: Clock = Clock.system,
  ) {
    super();
  }

  async publish(
    audience: EventAudience,
    type: Exclude<WebrtcEventType, 'org.camaraproject.webrtc-events.v0.subscription-ended'>,
    data: Record<string, unknown>,
    opts?: { correlator?: string },
  ): Promise<number> {
    const subs = (await this.store.findByDevice(audience.phoneNumber, audience.deviceId)).filter((s) => s.types.includes(type));
    const time = new Date(this.clock.now()).toISOString();
    for (const sub of subs) {
      await this.queue.enqueue({
        id: randomUUID(),
        subscriptionId: sub.id,
        type,
        time,
        data,
        ...(opts?.correlator !== undefined ? { correlator: opts.correlator } : {}),
      });
    }
    if (subs.length > 0) this.onEnqueued();
    return subs.length;
  }

  async hasSubscribers(audience: EventAudience, type: WebrtcEventType): Promise<boolean> {
    const subs = await this.store.findByDevice(audience.phoneNumber, audience.deviceId);
    // subscription-ended needs no subscription of its own: any active subscription receives it.
    return subs.some((s) => type === WebrtcEventType.subscriptionEnded || (s.types as readonly string[]).includes(type));
  }
}
