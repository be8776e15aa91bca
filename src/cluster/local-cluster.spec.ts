import { LocalCluster } from './local-cluster';

describe('LocalCluster (in-memory store: one instance)', () => {
  it('forwards nothing and knows of no other sessions', async () => {
    const c = new LocalCluster();
    await expect(c.forward()).resolves.toEqual({ kind: 'no-listener' });
    await expect(c.activeSessionIds()).resolves.toEqual([]);
  });

  it('runs the drain hand-over at shutdown only after a drain, even when one handler fails', async () => {
    const ran: string[] = [];
    const c = new LocalCluster();
    c.onDrain(async () => {
      ran.push('first');
      throw new Error('boom');
    });
    c.onDrain(async () => void ran.push('second'));
    await c.beforeApplicationShutdown();
    expect(ran).toEqual([]);
    expect(c.draining).toBe(false);
    c.drain();
    expect(c.draining).toBe(true);
    await c.beforeApplicationShutdown();
    expect(ran).toEqual(['first', 'second']);
  });
});
