/**
 * The `reg` event package (RFC 3680) against a SIPp registrar playing the P-CSCF/S-CSCF: after
 * registering, the gateway SUBSCRIBEs (TS 24.229 §5.1.1.3); a NOTIFY that de-registers our contact
 * ends the registration with `registration-ends` (NETWORK_TERMINATED), one that deactivates it
 * makes the gateway register again (TS 24.229 §5.1.1.7).
 */
import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, runSippUac, SippUas, startLab, startSippUas } from '../support/lab';
import { GatewayUnderTest, startGateway } from '../support/gateway';
import { startSink, TestSink } from '../support/sink';
import { SipExchange, TracedMessage, tracedMessages } from '../support/sip-trace';

const ALICE = '+17085852753';
const REG = '/webrtc-registration/v0.4/sessions';
const ENDS = 'org.camaraproject.webrtc-events.v0.registration-ends';
const SCOPES = ['webrtc-registration:sessions:create', 'webrtc-registration:sessions:read', `webrtc-events:${ENDS}:create`].join(' ');

describe('reg event package (RFC 3680) with a SIPp IMS registrar', () => {
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

  async function behind(scenario: string, env: Record<string, string> = {}): Promise<{ gw: GatewayUnderTest; registrar: SippUas; exchange: SipExchange }> {
    const registrar = await startSippUas(scenario);
    cleanups.push(() => registrar.stop());
    const exchange = await SipExchange.start(registrar);
    const gw = await startGateway(lab, idp, { SIP_OUTBOUND_PROXY: `sip:127.0.0.1:${registrar.port}`, SIP_REGISTER_EXPIRES_S: '60', SIP_IMS_PROFILE: 'ims', ...env });
    cleanups.push(() => gw.close());
    return { gw, registrar, exchange };
  }

  async function registered(gw: GatewayUnderTest): Promise<{ registrationId: string; sink: TestSink }> {
    const deviceId = randomUUID();
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const reg = await gw.request('POST', REG, { token, body: { deviceId } });
    expect(reg.status).toBe(201);
    const sub = await gw.request('POST', '/webrtc-events/v0.3/subscriptions', { token, body: { protocol: 'HTTP', sink: sink.url, types: [ENDS], config: { subscriptionDetail: { deviceId } } } });
    expect(sub.status).toBe(201);
    return { registrationId: (reg.body as { registrationId: string }).registrationId, sink };
  }

  /** The SUBSCRIBE as TS 24.229 §5.1.1.3 has it, answered 200, and the first NOTIFY answered 200. */
  async function subscribed(exchange: SipExchange, registrationId: string): Promise<TracedMessage> {
    const subscribe = await exchange.received('SUBSCRIBE', 10_000);
    expect(subscribe.startLine).toBe(`SUBSCRIBE sip:${ALICE}@ims.lab SIP/2.0`);
    expect(subscribe.headers['event']).toEqual(['reg']);
    expect(subscribe.headers['accept']).toEqual(['application/reginfo+xml']);
    expect(subscribe.headers['expires']).toEqual(['600000']);
    // the Service-Route of the REGISTER's 200 OK, preloaded (RFC 3608 §6)
    expect(subscribe.headers['route']?.[0]).toMatch(/^<sip:orig@127\.0\.0\.1:\d+;lr>$/);
    expect(subscribe.headers['p-preferred-identity']).toEqual([`<sip:${ALICE}@ims.lab>`]);
    expect(subscribe.callId).toContain(registrationId);
    expect((await exchange.finalResponseTo(subscribe)).status).toBe(200);
    const first = await exchange.waitFor('NOTIFY 1', (m) => m.direction === 'sent' && m.method === 'NOTIFY' && m.cseq === 1 && m.callId === subscribe.callId);
    expect((await exchange.finalResponseTo(first)).status).toBe(200);
    return subscribe;
  }

  it('terminated/rejected: 200, the registration is gone (404), registration-ends NETWORK_TERMINATED; a later NOTIFY gets 481', async () => {
    const { gw, exchange } = await behind('uas-registrar-reg-event-rejected');
    const { registrationId, sink } = await registered(gw);
    const subscribe = await subscribed(exchange, registrationId);
    const notify = (cseq: number) => exchange.waitFor(`NOTIFY ${cseq}`, (m) => m.direction === 'sent' && m.method === 'NOTIFY' && m.cseq === cseq && m.callId === subscribe.callId, 10_000);
    expect((await exchange.finalResponseTo(await notify(2))).status).toBe(200);
    const ended = await sink.waitFor((e) => e.body.type === ENDS, 10_000, 'registration-ends');
    expect(ended.body.data).toMatchObject({ registrationId, terminationReason: 'NETWORK_TERMINATED', terminationDescription: expect.stringContaining('reg event: rejected') });
    expect((await gw.request('GET', `${REG}/${registrationId}`, { token })).status).toBe(404);
    // RFC 6665 §4.1.3: the subscription is unknown now
    expect((await exchange.finalResponseTo(await notify(3))).status).toBe(481);
    // the binding is gone in the network already: no un-REGISTER
    expect((await exchange.messages()).filter((m) => m.direction === 'received' && m.method === 'REGISTER')).toHaveLength(1);
  });

  it('terminated/deactivated: the gateway registers again at once (new Call-ID) and the registration stays', async () => {
    const { gw, exchange } = await behind('uas-registrar-reg-event-deactivated');
    const { registrationId, sink } = await registered(gw);
    const firstRegister = await exchange.received('REGISTER');
    const subscribe = await subscribed(exchange, registrationId);
    const deactivated = await exchange.waitFor('NOTIFY 2', (m) => m.direction === 'sent' && m.method === 'NOTIFY' && m.cseq === 2 && m.callId === subscribe.callId, 10_000);
    expect((await exchange.finalResponseTo(deactivated)).status).toBe(200);
    const again = await exchange.waitFor('a new REGISTER', (m) => m.direction === 'received' && m.status === undefined && m.method === 'REGISTER' && m.callId !== firstRegister.callId, 10_000);
    expect(again.cseq).toBe(1);
    expect((await exchange.finalResponseTo(again)).status).toBe(200);
    expect((await gw.request('GET', `${REG}/${registrationId}`, { token })).status).toBe(200);
    expect(sink.events.filter((e) => e.body.type === ENDS)).toEqual([]);
  });

  it('RFC 6665 §4.1.3: a reg NOTIFY in a subscription the gateway never made gets 481', async () => {
    // the far end sends from its own port: trust the whole loopback host for this one
    const { gw } = await behind('uas-registrar-reg-event-rejected', { SIP_TRUSTED_PEERS: '127.0.0.1' });
    // a Call-ID of the shape the gateway chooses for its reg subscriptions, naming no registration
    const res = await runSippUac({ scenario: 'uac-notify-unknown-481', proxyPort: gw.sipPort, timeoutS: 10, extraArgs: ['-cid_str', 'reg-0123456789abcdef-%u-%p'] });
    const messages = tracedMessages(res.messages);
    const notify = messages.find((m) => m.direction === 'sent' && m.method === 'NOTIFY');
    expect(notify?.headers['event']).toEqual(['reg']);
    expect(notify?.callId).toMatch(/^reg-0123456789abcdef-\d+-\d+$/);
    expect(messages.find((m) => m.direction === 'received' && m.status !== undefined && m.callId === notify?.callId && m.cseq === notify.cseq)?.status).toBe(481);
    expect(res.exitCode).toBe(0);
  });
});
