import { createTestIdp, TestIdp } from '../support/auth';
import { freePort, Lab, startLab } from '../support/lab';
import { startGateway } from '../support/gateway';

/** Issue 13: Redis unreachable at boot names REDIS_URL; REDIS_BOOT chooses exit or not-ready. */
describe('Redis unreachable at boot', () => {
  let lab: Lab;
  let idp: TestIdp;
  let deadUrl: string;

  beforeAll(async () => {
    lab = await startLab({ redis: false });
    idp = await createTestIdp();
    deadUrl = `redis://:hunter2@127.0.0.1:${await freePort('tcp')}`;
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('REDIS_BOOT=exit (default): boot fails with a message naming REDIS_URL, without its password', async () => {
    const boot = startGateway(lab, idp, { REDIS_URL: deadUrl });
    await expect(boot).rejects.toMatchObject({ name: 'StoreUnreachableAtBootError', exitCode: 69, message: expect.stringContaining('REDIS_URL=redis://:***@127.0.0.1') });
    await expect(boot).rejects.not.toMatchObject({ message: expect.stringContaining('hunter2') });
  });

  it('REDIS_BOOT=retry: the gateway starts, not ready, and answers 503 UNAVAILABLE', async () => {
    const gw = await startGateway(lab, idp, { REDIS_URL: deadUrl, REDIS_BOOT: 'retry' });
    try {
      expect((await gw.request('GET', '/health/live')).status).toBe(200);
      expect((await gw.request('GET', '/health/ready')).status).toBe(503);
    } finally {
      await gw.close();
    }
  });
});
