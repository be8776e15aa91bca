import { quotaContract } from '../quota.contract';
import { ManualClock } from '../subscription-store.contract';
import { MemoryRegistrationStore } from './memory-registration.store';
import { MemorySessionStore } from './memory-session.store';
import { MemorySubscriptionStore } from './memory-subscription.store';

quotaContract('memory', async () => {
  const clock = new ManualClock();
  return { registrations: new MemoryRegistrationStore(clock), sessions: new MemorySessionStore(clock), subscriptions: new MemorySubscriptionStore(clock), clock };
});
