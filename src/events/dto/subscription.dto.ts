import type { StoredSubscription, SubscriptionEventType } from '../../store/subscription-store';

/** Spec `Subscription` (response). The sink credential is never echoed. */
export interface Subscription {
  id: string;
  protocol: 'HTTP';
  sink: string;
  types: SubscriptionEventType[];
  config: { subscriptionDetail: { deviceId: string }; subscriptionExpireTime?: string };
  startsAt: string;
  /** Only when `subscriptionExpireTime` was given (spec). */
  expiresAt?: string;
  status: 'ACTIVE' | 'EXPIRED' | 'DELETED';
}

export function toSubscription(s: StoredSubscription): Subscription {
  const status = s.state === 'ACTIVE' ? 'ACTIVE' : s.terminationReason === 'SUBSCRIPTION_DELETED' ? 'DELETED' : 'EXPIRED';
  return {
    id: s.id,
    protocol: s.protocol,
    sink: s.sink,
    types: [...s.types],
    config: {
      subscriptionDetail: { deviceId: s.deviceId },
      ...(s.subscriptionExpireTime !== undefined ? { subscriptionExpireTime: s.subscriptionExpireTime } : {}),
    },
    startsAt: s.startsAt,
    ...(s.subscriptionExpireTime !== undefined ? { expiresAt: new Date(Date.parse(s.subscriptionExpireTime)).toISOString() } : {}),
    status,
  };
}
