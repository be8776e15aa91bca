import Fastify, { type FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import { createServer, type Socket } from 'node:net';
import { loadConfig } from '../../config/app-config';
import { ApiError, TooManyRequestsError } from '../errors/api-error';
import type { LimitName } from '../limits/limit-telemetry';
import { installRateLimits, TOKEN_COUNT_WAIT_MS } from './rate-limits';

/** A bare Fastify with the rate limits and a minimal CAMARA error mapping (the app's filter does the same). */
async function appWith(env: Record<string, string>, redis: Redis | null, refused: LimitName[]): Promise<FastifyInstance> {
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof TooManyRequestsError) void reply.header('retry-after', String(err.retryAfterS));
    const status = err instanceof ApiError ? err.status : 500;
    return reply.code(status).send({ status, message: err instanceof Error ? err.message : String(err) });
  });
  await installRateLimits(app, loadConfig({ RATE_LIMIT_WINDOW_S: '60', ...env }), redis, { limitRefused: (name) => refused.push(name) });
  app.get('/x', () => ({ ok: true }));
  app.get('/health', () => ({ ok: true }));
  await app.ready();
  return app;
}

const get = (app: FastifyInstance, remoteAddress: string, token?: string, url = '/x') => app.inject({ method: 'GET', url, remoteAddress, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('installRateLimits', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  it('without Redis counts both limits in memory: the (N+1)th request of an address or a token is refused with Retry-After', async () => {
    const refused: LimitName[] = [];
    const app = await appWith({ RATE_LIMIT_PER_ADDRESS: '3', RATE_LIMIT_PER_TOKEN: '2' }, null, refused);
    apps.push(app);
    for (let i = 0; i < 3; i++) expect((await get(app, '198.51.100.1')).statusCode).toBe(200);
    const byAddress = await get(app, '198.51.100.1');
    expect(byAddress.statusCode).toBe(429);
    expect(byAddress.json()).toMatchObject({ message: expect.stringContaining('per address') });
    expect(Number(byAddress.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(app, '198.51.100.2')).statusCode).toBe(200); // another address
    expect((await get(app, '198.51.100.1', undefined, '/health')).statusCode).toBe(200); // exempt
    // one token from three addresses: the third request is beyond the token's limit
    expect((await get(app, '203.0.113.1', 'tok')).statusCode).toBe(200);
    expect((await get(app, '203.0.113.2', 'tok')).statusCode).toBe(200);
    const byToken = await get(app, '203.0.113.3', 'tok');
    expect(byToken.statusCode).toBe(429);
    expect(byToken.json()).toMatchObject({ message: expect.stringContaining('per token') });
    expect(refused).toEqual(['requests-per-address', 'requests-per-token']);
  });

  it('counts an IPv6 client per /64 (the library default key): rotating the interface identifier does not reset its count', async () => {
    const app = await appWith({ RATE_LIMIT_PER_ADDRESS: '2', RATE_LIMIT_PER_TOKEN: '0' }, null, []);
    apps.push(app);
    expect((await get(app, '2001:db8:1:2::1')).statusCode).toBe(200);
    expect((await get(app, '2001:db8:1:2::2')).statusCode).toBe(200);
    expect((await get(app, '2001:db8:1:2::3')).statusCode).toBe(429);
    expect((await get(app, '2001:db8:1:3::1')).statusCode).toBe(200); // another /64
  });

  it('lets a request through when the Redis of the per-token limit accepts the connection but answers nothing (a frozen server)', async () => {
    // a server that answers nothing: the client connects, sends its commands, and waits for its command timeout
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const redis = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      commandTimeout: 3_000,
      enableReadyCheck: false,
    });
    try {
      await redis.connect();
      const app = await appWith({ RATE_LIMIT_PER_ADDRESS: '0', RATE_LIMIT_PER_TOKEN: '1' }, redis, []);
      apps.push(app);
      const startedAt = Date.now();
      const results = await Promise.all([get(app, '198.51.100.1', 'tok'), get(app, '198.51.100.1', 'tok')]);
      // let through after the short wait, before the client's 3 s command timeout (nor refused: nothing counted them)
      expect(results.map((r) => r.statusCode)).toEqual([200, 200]);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(TOKEN_COUNT_WAIT_MS - 50);
      expect(Date.now() - startedAt).toBeLessThan(2_500);
      expect(sockets.length).toBe(1);
    } finally {
      redis.disconnect();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('lets a request through when the Redis of the per-token limit fails, while the in-memory address limit still holds', async () => {
    // a client that reaches no server and fails each command at once (no offline queue, no retries)
    const redis = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const refused: LimitName[] = [];
      const app = await appWith({ RATE_LIMIT_PER_ADDRESS: '3', RATE_LIMIT_PER_TOKEN: '1' }, redis, refused);
      apps.push(app);
      for (let i = 0; i < 3; i++) expect((await get(app, '198.51.100.1', 'tok')).statusCode).toBe(200);
      expect((await get(app, '198.51.100.1', 'tok')).statusCode).toBe(429);
      expect(refused).toEqual(['requests-per-address']);
    } finally {
      redis.disconnect();
    }
  });
});
