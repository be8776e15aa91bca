import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, startLab, startRedis } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';

const ALICE = '+17085852753';
const BASE = '/webrtc-registration/v0.4/sessions';
const SCOPES = 'webrtc-registration:sessions:create webrtc-registration:sessions:read webrtc-registration:sessions:delete';

describe('registrations survive the gateway and report the network', () => {
  let lab: Lab;
  let idp: TestIdp;
  let token: string;

  beforeAll(async () => {
    lab = await startLab();
    idp = await createTestIdp();
    token = await idp.token({ phone_number: ALICE, scope: SCOPES });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('a restarted gateway keeps refreshing a registration stored in Redis', async () => {
    const env = { REDIS_KEY_PREFIX: `restart${Date.now()}:`, SIP_REGISTER_EXPIRES_S: '30' };
    const first: GatewayUnderTest = await startGateway(lab, idp, env);
    const res = await first.request('POST', BASE, { token, body: { deviceId: randomUUID() } });
    expect(res.status).toBe(201);
    const { registrationId } = res.body as { registrationId: string };
    const bound = (await lab.kamailio.locations(ALICE)).find((b) => b.contact.includes(registrationId))!;
    expect(bound.expires).toBeLessThanOrEqual(30);
    await first.close(); // Redis store: the binding is kept for whoever runs next
    // kept, not removed and re-added later: it is in the location table while no gateway runs
    const kept = (await lab.kamailio.locations(ALICE)).find((b) => b.contact.includes(registrationId));
    expect(kept?.callId).toBe(bound.callId);

    const second = await startGateway(lab, idp, { ...env, SIP_LISTEN_PORT: String(first.sipPort) });
    try {
      // The registrar granted 30 s; the refresh is due half-way. The restarted process must send it.
      const refreshed = await eventually(
        async () => {
          const b = (await lab.kamailio.locations(ALICE)).find((x) => x.contact.includes(registrationId));
          // a refresh: same Call-ID, higher CSeq (RFC 3261 §10.2.4), not the binding as first made
          return b && b.callId === bound.callId && (b.cseq ?? 0) > (bound.cseq ?? Infinity) ? b : undefined;
        },
        25_000,
        'refresh by the restarted gateway',
      );
      expect(refreshed.callId).toBe(bound.callId);
      expect((await second.request('GET', `${BASE}/${registrationId}`, { token })).status).toBe(200);
      expect((await second.request('DELETE', `${BASE}/${registrationId}`, { token })).status).toBe(204);
    } finally {
      await second.close();
    }
  }, 60_000);

  it('answers 503 UNAVAILABLE when the IMS core does not answer, and stores nothing', async () => {
    const gw = await startGateway(lab, idp, { SIP_TRANSACTION_TIMEOUT_MS: '2000', REDIS_KEY_PREFIX: `down${Date.now()}:` });
    await lab.kamailio.stop();
    try {
      const deviceId = randomUUID();
      const res = await gw.request('POST', BASE, { token, body: { deviceId } });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 503, code: 'UNAVAILABLE', message: expect.stringMatching(/IMS core/) });
      expect((await gw.request('GET', `${BASE}?deviceId=${deviceId}`, { token })).body).toEqual([]);
    } finally {
      await lab.kamailio.start();
      await gw.close();
    }
  });

  it('answers 503 UNAVAILABLE, not 500, when Redis is down, and the process lives on', async () => {
    const redis = await startRedis();
    const gw = await startGateway(lab, idp, { REDIS_URL: redis.url });
    try {
      expect((await gw.request('GET', `${BASE}?deviceId=${randomUUID()}`, { token })).status).toBe(200);
      await redis.stop();
      const res = await gw.request('GET', `${BASE}?deviceId=${randomUUID()}`, { token });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
      const post = await gw.request('POST', BASE, { token, body: { deviceId: randomUUID() } });
      expect(post.status).toBe(503);
    } finally {
      await gw.close();
      await redis.stop();
    }
  });
});
