import { MemoryEventQueue } from './memory-event-queue';
import { MemorySubscriptionStore } from './memory-subscription.store';
import { aSubscription, ManualClock, subscriptionStoreContract } from '../subscription-store.contract';

subscriptionStoreContract('memory', async () => {
  const clock = new ManualClock();
  const store = new MemorySubscriptionStore(clock);
  return { store, queue: new MemoryEventQueue(clock, store), clock };
});

describe(MemorySubscriptionStore.name, () => {
  it('forgets a subscription a grace period after endsAt (TTL)', async () => {
    const clock = new ManualClock();
    const store = new MemorySubscriptionStore(clock);
    const s = aSubscription({ endsAt: clock.now() + 1000 });
    await store.create(s);
    clock.advance(1000 + 24 * 3600_000);
    expect(await store.get(s.id)).toBeUndefined();
  });
});
