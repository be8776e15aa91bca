import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway, writeCredentialsFile } from '../support/gateway';
import { startSink } from '../support/sink';

const ALICE = '+17085852753';
const BASE = '/webrtc-registration/v0.4/sessions';
const ENDS = 'org.camaraproject.webrtc-events.v0.registration-ends';
const ALL = 'webrtc-registration:sessions:create webrtc-registration:sessions:read webrtc-registration:sessions:write webrtc-registration:sessions:delete';

describe('webrtc-registration over a real IMS core (Kamailio)', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let token: string;

  beforeAll(async () => {
    lab = await startLab({ redis: false });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, { SIP_REGISTER_EXPIRES_S: '60' });
    token = await idp.token({ phone_number: ALICE, scope: ALL });
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  const register = (deviceId = randomUUID(), body: Record<string, unknown> = {}, t = token) => gw.request('POST', BASE, { token: t, body: { deviceId, ...body } });

  it('registers the subscriber with digest auth and answers 201 once the IMS core accepted it', async () => {
    const deviceId = randomUUID();
    const res = await register(deviceId, { clientCorrelator: 'ignored-extra-property' });
    expect(res.status).toBe(201);
    const body = res.body as { registrationId: string; expiresAt: string; regInfo: unknown };
    expect(body.regInfo).toEqual({ phoneNumber: ALICE, regStatus: 'Registered' });
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(3590_000);
    // Kamailio challenges every REGISTER (401) and saves the binding only after the digest checks out.
    const bindings = await lab.kamailio.locations(ALICE);
    const ours = bindings.find((b) => b.contact.includes(`sip:${body.registrationId}@127.0.0.1:${gw.sipPort}`));
    expect(ours).toBeDefined();
    expect(ours!.expires).toBeLessThanOrEqual(60);
    const get = await gw.request('GET', `${BASE}/${body.registrationId}`, { token });
    expect(get.status).toBe(200);
    expect(get.body).toEqual(body);
    const list = await gw.request('GET', `${BASE}?deviceId=${deviceId}`, { token });
    expect(list.body).toEqual([body]);
  });

  it('refuses a second registration of the same device and number with 409 ALREADY_EXISTS', async () => {
    const deviceId = randomUUID();
    expect((await register(deviceId)).status).toBe(201);
    const again = await register(deviceId);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ status: 409, code: 'ALREADY_EXISTS', message: expect.any(String) });
  });

  it('answers 400 OUT_OF_RANGE for an expiry below the minimum, and stores nothing', async () => {
    const deviceId = randomUUID();
    const res = await register(deviceId, { registrationExpireTime: new Date(Date.now() + 10_000).toISOString() });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, code: 'OUT_OF_RANGE' });
    expect((await gw.request('GET', `${BASE}?deviceId=${deviceId}`, { token })).body).toEqual([]);
  });

  it('caps an expiry above the maximum at 24 h', async () => {
    const res = await register(randomUUID(), { registrationExpireTime: new Date(Date.now() + 7 * 86400_000).toISOString() });
    expect(res.status).toBe(201);
    const expiresAt = Date.parse((res.body as { expiresAt: string }).expiresAt);
    expect(Math.abs(expiresAt - (Date.now() + 86400_000))).toBeLessThan(5000);
  });

  it('refreshes on PUT: a new REGISTER resets the binding in the location table', async () => {
    const res = await register();
    const { registrationId } = res.body as { registrationId: string };
    const before = (await lab.kamailio.locations(ALICE)).find((b) => b.contact.includes(registrationId))!;
    // the binding ages (Kamailio counts its seconds down) before the refresh
    const aged = await eventually(async () => (await lab.kamailio.locations(ALICE)).find((b) => b.contact.includes(registrationId) && b.expires < before.expires), 10_000, 'the binding to age');
    const put = await gw.request('PUT', `${BASE}/${registrationId}`, { token, body: { registrationExpireTime: new Date(Date.now() + 7200_000).toISOString() } });
    expect(put.status).toBe(200);
    expect(Math.abs(Date.parse((put.body as { expiresAt: string }).expiresAt) - (Date.now() + 7200_000))).toBeLessThan(5000);
    const after = (await lab.kamailio.locations(ALICE)).find((b) => b.contact.includes(registrationId))!;
    expect(after.expires).toBeGreaterThan(aged.expires);
    expect(after.callId).toBe(before.callId);
  });

  it('removes the binding on DELETE and answers 404 afterwards', async () => {
    const res = await register();
    const { registrationId } = res.body as { registrationId: string };
    expect((await lab.kamailio.locations(ALICE)).some((b) => b.contact.includes(registrationId))).toBe(true);
    const del = await gw.request('DELETE', `${BASE}/${registrationId}`, { token });
    expect(del.status).toBe(204);
    await eventually(async () => !(await lab.kamailio.locations(ALICE)).some((b) => b.contact.includes(registrationId)), 5000, 'binding removal');
    expect((await gw.request('GET', `${BASE}/${registrationId}`, { token })).status).toBe(404);
    expect((await gw.request('DELETE', `${BASE}/${registrationId}`, { token })).status).toBe(404);
  });

  it("never shows someone else's registration: 404", async () => {
    const res = await register();
    const { registrationId } = res.body as { registrationId: string };
    const bob = await idp.token({ phone_number: '+17085854000', scope: ALL });
    const get = await gw.request('GET', `${BASE}/${registrationId}`, { token: bob });
    expect(get.status).toBe(404);
    expect(get.body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('removes the binding when the registration reaches its expiry, with a registration-ends REGISTRATION_EXPIRED event', async () => {
    const short = await startGateway(lab, idp, { REGISTRATION_MIN_TTL_S: '2', SIP_REGISTER_EXPIRES_S: '60' });
    const sink = await startSink();
    try {
      const withEvents = await idp.token({ phone_number: ALICE, scope: `${ALL} webrtc-events:${ENDS}:create` });
      const deviceId = randomUUID();
      const res = await short.request('POST', BASE, { token: withEvents, body: { deviceId, registrationExpireTime: new Date(Date.now() + 4000).toISOString() } });
      expect(res.status).toBe(201);
      const { registrationId } = res.body as { registrationId: string };
      const sub = await short.request('POST', '/webrtc-events/v0.3/subscriptions', {
        token: withEvents,
        body: { protocol: 'HTTP', sink: sink.url, types: [ENDS], config: { subscriptionDetail: { deviceId } } },
      });
      expect(sub.status).toBe(201);
      expect((await lab.kamailio.locations(ALICE)).some((b) => b.contact.includes(registrationId))).toBe(true);
      await eventually(async () => !(await lab.kamailio.locations(ALICE)).some((b) => b.contact.includes(registrationId)), 10_000, 'removal at expiry');
      const ended = await sink.waitFor((e) => e.body.type === ENDS, 10_000, 'registration-ends');
      expect(ended.body.data).toMatchObject({ registrationId, terminationReason: 'REGISTRATION_EXPIRED' });
      expect((await short.request('GET', `${BASE}/${registrationId}`, { token })).status).toBe(404);
    } finally {
      await short.close();
      await sink.close();
    }
  });

  it('removes its bindings at graceful shutdown when it is their last holder (in-memory store)', async () => {
    const solo = await startGateway(lab, idp, {});
    const res = await solo.request('POST', BASE, { token, body: { deviceId: randomUUID() } });
    expect(res.status).toBe(201);
    const { registrationId } = res.body as { registrationId: string };
    expect((await lab.kamailio.locations(ALICE)).some((b) => b.contact.includes(registrationId))).toBe(true);
    await solo.close();
    expect((await lab.kamailio.locations(ALICE)).some((b) => b.contact.includes(registrationId))).toBe(false);
  });

  it('answers 403 PERMISSION_DENIED when the IMS core refuses the credentials, and stores nothing', async () => {
    const wrong = await startGateway(lab, idp, { SIP_CREDENTIALS_FILE: writeCredentialsFile({ [ALICE]: 'wrong-password' }) });
    try {
      const deviceId = randomUUID();
      const res = await wrong.request('POST', BASE, { token, body: { deviceId } });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ status: 403, code: 'PERMISSION_DENIED', message: expect.stringContaining('refused') });
      expect((await wrong.request('GET', `${BASE}?deviceId=${deviceId}`, { token })).body).toEqual([]);
    } finally {
      await wrong.close();
    }
  });
});
