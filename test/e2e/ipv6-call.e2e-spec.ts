/**
 * IPv6 end to end through the proxy: the gateway listens on ::1, the lab Kamailio also on [::1]
 * (LAB_LISTEN_IP6) and routes to a SIPp UAS on ::1 (uas-answer-200.xml). REGISTER, INVITE, ACK
 * and BYE all cross IPv6 Via and Record-Route headers (RFC 5118); the call connects and its BYE
 * is answered.
 */
import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { KamailioInstance, Lab, LAB_DOMAIN, SippUas, startKamailio, startSippUas } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { SipExchange } from '../support/sip-trace';

const ALICE = '+17085852753';
const FAR = '+15550009999';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = ['webrtc-registration:sessions:create', 'webrtc-call-handling:sessions:create', 'webrtc-call-handling:sessions:read', 'webrtc-call-handling:sessions:delete'].join(' ');
const OFFER = 'v=0\r\no=alice 100 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 2001:db8::9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';

describe('an outgoing call over IPv6: gateway on ::1, Kamailio on [::1], SIPp UAS on ::1', () => {
  let kamailio: KamailioInstance;
  let uas: SippUas;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    uas = await startSippUas('uas-answer-200', { name: 'answer6', host: '::1' });
    kamailio = await startKamailio({ uasPort: uas.port, defines: { LAB_LISTEN_IP6: '[::1]', LAB_UAS_HOST: '"[::1]"' } });
    idp = await createTestIdp();
    gw = await startGateway({ kamailio, domain: LAB_DOMAIN, redis: null } as unknown as Lab, idp, {
      SIP_LISTEN_ADDRESS: '::1',
      SIP_OUTBOUND_PROXY: `sip:[::1]:${kamailio.port};transport=udp`,
    });
    token = await idp.token({ phone_number: ALICE, scope: SCOPES });
    const reg = await gw.request('POST', '/webrtc-registration/v0.4/sessions', { token, body: { deviceId: randomUUID() } });
    expect(reg.status).toBe(201);
    registrationId = (reg.body as { registrationId: string }).registrationId;
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await Promise.allSettled([uas?.stop(), kamailio?.stop()]);
  });

  it('connects and ends with a BYE that is answered, over IPv6 Via and Record-Route', async () => {
    const sip = await SipExchange.start(uas);
    const created = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${ALICE}`, originatorName: 'Alice', receiverAddress: `tel:${FAR}`, receiverName: 'Far', offer: { sdp: OFFER } },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { mediaSessionId: string }).mediaSessionId;
    await eventually(async () => ((await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status: string }).status === 'Connected', 10_000, 'Connected');

    const invite = await sip.received('INVITE');
    // both hops are IPv6: Kamailio's Via and ours, and Kamailio's Record-Route
    expect(invite.headers['via']?.join(',')).toMatch(/SIP\/2\.0\/UDP \[::1\]:\d+;.*SIP\/2\.0\/UDP \[::1\]:\d+/s);
    expect(invite.headers['record-route']?.join(',')).toContain('[::1]');
    expect((await sip.finalResponseTo(invite)).status).toBe(200);
    await sip.received('ACK');

    expect((await gw.request('DELETE', `${CALLS}/${id}`, { token })).status).toBe(204);
    const bye = await sip.received('BYE');
    expect(bye.headers['route']?.join(',') ?? '').not.toContain('127.0.0.1');
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    // a session the app deleted is gone
    expect((await gw.request('GET', `${CALLS}/${id}`, { token })).status).toBe(404);
  }, 60_000);
});
