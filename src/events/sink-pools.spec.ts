import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SinkPolicy } from './sink-address';
import { SinkPools } from './sink-pools';

/** A loopback HTTP server; with `holdMs` each request is answered that long after it arrived (a slow sink). */
async function server(holdMs = 0): Promise<{ origin: string; connections: () => number; peak: () => number; close: () => Promise<void> }> {
  let connections = 0;
  let inFlight = 0;
  let peak = 0;
  const s: Server = createServer((_req, res) => {
    peak = Math.max(peak, ++inFlight);
    res.on('close', () => inFlight--);
    if (holdMs === 0) res.end('ok');
    else setTimeout(() => res.end('ok'), holdMs);
  });
  s.on('connection', () => connections++);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    connections: () => connections,
    peak: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  };
}

describe(SinkPools.name, () => {
  const get = (pools: SinkPools, origin: string): Promise<number> =>
    pools.use(origin, async (pool) => {
      const res = await pool.request({ path: '/', method: 'GET' });
      await res.body.dump();
      return res.statusCode;
    });

  it('keeps one pool per origin, reused across requests, and at most maxOrigins pools', async () => {
    const [a, b] = [await server(), await server()];
    const pools = new SinkPools(new SinkPolicy(true), { timeoutMs: 1000, connectionsPerOrigin: 1, maxOrigins: 1, idleMs: 60_000 });
    for (let i = 0; i < 5; i++) expect(await get(pools, a.origin)).toBe(200);
    expect(pools.size).toBe(1);
    expect(a.connections()).toBe(1);
    expect(await get(pools, b.origin)).toBe(200);
    expect(pools.size).toBe(1); // a's pool was closed to make room
    expect(await get(pools, a.origin)).toBe(200);
    expect(a.connections()).toBe(2); // a new pool, a new connection
    await pools.close();
    expect(pools.size).toBe(0);
    await expect(get(pools, a.origin)).rejects.toThrow('closed');
    await Promise.all([a.close(), b.close()]);
  });

  it('sends at most connectionsPerOrigin requests to an origin at once; the others wait for a connection', async () => {
    const slow = await server(200);
    const pools = new SinkPools(new SinkPolicy(true), { timeoutMs: 5000, connectionsPerOrigin: 3, maxOrigins: 8, idleMs: 60_000 });
    const statuses = await Promise.all(Array.from({ length: 10 }, () => get(pools, slow.origin)));
    expect(statuses).toEqual(Array.from({ length: 10 }, () => 200));
    expect(slow.peak()).toBe(3);
    expect(slow.connections()).toBe(3);
    await pools.close();
    await slow.close();
  });

  it('closes only the pools idle for idleMs, never one with a request in flight', async () => {
    const a = await server();
    let now = 0;
    const pools = new SinkPools(new SinkPolicy(true), { timeoutMs: 1000, connectionsPerOrigin: 1, maxOrigins: 8, idleMs: 100 }, () => now);
    await get(pools, a.origin);
    now = 99;
    expect(pools.sweep()).toBe(0);
    let inside = 0;
    await pools.use(a.origin, async () => {
      now = 1000;
      inside = pools.sweep();
    });
    expect(inside).toBe(0);
    expect(pools.size).toBe(1);
    now = 1100;
    expect(pools.sweep()).toBe(1);
    expect(pools.size).toBe(0);
    await pools.close();
    await a.close();
  });
});
