import { gatewayGroup, type GatewayProcess } from '../../bench/lib/gateway-process';

function fake(pid: number, cpu: number, rss: number, heap: number | null): GatewayProcess & { stopped: boolean } {
  const p = {
    pid,
    httpPort: 8000 + pid,
    sipPort: 5000 + pid,
    baseUrl: `http://127.0.0.1:${8000 + pid}`,
    logFile: `/tmp/gw-${pid}.log`,
    stopped: false,
    cpuMs: () => cpu,
    // three quarters in user mode, a quarter in the kernel
    cpuSplit: () => ({ userMs: cpu * 0.75, systemMs: cpu * 0.25 }),
    rss: () => rss,
    heapAfterGc: () => Promise.resolve(heap === null ? null : { usedAfterGc: heap, total: 2 * heap }),
    metrics: () => Promise.resolve({ heapUsed: pid }),
    profile: <T>(fn: () => Promise<T>) => fn().then((result) => ({ result, profile: { nodes: [], startTime: 0, endTime: 0 } })),
    logTail: () => `tail ${pid}`,
    stop: () => {
      p.stopped = true;
      return Promise.resolve();
    },
  };
  return p;
}

describe('bench: N gateway processes seen as one', () => {
  it('sums CPU (user and system apart too), RSS and heap over the processes (CPU per call counts every process)', async () => {
    const a = fake(1, 120, 100, 10);
    const b = fake(2, 80, 50, 5);
    const g = gatewayGroup([a, b]);
    expect(g.cpuMs()).toBe(200);
    expect(g.cpuSplit()).toEqual({ userMs: 150, systemMs: 50 });
    expect(g.rss()).toBe(150);
    expect(await g.heapAfterGc()).toEqual({ usedAfterGc: 15, total: 30 });
    expect(g.pid).toBe(1);
    expect(g.logFile).toBe('/tmp/gw-1.log, /tmp/gw-2.log');
  });

  it('has no heap figure when one process cannot give one, and stops every process', async () => {
    const a = fake(1, 1, 1, 10);
    const b = fake(2, 1, 1, null);
    const g = gatewayGroup([a, b]);
    expect(await g.heapAfterGc()).toBeNull();
    await g.stop();
    expect([a.stopped, b.stopped]).toEqual([true, true]);
  });

  it('is the process itself when there is one, and refuses none', () => {
    const a = fake(1, 1, 1, 1);
    expect(gatewayGroup([a])).toBe(a);
    expect(() => gatewayGroup([])).toThrow('no process');
  });
});
