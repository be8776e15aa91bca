/**
 * The IMS core goes away under a registered app: the lab Kamailio answers the REGISTER, then stops.
 *   - UDP: the INVITE gets no answer at all (nothing listens on the proxy's port) → Timer B
 *     (RFC 3261 §17.1.1.2, 64·T1 with SIP_T1_MS=50) → `Failed` with its reason, as an event and on GET;
 *   - TCP: the connection to the proxy is refused (RFC 3261 §18.4: a transport error fails the
 *     transaction) → the call `Failed`, and a new registration → 503 UNAVAILABLE.
 */
import { createTestIdp, TestIdp } from '../support/auth';
import { API, AUDIO_OFFER, registerApp, RegisteredApp } from '../support/camara-app';
import { GatewayUnderTest, startGateway } from '../support/gateway';
import { KamailioInstance, Lab, LAB_DOMAIN, startKamailio } from '../support/lab';

const ALICE = '+17085852753';
const BOB = '+15550001234';

describe('the IMS core unreachable after registration (Kamailio stopped)', () => {
  let idp: TestIdp;
  let kamailio: KamailioInstance | undefined;
  let gw: GatewayUnderTest | undefined;
  let alice: RegisteredApp | undefined;

  beforeAll(async () => {
    idp = await createTestIdp();
  });
  afterEach(async () => {
    await gw?.close();
    await alice?.close();
    await kamailio?.stop();
    [gw, alice, kamailio] = [undefined, undefined, undefined];
  });

  /** Kamailio, a gateway on it (`env`), Alice registered with a sink; then Kamailio stops. */
  async function registeredThenCoreDown(env: Record<string, string>, proxy: (k: KamailioInstance) => string): Promise<{ gw: GatewayUnderTest; alice: RegisteredApp }> {
    kamailio = await startKamailio();
    gw = await startGateway({ kamailio, domain: LAB_DOMAIN, redis: null } as unknown as Lab, idp, { SIP_OUTBOUND_PROXY: proxy(kamailio), ...env });
    alice = await registerApp(gw, idp, ALICE, ['session-status']);
    await kamailio.stop();
    return { gw, alice };
  }
  async function call(g: GatewayUnderTest, a: RegisteredApp): Promise<{ status: number; id?: string }> {
    const res = await g.request('POST', API.sessions, {
      token: a.token,
      headers: { registrationid: a.registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${BOB}`, offer: { sdp: AUDIO_OFFER } },
    });
    return { status: res.status, id: (res.body as { mediaSessionId?: string }).mediaSessionId };
  }

  it('UDP, no answer to the INVITE: Timer B → Failed, with a session-status event naming it', async () => {
    const { gw, alice } = await registeredThenCoreDown({ SIP_T1_MS: '50' }, (k) => k.outboundProxy);
    const started = Date.now();
    const { status, id } = await call(gw, alice);
    expect(status).toBe(201);
    const failed = await alice.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Failed', 15_000, 'Failed event');
    expect(failed.body.data.reason).toMatch(/Timer B/);
    // Timer B is 64·T1 = 3.2 s: not before it (no early give-up), and not the 60 s ring timeout
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(alice.sink.statuses(id)).toEqual(['Failed']);
    expect(((await gw.request('GET', `${API.sessions}/${id}`, { token: alice.token })).body as { status: string }).status).toBe('Failed');
  }, 60_000);

  it('TCP, connection refused: the call → Failed with the transport error, a new registration → 503 UNAVAILABLE', async () => {
    const { gw, alice } = await registeredThenCoreDown({ SIP_TRANSPORT: 'tcp' }, (k) => k.outboundProxyTcp);
    const { status, id } = await call(gw, alice);
    // the POST answers once the INVITE is handed to the transaction layer; the refused connection comes after
    expect(status).toBe(201);
    const failed = await alice.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Failed', 15_000, 'Failed event');
    // the socket's error, not a timer (Timer B would take 32 s here)
    expect(failed.body.data.reason).toMatch(/socket|connect/i);
    expect(failed.body.data.reason).not.toMatch(/Timer B/);
    expect(alice.sink.statuses(id)).toEqual(['Failed']);
    expect(((await gw.request('GET', `${API.sessions}/${id}`, { token: alice.token })).body as { status: string }).status).toBe('Failed');
    // a transport error, answered at once: no Timer F (32 s) is waited for
    const asked = Date.now();
    const reg = await gw.request('POST', API.registrations, { token: alice.token, body: { deviceId: '0b5c1f3e-2d4a-4c6b-9e8f-1a2b3c4d5e6f' } });
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(reg.status).toBe(503);
    expect(reg.body).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
  }, 60_000);
});
