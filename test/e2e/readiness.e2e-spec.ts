/**
 * Readiness follows the store: with Redis gone the gateway says so (503 naming the store) while
 * liveness stays up, since restarting the gateway would not bring Redis back.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { eventually } from '../support/gateway';
import { freePort } from '../support/ports';
import { startKamailio, startRedis, type KamailioInstance, type RedisInstance } from '../support/lab';

interface Health {
  status: string;
  info?: Record<string, { status: string }>;
  error?: Record<string, { status: string; message?: string }>;
}

describe('readiness with a Redis store', () => {
  let kamailio: KamailioInstance;
  let redis: RedisInstance;
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    [kamailio, redis] = await Promise.all([startKamailio(), startRedis()]);
    const port = await freePort('tcp');
    const config = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      SIP_LISTEN_PORT: String(await freePort('udp')),
      SIP_OUTBOUND_PROXY: kamailio.outboundProxy,
      SIP_DOMAIN: kamailio.domain,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `ready${Date.now().toString(36)}:`,
    });
    app = await createApp(config);
    await app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([kamailio?.stop(), redis?.stop()]);
  });

  const health = async (path: string): Promise<{ status: number; body: Health }> => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as Health };
  };

  it('is ready with Redis up, then not ready naming the store once Redis is down, and still live', async () => {
    // positive control: the same gateway is ready while Redis answers
    const up = await eventually(
      async () => {
        const h = await health('/health/ready');
        return h.status === 200 ? h : undefined;
      },
      15_000,
      'ready with Redis up',
    );
    expect(up.body.info).toMatchObject({ store: { status: 'up' } });

    await redis.stop();
    const down = await eventually(
      async () => {
        const h = await health('/health/ready');
        return h.status === 503 ? h : undefined;
      },
      15_000,
      'not ready with Redis down',
    );
    expect(down.body.status).toBe('error');
    expect(down.body.error).toMatchObject({ store: { status: 'down' } });
    expect(Object.keys(down.body.error ?? {})).toEqual(['store']);
    expect((await health('/health/live')).status).toBe(200);
  });
});
