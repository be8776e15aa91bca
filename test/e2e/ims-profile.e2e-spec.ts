import { randomUUID } from 'node:crypto';
import { RegistrationStore } from '../../src/store/registration-store';
import { createTestIdp, TestIdp } from '../support/auth';
import { GatewayUnderTest, startGateway } from '../support/gateway';
import { Lab, runSippUac, startLab } from '../support/lab';
import { SipExchange, tracedMessages } from '../support/sip-trace';

const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = ['webrtc-registration:sessions:create', 'webrtc-call-handling:sessions:create', 'webrtc-call-handling:sessions:delete'].join(' ');
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 42988 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n';
const ICSI_TAG = '"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"';
/** kamailio.cfg FLB_MMTEL: the binding registered the MMTel ICSI. */
const FLB_MMTEL = 1 << 8;

/**
 * SIP_IMS_PROFILE against the lab's Kamailio playing a small IMS core: it returns Service-Route and
 * P-Associated-URI on REGISTER, keeps the MMTel feature tag with the binding, and marks an INVITE
 * that came back through its Service-Route with P-Served-User (RFC 5502) before relaying it.
 */
describe('SIP_IMS_PROFILE against the lab IMS core (TS 24.229 §5.1.1.2, §5.1.2A)', () => {
  let lab: Lab;
  let idp: TestIdp;

  beforeAll(async () => {
    lab = await startLab({ ringMs: 50 });
    idp = await createTestIdp();
  });
  afterAll(async () => {
    await lab?.stop();
  });

  describe.each<{ profile: 'ims' | 'plain'; phone: string }>([
    { profile: 'ims', phone: '+17085852753' },
    { profile: 'plain', phone: '+17085854000' },
  ])('SIP_IMS_PROFILE=$profile', ({ profile, phone }) => {
    const ims = profile === 'ims';
    let gw: GatewayUnderTest;
    let token: string;
    let registrationId: string;

    beforeAll(async () => {
      gw = await startGateway(lab, idp, { SIP_IMS_PROFILE: profile });
      token = await idp.token({ phone_number: phone, scope: SCOPES });
      const reg = await gw.request('POST', REG, { token, body: { deviceId: randomUUID() } });
      expect(reg.status).toBe(201);
      registrationId = (reg.body as { registrationId: string }).registrationId;
    });
    afterAll(async () => {
      await gw?.close();
    });

    it(ims ? 'registers the MMTel feature tag: Kamailio flags the binding' : 'registers no MMTel feature tag', async () => {
      const [binding] = await lab.kamailio.locations(phone);
      expect(binding?.contact).toContain(registrationId);
      expect(binding?.instance).toMatch(/^<urn:uuid:/);
      expect(((binding?.cflags ?? 0) & FLB_MMTEL) !== 0).toBe(ims);
    });

    it(ims ? "stores the 200 OK's Service-Route, P-Associated-URI and GRUUs" : 'stores no IMS facts', async () => {
      const stored = await gw.app.get(RegistrationStore).get(registrationId);
      if (!ims) return expect(stored?.binding.ims).toBeUndefined();
      expect(stored?.binding.ims).toMatchObject({
        serviceRoute: [`sip:orig@${lab.kamailio.host}:${lab.kamailio.port};lr`],
        associatedUris: [`sip:${phone}@ims.lab`, `tel:${phone}`],
        path: [],
      });
      expect(stored?.binding.ims?.pubGruu).toMatch(/;gr=urn:uuid:/);
    });

    it(ims ? 'calls through the Service-Route with P-Preferred-Service, -Identity and Accept-Contact' : 'calls without any of it', async () => {
      const exchange = await SipExchange.start(lab.uas.answer);
      const res = await gw.request('POST', CALLS, {
        token,
        headers: { registrationid: registrationId },
        body: { originatorAddress: `tel:${phone}`, receiverAddress: `tel:${lab.numbers.answer}`, offer: { sdp: OFFER } },
      });
      expect(res.status).toBe(201);
      const invite = await exchange.received('INVITE');
      const h = (name: string): string[] | undefined => invite.headers[name];
      // Kamailio consumed the preloaded Route (none reaches the far end) and saw it was ours
      expect(h('route')).toBeUndefined();
      expect(h('p-served-user')).toEqual(ims ? [`<sip:${phone}@ims.lab>;sescase=orig;regstate=reg`] : undefined);
      expect(h('p-preferred-service')).toEqual(ims ? ['urn:urn-7:3gpp-service.ims.icsi.mmtel'] : undefined);
      expect(h('p-preferred-identity')).toEqual(ims ? [`<sip:${phone}@ims.lab>`] : undefined);
      expect(h('accept-contact')).toEqual(ims ? [`*;+g.3gpp.icsi-ref=${ICSI_TAG}`] : undefined);
      const id = (res.body as { mediaSessionId: string }).mediaSessionId;
      await gw.request('DELETE', `${CALLS}/${id}`, { token });
    });

    // RFC 3841 §7.2.4: Kamailio refuses itself ("No MMTel Contact") when the binding lacks the tag;
    // otherwise the INVITE reaches the gateway, which has no session-invitation subscriber: 480 too
    const refusal = ims ? 'Temporarily Unavailable' : 'No MMTel Contact';
    it(`routes a network call that requires MMTel ${ims ? 'to the gateway' : 'nowhere'} (480 ${refusal})`, async () => {
      const result = await runSippUac({ scenario: 'uac-mmtel-invite-final', proxyPort: lab.kamailio.port, callee: phone, caller: '+15550001234', timeoutS: 10 });
      expect(result.exitCode).toBe(0);
      const final = tracedMessages(result.messages).find((m) => m.direction === 'received' && m.method === 'INVITE' && (m.status ?? 0) >= 200);
      expect(final?.startLine).toBe(`SIP/2.0 480 ${refusal}`);
    });
  });
});
