import { Clock } from '../../common/clock';
import { registrationStoreContract } from '../registration-store.contract';
import { MemoryRegistrationStore } from './memory-registration.store';

class ManualClock extends Clock {
  constructor(public t = 1_700_000_000_000) {
    super();
  }
  now(): number {
    return this.t;
  }
}

registrationStoreContract('memory', async () => {
  const clock = new ManualClock();
  return { store: new MemoryRegistrationStore(clock), now: () => clock.now(), advance: async (ms) => void (clock.t += ms) };
});

describe(MemoryRegistrationStore.name, () => {
  it('returns copies, so callers cannot change stored state', async () => {
    const store = new MemoryRegistrationStore();
    const { aRegistration } = await import('../registration-store.contract');
    const r = aRegistration(Date.now());
    await store.create(r);
    const got = await store.get(r.registrationId);
    got!.binding.cseq = 99;
    expect((await store.get(r.registrationId))?.binding.cseq).toBe(1);
  });
});
