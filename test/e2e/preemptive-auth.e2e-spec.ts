/**
 * Pre-emptive digest credentials (RFC 3261 §22.1, SIP_PREEMPTIVE_AUTH_MAX_AGE_S) against the lab's
 * Kamailio, which challenges every REGISTER (401) and every INVITE and SUBSCRIBE of a subscriber
 * (407), as small IMS cores and SIP registrars do:
 *   - with pre-emptive credentials, a subscriber's calls after its first challenge go out once,
 *     signed with that challenge's nonce (nonce count going up), and Kamailio routes them to the
 *     SIPp far end without a 407; the same with the setting at 0 (positive control): every call
 *     meets a 407 and its INVITE is sent twice;
 *   - a nonce Kamailio no longer accepts (`nonce_expire` passed: 407 with stale=true) is answered
 *     once and the call connects; the fresh nonce signs the next call;
 *   - a core that never accepts a nonce twice (Kamailio `one_time_nonce`): every pre-emptive INVITE
 *     is refused, answered like any challenge, and every call still connects;
 *   - the un-REGISTER of `DELETE /sessions/{id}` (registration) carries the registrar's nonce.
 * What went over the wire is counted from the gateway's own `gateway_sip_messages_total`
 * (Kamailio consumes the credentials, so the far end cannot see them).
 */
import { createTestIdp, TestIdp } from '../support/auth';
import { API, AUDIO_OFFER, registerApp, RegisteredApp } from '../support/camara-app';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { KamailioInstance, Lab, LAB_DOMAIN, SippUas, startKamailio, startSippUas } from '../support/lab';

/** Kamailio's nonce lifetime here (LAB_NONCE_EXPIRE), short enough to wait out once. */
const NONCE_EXPIRE_S = 6;

/** gateway_sip_messages_total of one gateway: `out` requests of `method`, or `in` responses with `code`. */
async function tally(gw: GatewayUnderTest, direction: 'in' | 'out', method: string, code?: number): Promise<number> {
  const text = (await gw.request('GET', '/metrics')).text;
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('gateway_sip_messages_total{') &&
        l.includes(`direction="${direction}"`) &&
        l.includes(`method="${method}"`) &&
        (code === undefined ? l.includes('kind="request"') : l.includes(`code="${code}"`)),
    );
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** What one action cost on the wire: INVITEs (or REGISTERs) sent and challenges received. */
async function costOf(gw: GatewayUnderTest, method: 'INVITE' | 'REGISTER', action: () => Promise<void>): Promise<{ sent: number; challenges: number }> {
  const code = method === 'INVITE' ? 407 : 401;
  const [sent0, ch0] = [await tally(gw, 'out', method), await tally(gw, 'in', method, code)];
  await action();
  return { sent: (await tally(gw, 'out', method)) - sent0, challenges: (await tally(gw, 'in', method, code)) - ch0 };
}

describe('pre-emptive digest credentials (RFC 3261 §22.1) against Kamailio', () => {
  let uas: SippUas;
  let kamailio: KamailioInstance;
  let oneTime: KamailioInstance;
  let idp: TestIdp;
  const gateways: GatewayUnderTest[] = [];
  const apps: RegisteredApp[] = [];

  beforeAll(async () => {
    uas = await startSippUas('uas-answer-200', { name: 'preemptive-uas' });
    kamailio = await startKamailio({ uasPort: uas.port, defines: { LAB_NONCE_EXPIRE: NONCE_EXPIRE_S } });
    oneTime = await startKamailio({ uasPort: uas.port, defines: { LAB_ONE_TIME_NONCE: 1 } });
    idp = await createTestIdp();
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.close()));
    await Promise.allSettled(apps.map((a) => a.close()));
    await Promise.allSettled([uas?.stop(), kamailio?.stop(), oneTime?.stop()]);
  });

  async function gatewayWith(k: KamailioInstance, maxAgeS: number, phoneNumber: string): Promise<{ gw: GatewayUnderTest; app: RegisteredApp }> {
    const gw = await startGateway({ kamailio: k, domain: LAB_DOMAIN, redis: null } as unknown as Lab, idp, { SIP_PREEMPTIVE_AUTH_MAX_AGE_S: String(maxAgeS) });
    gateways.push(gw);
    const app = await registerApp(gw, idp, phoneNumber, ['session-status']);
    apps.push(app);
    return { gw, app };
  }

  /** One call placed, Connected at the sink, then ended (Terminated). */
  async function connectedCall(gw: GatewayUnderTest, app: RegisteredApp): Promise<void> {
    const res = await gw.request('POST', API.sessions, {
      token: app.token,
      headers: { registrationid: app.registrationId },
      body: { originatorAddress: `tel:${app.phoneNumber}`, receiverAddress: 'tel:+15550001111', offer: { sdp: AUDIO_OFFER } },
    });
    expect(res.status).toBe(201);
    const id = (res.body as { mediaSessionId: string }).mediaSessionId;
    await app.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected');
    expect((await gw.request('DELETE', `${API.sessions}/${id}`, { token: app.token })).status).toBe(204);
    await app.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 10_000, 'Terminated');
  }

  it('off (0): every call meets a 407 and sends its INVITE twice (positive control)', async () => {
    const { gw, app } = await gatewayWith(kamailio, 0, '+17085854000');
    for (let i = 0; i < 2; i++) expect(await costOf(gw, 'INVITE', () => connectedCall(gw, app))).toEqual({ sent: 2, challenges: 1 });
  }, 60_000);

  it('on: once a nonce is known, each call sends one INVITE and meets no 407; a stale nonce is answered once and the fresh one kept', async () => {
    const { gw, app } = await gatewayWith(kamailio, 3600, '+17085852753');
    // the first call learns the proxy's nonce (or reuses the one of the reg SUBSCRIBE)
    await connectedCall(gw, app);
    const learnedAt = Date.now();
    for (let i = 0; i < 2; i++) expect(await costOf(gw, 'INVITE', () => connectedCall(gw, app))).toEqual({ sent: 1, challenges: 0 });

    // Kamailio's nonce lifetime passes: nothing to wait on but its clock
    await new Promise((r) => setTimeout(r, Math.max(0, learnedAt + (NONCE_EXPIRE_S + 1) * 1000 - Date.now())));
    expect(await costOf(gw, 'INVITE', () => connectedCall(gw, app))).toEqual({ sent: 2, challenges: 1 });
    expect(await costOf(gw, 'INVITE', () => connectedCall(gw, app))).toEqual({ sent: 1, challenges: 0 });
  }, 60_000);

  it('a core that accepts each nonce once: every pre-emptive INVITE is refused, answered, and the call connects', async () => {
    const { gw, app } = await gatewayWith(oneTime, 3600, '+17085850001');
    await connectedCall(gw, app);
    for (let i = 0; i < 2; i++) expect(await costOf(gw, 'INVITE', () => connectedCall(gw, app))).toEqual({ sent: 2, challenges: 1 });
  }, 60_000);

  it("the un-REGISTER goes out once, signed with the registrar's nonce; with 0 it meets a 401", async () => {
    for (const [maxAgeS, expected] of [
      [3600, { sent: 1, challenges: 0 }],
      [0, { sent: 2, challenges: 1 }],
    ] as const) {
      const { gw, app } = await gatewayWith(kamailio, maxAgeS, '+17085850002');
      const token = await idp.token({ phone_number: app.phoneNumber, scope: 'webrtc-registration:sessions:delete' });
      const cost = await costOf(gw, 'REGISTER', async () => {
        expect((await gw.request('DELETE', `${API.registrations}/${app.registrationId}`, { token })).status).toBe(204);
        await eventually(async () => ((await tally(gw, 'in', 'REGISTER', 200)) >= 2 ? true : undefined), 5000, 'un-REGISTER answered');
      });
      expect(cost).toEqual(expected);
    }
  }, 60_000);
});
