import { randomUUID } from 'node:crypto';
import type { RootLogger } from '../common/logging/root-logger';
import { Clock } from '../common/clock';
import { EventQueue } from '../store/event-queue';
import { StoredSubscription, SubscriptionStore, TerminationReason } from '../store/subscription-store';
import { WebrtcEventType } from './event-publisher';

/** How long before `accessTokenExpiresUtc` the subscription is ended, so that `subscription-ended` still goes out with a valid token. */
export const DEFAULT_TOKEN_NOTICE_MS = 60_000;

const DESCRIPTIONS: Record<TerminationReason, string> = {
  SUBSCRIPTION_EXPIRED: 'Subscription expired',
  SUBSCRIPTION_DELETED: 'Subscription deleted by the requester',
  ACCESS_TOKEN_EXPIRED: 'Access token sinkCredential expired',
  NETWORK_TERMINATED: 'The API server stopped sending notifications',
  MAX_EVENTS_REACHED: 'Maximum number of events reached',
};

/** When `sub` ends on its own (epoch ms), from `subscriptionExpireTime` and the sink token's expiry. */
export function computeEndsAt(sub: Pick<StoredSubscription, 'subscriptionExpireTime' | 'sinkCredential'>, tokenNoticeMs = DEFAULT_TOKEN_NOTICE_MS): number | undefined {
  const times: number[] = [];
  if (sub.subscriptionExpireTime) times.push(Date.parse(sub.subscriptionExpireTime));
  if (sub.sinkCredential) times.push(Date.parse(sub.sinkCredential.accessTokenExpiresUtc) - tokenNoticeMs);
  const finite = times.filter((t) => Number.isFinite(t));
  return finite.length > 0 ? Math.min(...finite) : undefined;
}

/** Why a due subscription ends: whichever of its two deadlines came first. */
export function dueReason(sub: Pick<StoredSubscription, 'subscriptionExpireTime' | 'sinkCredential'>, tokenNoticeMs = DEFAULT_TOKEN_NOTICE_MS): TerminationReason {
  const expire = sub.subscriptionExpireTime ? Date.parse(sub.subscriptionExpireTime) : Infinity;
  const token = sub.sinkCredential ? Date.parse(sub.sinkCredential.accessTokenExpiresUtc) - tokenNoticeMs : Infinity;
  return token < expire ? 'ACCESS_TOKEN_EXPIRED' : 'SUBSCRIPTION_EXPIRED';
}

/**
 * Ends subscriptions. The `subscription-ended` event is enqueued BEFORE the subscription leaves
 * the indexes, so a crash in between repeats the ending (at-least-once) instead of losing it; the
 * delivery worker purges the subscription once that event has been handled.
 */
export class SubscriptionLifecycle {
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly store: SubscriptionStore,
    private readonly queue: EventQueue,
    private readonly logger: RootLogger,
    private readonly clock: Clock = Clock.system,
  ) {}

  /** Called after each `subscription-ended` is enqueued (the delivery worker polls at once). */
  onEnqueued(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Resolves false when `sub` had already ended. */
  async end(sub: StoredSubscription, reason: TerminationReason, correlator?: string): Promise<boolean> {
    const cur = await this.store.get(sub.id);
    if (!cur || cur.state !== 'ACTIVE') return false;
    if (reason !== 'NETWORK_TERMINATED') {
      await this.queue.enqueue({
        id: randomUUID(),
        subscriptionId: sub.id,
        type: WebrtcEventType.subscriptionEnded,
        time: new Date(this.clock.now()).toISOString(),
        data: { terminationReason: reason, terminationDescription: DESCRIPTIONS[reason] },
        ...(correlator !== undefined ? { correlator } : {}),
      });
    }
    const ended = await this.store.end(sub.id, reason);
    if (reason !== 'NETWORK_TERMINATED') for (const l of this.listeners) l();
    // an app's DELETE names its request (the x-correlator) on the line
    if (ended) this.logger.info({ subscriptionId: sub.id, terminationReason: reason, ...(correlator !== undefined && { correlator }) }, `subscription ${sub.id} ended (${reason})`);
    return ended !== undefined;
  }
}
