/**
 * A regular (non-emergency) call that carries the caller's location, sent with SDP_PROFILE=ims:
 * what reaches the far end, read back from its trace independently of the code that built it.
 */
import { randomUUID } from 'node:crypto';
import { header, parseMultipart, parsePidfLo } from '../../src/sessions/emergency/__testing__/sip-body';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { SipExchange } from '../support/sip-trace';

const ALICE = '+17085852753';
const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = ['webrtc-registration:sessions:create', 'webrtc-call-handling:sessions:create', 'webrtc-call-handling:sessions:read', 'webrtc-call-handling:sessions:delete'].join(' ');
/** A Chrome offer: trickle ICE and the attributes the ims profile strips (extmap-allow-mixed, msid-semantic). */
const CHROME_OFFER =
  'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\n' +
  'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:khLS\r\na=ice-pwd:cxLzteJaJBou3DspNaPsJhlQ\r\n' +
  'a=ice-options:trickle\r\na=fingerprint:sha-256 FA:14:42:3B:C7:97:1B:E8:AE:0C:2E:14:B1:F2:F7:4B:3A:1F:4D:2A:84:77:12:1B:4B:9A:44:8F:65:C1:1E:5A\r\n' +
  'a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n';
const LOCATION = {
  shape: 'Circle',
  coordinates: { latitude: 48.8584, longitude: 2.2945, radius: 50 },
  method: 'GPS',
  timestamp: '2026-11-29T10:00:00Z',
} as const;

describe('a located regular call with the ims SDP profile (Kamailio + SIPp far end)', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    lab = await startLab({ redis: false });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, { SDP_PROFILE: 'ims' });
    token = await idp.token({ phone_number: ALICE, scope: SCOPES });
    const reg = await gw.request('POST', REG, { token, body: { deviceId: randomUUID() } });
    expect(reg.status).toBe(201);
    registrationId = (reg.body as { registrationId: string }).registrationId;
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  it('sends the PIDF-LO with Geolocation-Routing: no (RFC 6442 §4.2) beside an SDP the ims profile cleaned', async () => {
    const exchange = await SipExchange.start(lab.uas.answer);
    const res = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${lab.numbers.answer}`, offer: { sdp: CHROME_OFFER }, locationDetails: LOCATION },
    });
    expect(res.status).toBe(201);
    const invite = await exchange.received('INVITE');

    // RFC 6442: a regular call's location is for the far end, never for routing
    expect(header(invite, 'Geolocation-Routing')).toBe('no');
    const cid = /^<cid:([^>]+)>$/.exec(header(invite, 'Geolocation'))?.[1];
    expect(cid).toBeDefined();
    const [sdpPart, pidfPart] = parseMultipart(header(invite, 'Content-Type'), invite.body);
    expect(sdpPart?.headers['content-type']).toBe('application/sdp');
    expect(pidfPart?.headers['content-type']).toBe('application/pidf+xml');
    expect(pidfPart?.headers['content-id']).toBe(`<${cid}>`);
    expect(parsePidfLo(pidfPart?.body ?? '')).toMatchObject({ shape: 'Circle', pos: [LOCATION.coordinates.latitude, LOCATION.coordinates.longitude], params: { radius: 50 } });

    // SDP_PROFILE=ims: the documented removals are gone, everything media needs is kept
    const sdp = sdpPart?.body ?? '';
    expect(sdp).not.toMatch(/^a=(extmap-allow-mixed|msid-semantic)/m);
    expect(sdp).not.toMatch(/^a=ice-options:.*trickle/m);
    expect(sdp).toMatch(/^a=ice-ufrag:khLS\r$/m);
    expect(sdp).toMatch(/^a=fingerprint:sha-256 /m);
    expect(sdp).toMatch(/^a=group:BUNDLE 0\r$/m);
    // positive control: the app's own offer had them
    expect(CHROME_OFFER).toMatch(/^a=extmap-allow-mixed/m);

    const id = (res.body as { mediaSessionId: string }).mediaSessionId;
    await eventually(async () => ((await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status: string }).status === 'Connected' || undefined, 10_000, 'Connected');
    expect((await gw.request('DELETE', `${CALLS}/${id}`, { token })).status).toBe(204);
  });
});
