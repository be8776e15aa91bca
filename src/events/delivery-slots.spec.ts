import pino from 'pino';
import type { ClaimedQueue } from '../store/event-queue';
import { DeliverySlots, Lease } from './delivery-slots';

const lease = (subscriptionId: string, leasedAt = 0): Lease => ({
  claimed: {
    subscriptionId,
    head: { event: { id: `e-${subscriptionId}`, subscriptionId, type: 'org.camaraproject.webrtc-events.v0.session-status', time: '', data: {}, sequence: 1 }, attempts: 0 },
    subscription: undefined,
  } satisfies ClaimedQueue,
  leasedAt,
});

/** Slots whose drains finish when the test says so. */
function setup(concurrency: number) {
  const started: Lease[] = [];
  const finish = new Map<string, () => void>();
  const givenBack: string[] = [];
  let idle = 0;
  const slots = new DeliverySlots(
    concurrency,
    (l) =>
      new Promise<void>((resolve) => {
        started.push(l);
        finish.set(l.claimed.subscriptionId, resolve);
      }),
    (id) => givenBack.push(id),
    () => (idle += 1),
    pino({ level: 'silent' }),
  );
  const end = async (id: string) => {
    finish.get(id)?.();
    await new Promise((r) => setImmediate(r)); // the drain's .catch/.finally run
  };
  return { slots, started, givenBack, end, idle: () => idle };
}

describe(DeliverySlots.name, () => {
  it('runs up to `concurrency` drains and starts waiting leases in arrival order as slots free up', async () => {
    const t = setup(1);
    t.slots.offer(lease('a'));
    t.slots.offer(lease('b'));
    t.slots.offer(lease('c'));
    expect(t.started.map((l) => l.claimed.subscriptionId)).toEqual(['a']);
    expect(t.slots.free).toBe(0);
    await t.end('a');
    expect(t.started.map((l) => l.claimed.subscriptionId)).toEqual(['a', 'b']);
    await t.end('b');
    await t.end('c');
    expect(t.started.map((l) => l.claimed.subscriptionId)).toEqual(['a', 'b', 'c']);
    expect(t.idle()).toBe(1);
  });

  it('runs a queue leased again during its own drain right after that drain, never beside it', async () => {
    const t = setup(4);
    t.slots.offer(lease('a', 1));
    t.slots.offer(lease('a', 2));
    expect(t.started.map((l) => l.leasedAt)).toEqual([1]);
    await t.end('a');
    expect(t.started.map((l) => l.leasedAt)).toEqual([1, 2]);
  });

  it('gives back what it cannot hold: beyond 16 waiting per slot, and everything waiting on close', async () => {
    const t = setup(1);
    for (let i = 0; i <= 17; i++) t.slots.offer(lease(`s${i}`));
    expect(t.givenBack).toEqual(['s17']);
    t.slots.close();
    expect(t.givenBack).toHaveLength(17);
    t.slots.offer(lease('late'));
    expect(t.givenBack).toContain('late');
    await t.end('s0');
    expect(t.started).toHaveLength(1);
  });
});
