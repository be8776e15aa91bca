/**
 * Emergency and located calls (PIDF-LO) end to end: HTTP → gateway → Kamailio → the PSAP SIPp UAS
 * (urn:service:sos*), whose trace we parse back. Needs SessionsService.create/updateStatus wired to
 * src/sessions/emergency (see that folder's planners).
 */
import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { header, parseMultipart, parsePidfLo, receivedMessages, type SipText } from '../../src/sessions/emergency/__testing__/sip-body';
import { tracedMessages } from '../support/sip-trace';

const ALICE = '+17085852753';
/** A lab subscriber that never registers in this file. */
const CAROL = '+17085850001';
const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:write',
  'webrtc-call-handling:sessions:delete',
].join(' ');
const OFFER =
  'v=0\r\no=- 4576312012535546667 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 47510 RTP/SAVPF 102 113\r\n' +
  'c=IN IP4 203.0.113.7\r\nb=AS:64\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:47Nx\r\na=ice-pwd:ln3CttOSkObcQ7A0tYO1LXqy\r\n' +
  'a=mid:audio\r\na=sendrecv\r\na=rtpmap:102 AMR-WB/16000\r\na=rtpmap:113 telephone-event/16000\r\n';

/** CAMARA exampleEmergencyMediaSessionRequest's location. */
const CIRCLE = {
  shape: 'Circle',
  coordinates: { latitude: 47.6062, longitude: -122.3321, radius: 35 },
  method: 'GPS',
  confidence: { pdf: 'normal', value: 92 },
  timestamp: '2025-10-06T19:31:25Z',
} as const;
const ELLIPSOID = {
  shape: 'Ellipsoid',
  coordinates: { latitude: -33.8568, longitude: 151.2153, zAxis: 26.3, semiMajorAxis: 7.7156, semiMinorAxis: 3.31, verticalAxis: 28.7, orientation: 90 },
  method: 'DBH',
} as const;
/** CAMARA exampleSessionStatusLocationUpdate's location. */
const MOVED = {
  shape: 'Circle',
  coordinates: { latitude: 40.7148, longitude: -74.0075, radius: 30 },
  method: 'GPS',
  confidence: { pdf: 'normal', value: 95 },
  timestamp: '2025-10-06T19:45:00Z',
} as const;

type Session = { mediaSessionId: string; status: string; callType?: string; receiverAddress: string };

describe('emergency calls over a real IMS core (Kamailio routes urn:service:sos to the PSAP UAS)', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    lab = await startLab({ ringMs: 200 });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, { EMERGENCY_CALLS: 'enabled', EMERGENCY_NUMBERS: '112,911' });
    token = await idp.token({ phone_number: ALICE, scope: SCOPES });
    const reg = await gw.request('POST', REG, { token, body: { deviceId: randomUUID() } });
    expect(reg.status).toBe(201);
    registrationId = (reg.body as { registrationId: string }).registrationId;
  });
  afterAll(async () => {
    await gw?.close();
    await lab?.stop();
  });

  const post = (body: Record<string, unknown>, opts: { g?: GatewayUnderTest; t?: string; reg?: string } = {}) =>
    (opts.g ?? gw).request('POST', CALLS, {
      token: opts.t ?? token,
      headers: { registrationid: opts.reg ?? registrationId },
      body: { originatorAddress: `tel:${ALICE}`, originatorName: 'Alice', receiverAddress: 'urn:service:sos', receiverName: 'PSAP', offer: { sdp: OFFER }, ...body },
    });
  const statusOf = async (id: string, t = token): Promise<Session> => (await gw.request('GET', `${CALLS}/${id}`, { token: t })).body as Session;
  const until = (id: string, status: string, t = token) => eventually(async () => ((await statusOf(id, t)).status === status ? true : undefined), 10_000, `status ${status}`);
  const hangUp = async (id: string, t = token): Promise<void> => {
    await gw.request('DELETE', `${CALLS}/${id}`, { token: t });
  };

  /** Where the PSAP trace ends now: later messages belong to the next test. */
  const mark = async (): Promise<number> => (await lab.uas.psap.messages()).length;
  /** The first request `method` the PSAP received after `from`. */
  const received = (from: number, method: string, timeoutMs = 5000): Promise<SipText> =>
    eventually(async () => receivedMessages((await lab.uas.psap.messages()).slice(from)).find((m) => m.startLine.startsWith(`${method} `)), timeoutMs, `${method} at the PSAP`);

  /** Geolocation cid = Content-ID of the multipart's PIDF-LO part; returns the PIDF-LO read back. */
  function locationOf(invite: SipText) {
    expect(header(invite, 'Geolocation-Routing')).toBe('yes');
    const cid = /^<cid:([^>]+)>$/.exec(header(invite, 'Geolocation'))?.[1];
    expect(cid).toBeDefined();
    const parts = parseMultipart(header(invite, 'Content-Type'), invite.body);
    expect(parts.map((p) => p.headers['content-type'])).toEqual(['application/sdp', 'application/pidf+xml']);
    expect(parts[0]?.body).toContain('m=audio 47510 RTP/SAVPF 102 113');
    expect(parts[1]?.headers['content-id']).toBe(`<${cid}>`);
    return parsePidfLo(parts[1]?.body ?? '');
  }

  describe('Alice calls urn:service:sos with callType EMERGENCY and a Circle location', () => {
    let id: string;
    let invite: SipText;

    beforeAll(async () => {
      const from = await mark();
      const res = await post({ callType: 'EMERGENCY', locationDetails: CIRCLE });
      expect(res.status).toBe(201);
      const s = res.body as Session;
      expect(s.callType).toBe('EMERGENCY');
      id = s.mediaSessionId;
      invite = await received(from, 'INVITE');
    });
    afterAll(() => hangUp(id));

    it('reaches the PSAP with the service URN as Request-URI and To', () => {
      expect(invite.startLine).toBe('INVITE urn:service:sos SIP/2.0');
      expect(header(invite, 'To')).toMatch(/<urn:service:sos>/);
    });

    it('asserts Alice as the call-back number and marks the call', () => {
      expect(header(invite, 'P-Asserted-Identity')).toBe(`<sip:${ALICE}@ims.lab>`);
      expect(header(invite, 'From')).toMatch(new RegExp(`<sip:\\${ALICE}@ims\\.lab>`));
      expect(header(invite, 'Priority')).toBe('emergency');
      expect(header(invite, 'Accept')).toBe('application/sdp, application/pidf+xml');
    });

    it('carries the PIDF-LO under the Geolocation cid with the request coordinates', () => {
      const pidf = locationOf(invite);
      expect(pidf).toMatchObject({
        shape: 'Circle',
        entity: `sip:${ALICE}@ims.lab`,
        pos: [CIRCLE.coordinates.latitude, CIRCLE.coordinates.longitude],
        params: { radius: CIRCLE.coordinates.radius },
        method: 'GPS',
        confidence: { pdf: 'normal', value: 92 },
        timestamp: CIRCLE.timestamp,
      });
    });

    it('connects, and a location update on the connected call reaches the PSAP as an UPDATE with the new PIDF-LO', async () => {
      await until(id, 'Connected');
      const from = await mark();
      const put = await gw.request('PUT', `${CALLS}/${id}/status`, { token, body: { status: 'Connected', locationDetails: MOVED } });
      expect(put.status).toBe(200);
      expect((put.body as Session).status).toBe('Connected');
      const update = await received(from, 'UPDATE');
      expect(header(update, 'Content-Type')).toBe('application/pidf+xml');
      const cid = /^<cid:([^>]+)>$/.exec(header(update, 'Geolocation'))?.[1];
      expect(header(update, 'Content-ID')).toBe(`<${cid}>`);
      expect(parsePidfLo(update.body)).toMatchObject({
        shape: 'Circle',
        pos: [MOVED.coordinates.latitude, MOVED.coordinates.longitude],
        params: { radius: MOVED.coordinates.radius },
        timestamp: MOVED.timestamp,
      });
      // The PSAP answered this UPDATE (same Call-ID and CSeq) with 200; the call is still up.
      const answered = await eventually(
        async () =>
          tracedMessages((await lab.uas.psap.messages()).slice(from)).find(
            (m) => m.direction === 'sent' && m.method === 'UPDATE' && m.cseq === Number(header(update, 'CSeq').split(' ')[0]) && m.callId === header(update, 'Call-ID'),
          ),
        5000,
        'the response to the UPDATE',
      );
      expect(answered.status).toBe(200);
      expect((await statusOf(id)).status).toBe('Connected');
    });
  });

  it('conveys an Ellipsoid location the same way', async () => {
    const from = await mark();
    const res = await post({ callType: 'EMERGENCY', locationDetails: ELLIPSOID });
    expect(res.status).toBe(201);
    const invite = await received(from, 'INVITE');
    const c = ELLIPSOID.coordinates;
    expect(locationOf(invite)).toMatchObject({
      shape: 'Ellipsoid',
      srsName: 'urn:ogc:def:crs:EPSG::4979',
      pos: [c.latitude, c.longitude, c.zAxis],
      params: { semiMajorAxis: c.semiMajorAxis, semiMinorAxis: c.semiMinorAxis, verticalAxis: c.verticalAxis, orientation: c.orientation },
      method: 'DBH',
    });
    await hangUp((res.body as Session).mediaSessionId);
  });

  it.each(['tel:911', 'tel:911;phone-context=+1'])('treats a dialled emergency number (%s) as an emergency call to urn:service:sos', async (receiverAddress) => {
    const from = await mark();
    const res = await post({ receiverAddress, receiverName: undefined });
    expect(res.status).toBe(201);
    expect((res.body as Session).callType).toBe('EMERGENCY');
    const invite = await received(from, 'INVITE');
    expect(invite.startLine).toBe('INVITE urn:service:sos SIP/2.0');
    expect(header(invite, 'P-Asserted-Identity')).toBe(`<sip:${ALICE}@ims.lab>`);
    expect(header(invite, 'Content-Type')).toBe('application/sdp');
    expect(invite.headers['geolocation']).toBeUndefined();
    await hangUp((res.body as Session).mediaSessionId);
  });

  it('refuses a dialled short code that is not an emergency number with 400', async () => {
    const res = await post({ receiverAddress: 'tel:1234', receiverName: undefined });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('keeps a sub-service URN (urn:service:sos.police)', async () => {
    const from = await mark();
    const res = await post({ receiverAddress: 'urn:service:sos.police', callType: 'EMERGENCY' });
    expect(res.status).toBe(201);
    expect((await received(from, 'INVITE')).startLine).toBe('INVITE urn:service:sos.police SIP/2.0');
    await hangUp((res.body as Session).mediaSessionId);
  });

  it('asserts the identity of an anonymous caller without Privacy: id', async () => {
    const from = await mark();
    const res = await post({ originatorAddress: 'sip:anonymous@anonymous.invalid', originatorName: undefined, callType: 'EMERGENCY', locationDetails: CIRCLE });
    expect(res.status).toBe(201);
    const invite = await received(from, 'INVITE');
    expect(header(invite, 'From')).toMatch(/<sip:anonymous@anonymous\.invalid>/);
    expect(header(invite, 'P-Asserted-Identity')).toBe(`<sip:${ALICE}@ims.lab>`);
    expect(invite.headers['privacy']).toBeUndefined();
    await hangUp((res.body as Session).mediaSessionId);
  });

  it('places the emergency call of a subscriber without registration (anonymous From, no digest)', async () => {
    const carol = await idp.token({ phone_number: CAROL, scope: SCOPES });
    const from = await mark();
    const res = await post({ originatorAddress: `tel:${CAROL}`, originatorName: 'Carol', callType: 'EMERGENCY', locationDetails: CIRCLE }, { t: carol, reg: randomUUID() });
    expect(res.status).toBe(201);
    const s = res.body as Session;
    expect(s.callType).toBe('EMERGENCY');
    const invite = await received(from, 'INVITE');
    expect(invite.startLine).toBe('INVITE urn:service:sos SIP/2.0');
    expect(header(invite, 'From')).toMatch(/"Anonymous" <sip:anonymous@anonymous\.invalid>/);
    expect(header(invite, 'P-Asserted-Identity')).toBe(`<sip:${CAROL}@ims.lab>`);
    expect(invite.headers['proxy-authorization']).toBeUndefined();
    expect(invite.headers['authorization']).toBeUndefined();
    // a per-call Contact, not a registration's
    expect(header(invite, 'Contact')).toMatch(/<sip:sos-[0-9a-f-]{36}@127\.0\.0\.1:\d+/);
    expect(locationOf(invite).entity).toBe(`sip:${CAROL}@ims.lab`);
    await until(s.mediaSessionId, 'Connected', carol);
    await hangUp(s.mediaSessionId, carol);
  });

  it('answers 400 OUT_OF_RANGE for a location outside its range, and sends nothing', async () => {
    const from = await mark();
    const res = await post({ callType: 'EMERGENCY', locationDetails: { shape: 'Circle', coordinates: { latitude: 91, longitude: 0, radius: 10 } } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, code: 'OUT_OF_RANGE', message: expect.stringContaining('latitude') });
    // positive control and barrier: a valid call placed right after reaches the PSAP, and it is the only INVITE since the mark
    const control = await post({ callType: 'EMERGENCY', locationDetails: CIRCLE });
    expect(control.status).toBe(201);
    const invite = await received(from, 'INVITE');
    const invites = receivedMessages((await lab.uas.psap.messages()).slice(from)).filter((m) => m.startLine.startsWith('INVITE '));
    expect(new Set(invites.map((m) => header(m, 'Call-ID'))).size).toBe(1); // one call (a UDP retransmission shares the Call-ID)
    expect(locationOf(invite).pos).toEqual([CIRCLE.coordinates.latitude, CIRCLE.coordinates.longitude]);
    await hangUp((control.body as Session).mediaSessionId);
  });

  it('does not refuse an emergency SDP with cosmetic faults', async () => {
    const from = await mark();
    const res = await post({ callType: 'EMERGENCY', offer: { sdp: `${OFFER} [...]\r\n` } });
    expect(res.status).toBe(201);
    const invite = await received(from, 'INVITE');
    expect(invite.body).not.toContain('[...]');
    await hangUp((res.body as Session).mediaSessionId);
  });

  describe('with EMERGENCY_CALLS disabled', () => {
    let off: GatewayUnderTest;
    beforeAll(async () => {
      off = await startGateway(lab, idp, {});
    });
    afterAll(async () => {
      await off?.close();
    });

    it.each([
      ['callType EMERGENCY', { callType: 'EMERGENCY', receiverAddress: 'tel:+15550009999', receiverName: 'Bob' }],
      ['urn:service:sos', { receiverAddress: 'urn:service:sos' }],
      ['tel:112;phone-context=+44', { receiverAddress: 'tel:112;phone-context=+44' }],
    ])('answers 501 CALLTYPE_EMERGENCY_NOT_SUPPORTED for %s', async (_what, body) => {
      const res = await post(body, { g: off });
      expect(res.status).toBe(501);
      expect(res.body).toEqual({ status: 501, code: 'CALLTYPE_EMERGENCY_NOT_SUPPORTED', message: 'Server does not support call type EMERGENCY.' });
    });
  });
});
