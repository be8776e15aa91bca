import { ManualClock } from '../subscription-store.contract';
import { sessionStoreContract } from '../session-store.contract';
import { MemorySessionStore } from './memory-session.store';

sessionStoreContract('memory', async () => {
  const clock = new ManualClock();
  return {
    store: new MemorySessionStore(clock),
    now: () => clock.now(),
    advance: async (ms) => clock.advance(ms),
    shortTtlMs: 1500,
  };
});
