/**
 * What the network says about a registration, played by a SIPp registrar the gateway REGISTERs
 * through: refused or unanswered refreshes end the registration with a `registration-ends` event
 * (NETWORK_TERMINATED), and a refusing registrar maps to the README's API answers.
 */
import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, SippUas, startLab, startSippUas } from '../support/lab';
import { GatewayUnderTest, startGateway } from '../support/gateway';
import { startSink, TestSink } from '../support/sink';
import { SipExchange } from '../support/sip-trace';

const ALICE = '+17085852753';
const REG = '/webrtc-registration/v0.4/sessions';
const ENDS = 'org.camaraproject.webrtc-events.v0.registration-ends';
const SCOPES = ['webrtc-registration:sessions:create', 'webrtc-registration:sessions:read', `webrtc-events:${ENDS}:create`].join(' ');

describe('registration outcomes decided by the registrar (SIPp)', () => {
  let lab: Lab;
  let idp: TestIdp;
  let token: string;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    lab = await startLab();
    idp = await createTestIdp();
    token = await idp.token({ phone_number: ALICE, scope: SCOPES });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  /** A gateway whose outbound proxy is a SIPp registrar playing `scenario`. */
  async function behind(scenario: string, env: Record<string, string> = {}): Promise<{ gw: GatewayUnderTest; registrar: SippUas }> {
    const registrar = await startSippUas(scenario);
    cleanups.push(() => registrar.stop());
    const gw = await startGateway(lab, idp, { SIP_OUTBOUND_PROXY: `sip:127.0.0.1:${registrar.port}`, SIP_REGISTER_EXPIRES_S: '60', ...env });
    cleanups.push(() => gw.close());
    return { gw, registrar };
  }

  /** A registered device whose registration-ends events reach a sink. */
  async function registered(gw: GatewayUnderTest): Promise<{ registrationId: string; sink: TestSink }> {
    const deviceId = randomUUID();
    const reg = await gw.request('POST', REG, { token, body: { deviceId } });
    expect(reg.status).toBe(201);
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const sub = await gw.request('POST', '/webrtc-events/v0.3/subscriptions', { token, body: { protocol: 'HTTP', sink: sink.url, types: [ENDS], config: { subscriptionDetail: { deviceId } } } });
    expect(sub.status).toBe(201);
    return { registrationId: (reg.body as { registrationId: string }).registrationId, sink };
  }

  it('ends the registration (registration-ends NETWORK_TERMINATED, then 404) when the registrar refuses the refresh with 403', async () => {
    const { gw, registrar } = await behind('uas-registrar-refuses-refresh-403');
    const exchange = await SipExchange.start(registrar);
    const { registrationId, sink } = await registered(gw);
    const ended = await sink.waitFor((e) => e.body.type === ENDS, 10_000, 'registration-ends');
    expect(ended.body.data).toMatchObject({ registrationId, terminationReason: 'NETWORK_TERMINATED', terminationDescription: expect.stringContaining('403') });
    // the refresh really was refused on the wire (same Call-ID, next CSeq)
    const refresh = await exchange.waitFor('the refresh', (m) => m.direction === 'received' && m.method === 'REGISTER' && m.cseq >= 2);
    expect((await exchange.finalResponseTo(refresh)).status).toBe(403);
    expect((await gw.request('GET', `${REG}/${registrationId}`, { token })).status).toBe(404);
  });

  it('ends the registration when no refresh is answered before the network binding lapses', async () => {
    const { gw } = await behind('uas-registrar-ignores-refresh', { SIP_TRANSACTION_TIMEOUT_MS: '1500' });
    const { registrationId, sink } = await registered(gw);
    const ended = await sink.waitFor((e) => e.body.type === ENDS, 15_000, 'registration-ends');
    expect(ended.body.data).toMatchObject({ registrationId, terminationReason: 'NETWORK_TERMINATED', terminationDescription: expect.stringContaining('could not refresh') });
    expect((await gw.request('GET', `${REG}/${registrationId}`, { token })).status).toBe(404);
  });

  it.each([
    ['uas-registrar-503', 502, 'BAD_GATEWAY'],
    ['uas-registrar-404', 403, 'PERMISSION_DENIED'],
  ])('answers a registrar playing %s with %i %s and stores nothing', async (scenario, status, code) => {
    const { gw } = await behind(scenario);
    const deviceId = randomUUID();
    const res = await gw.request('POST', REG, { token, body: { deviceId } });
    expect(res).toMatchObject({ status, body: { status, code } });
    // nothing kept: the same device can register once the network accepts it (no 409)
    expect((await gw.request('POST', REG, { token, body: { deviceId } })).status).toBe(status);
  });
});
