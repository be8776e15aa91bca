import { ManualClock } from '../subscription-store.contract';
import { sessionStoreContract } from '../session-store.contract';
import { MemorySessionStore } from './memory-session.store';
import { sessionFanOutContract } from '../session-fan-out.contract';
import { MemorySubscriptionStore } from './memory-subscription.store';
import { MemoryEventQueue } from './memory-event-queue';

sessionStoreContract('memory', async () => {
  const clock = new ManualClock();
  return {
    store: new MemorySessionStore(clock),
    now: () => clock.now(),
    advance: async (ms) => clock.advance(ms),
    shortTtlMs: 1500,
  };
});

// memory: the store writes the session only; the caller publishes the event (SessionTransitions)
sessionFanOutContract('memory', async () => {
  const clock = new ManualClock();
  const subscriptions = new MemorySubscriptionStore(clock);
  return { sessions: new MemorySessionStore(clock), subscriptions, queue: new MemoryEventQueue(clock, subscriptions), clock, atomic: false };
});
