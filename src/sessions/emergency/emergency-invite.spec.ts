import { Secret } from '../../config/secret';
import { SdpError } from '../../sip/sdp';
import { ANONYMOUS_URI } from '../address';
import { LocationError, type LocationDetails } from '../location/pidf-lo';
import { parseMultipart, parsePidfLo } from './__testing__/sip-body';
import { EMERGENCY_ACCEPT, planEmergencyInvite, type EmergencyInviteInput } from './emergency-invite';

const ALICE = '+17085852753';
const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const credentials = { username: ALICE, password: new Secret('s3cr3t') };
const now = (): Date => new Date('2025-10-06T19:40:00.000Z');

/** CAMARA exampleEmergencyMediaSessionRequest's location. */
const CIRCLE: LocationDetails = {
  shape: 'Circle',
  coordinates: { latitude: 47.6062, longitude: -122.3321, radius: 35 },
  method: 'GPS',
  confidence: { pdf: 'normal', value: 92 },
  timestamp: '2025-10-06T19:31:25Z',
};
const ELLIPSOID: LocationDetails = {
  shape: 'Ellipsoid',
  coordinates: { latitude: -33.8568, longitude: 151.2153, zAxis: 26.3, semiMajorAxis: 7.7156, semiMinorAxis: 3.31, verticalAxis: 28.7, orientation: 90 },
  method: 'DBH',
};

const input = (over: Partial<EmergencyInviteInput> = {}): EmergencyInviteInput => ({
  serviceUrn: 'urn:service:sos',
  phoneNumber: ALICE,
  domain: 'ims.lab',
  originatorAddress: `tel:${ALICE}`,
  originatorName: 'Alice',
  receiverName: 'PSAP',
  offerSdp: SDP,
  sdpProfile: 'passthrough',
  identityHeader: 'P-Asserted-Identity',
  contactUser: 'reg-1',
  credentials,
  now,
  ...over,
});

describe(planEmergencyInvite.name, () => {
  describe('a registered subscriber, no location', () => {
    const plan = planEmergencyInvite(input());

    it('sends the INVITE to the service URN: Request-URI and To', () => {
      expect(plan.call.requestUri).toBe('urn:service:sos');
      expect(plan.call.to).toEqual({ uri: 'urn:service:sos', displayName: 'PSAP' });
    });

    it('keeps a sub-service URN as the Request-URI', () => {
      const p = planEmergencyInvite(input({ serviceUrn: 'urn:service:sos.police' }));
      expect(p.call.requestUri).toBe('urn:service:sos.police');
      expect(p.call.to.uri).toBe('urn:service:sos.police');
    });

    it('calls from the subscriber, with the registration contact and digest credentials', () => {
      expect(plan.call.from).toEqual({ uri: `sip:${ALICE}@ims.lab`, displayName: 'Alice' });
      expect(plan.call.contactUser).toBe('reg-1');
      expect(plan.call.credentials).toBe(credentials);
      expect(plan.form).toBe('registered');
    });

    it('asserts the call-back number, accepts SDP and PIDF-LO, and marks Priority: emergency; nothing else', () => {
      expect(plan.call.headers).toEqual({
        'P-Asserted-Identity': `<sip:${ALICE}@ims.lab>`,
        Accept: 'application/sdp, application/pidf+xml',
        Priority: 'emergency',
      });
      expect(EMERGENCY_ACCEPT).toBe('application/sdp, application/pidf+xml');
    });

    it('carries a plain SDP body (no Geolocation)', () => {
      expect(plan.call.body).toEqual({ contentType: 'application/sdp', content: SDP });
      expect(plan.offer).toBe(SDP);
      expect(plan.location).toBeUndefined();
      expect(plan.dropped).toEqual([]);
    });

    it('uses P-Preferred-Identity instead when configured', () => {
      const p = planEmergencyInvite(input({ identityHeader: 'P-Preferred-Identity' }));
      expect(p.call.headers).toMatchObject({ 'P-Preferred-Identity': `<sip:${ALICE}@ims.lab>` });
      expect(p.call.headers).not.toHaveProperty('P-Asserted-Identity');
    });
  });

  describe('an anonymous originator', () => {
    const plan = planEmergencyInvite(input({ originatorAddress: ANONYMOUS_URI }));

    it('hides the caller in From', () => {
      expect(plan.call.from).toEqual({ uri: ANONYMOUS_URI, displayName: 'Anonymous' });
    });

    it('still asserts the identity, and sends no Privacy header that would strip it before the PSAP', () => {
      expect(plan.call.headers).toMatchObject({ 'P-Asserted-Identity': `<sip:${ALICE}@ims.lab>` });
      expect(Object.keys(plan.call.headers ?? {}).map((h) => h.toLowerCase())).not.toContain('privacy');
    });

    it('puts the subscriber (not anonymous) in the PIDF-LO entity: the PSAP must know who is where', () => {
      const p = planEmergencyInvite(input({ originatorAddress: ANONYMOUS_URI, location: CIRCLE }));
      expect(parsePidfLo(p.location?.pidfLo ?? '').entity).toBe(`sip:${ALICE}@ims.lab`);
    });
  });

  describe('a subscriber without registration (TS 24.229 §5.1.6.8.2)', () => {
    const { credentials: _c, contactUser: _u, ...rest } = input();
    const plan = planEmergencyInvite({ ...rest, perCallContactUser: () => 'sos-call-1' });

    it('sends no digest credentials and uses a per-call contact user', () => {
      expect(plan.call.credentials).toBeUndefined();
      expect(plan.call).not.toHaveProperty('credentials');
      expect(plan.call.contactUser).toBe('sos-call-1');
      expect(plan.form).toBe('unregistered');
    });

    it('sets From to Anonymous and still asserts the call-back number', () => {
      expect(plan.call.from).toEqual({ uri: ANONYMOUS_URI, displayName: 'Anonymous' });
      expect(plan.call.headers).toMatchObject({ 'P-Asserted-Identity': `<sip:${ALICE}@ims.lab>`, Priority: 'emergency' });
    });

    it('makes up a fresh contact user per call by default', () => {
      const a = planEmergencyInvite(rest).call.contactUser;
      const b = planEmergencyInvite(rest).call.contactUser;
      expect(a).toMatch(/^sos-[0-9a-f-]{36}$/);
      expect(a).not.toBe(b);
    });

    it('keeps the registration contact when one is given without credentials', () => {
      expect(planEmergencyInvite({ ...rest, contactUser: 'reg-2' }).call.contactUser).toBe('reg-2');
    });
  });

  describe.each([
    ['Circle', CIRCLE],
    ['Ellipsoid', ELLIPSOID],
  ] as const)('with a %s location', (shape, location) => {
    const plan = planEmergencyInvite(input({ location, deviceId: 'urn:uuid:6f1c2b1e-36a3-4b39-9d5a-0c9f7c7f1e11', contentIdLocalPart: () => 'loc1' }));
    const headers = plan.call.headers ?? {};

    it('adds Geolocation <cid:…> and Geolocation-Routing: yes next to the emergency headers', () => {
      expect(headers).toEqual({
        'P-Asserted-Identity': `<sip:${ALICE}@ims.lab>`,
        Accept: EMERGENCY_ACCEPT,
        Priority: 'emergency',
        Geolocation: '<cid:loc1@ims.lab>',
        'Geolocation-Routing': 'yes',
      });
    });

    it('sends multipart/mixed: the SDP first, then the PIDF-LO whose Content-ID is the Geolocation cid', () => {
      expect(plan.call.body.contentType).toMatch(/^multipart\/mixed;boundary=/);
      const parts = parseMultipart(plan.call.body.contentType, plan.call.body.content);
      expect(parts).toHaveLength(2);
      expect(parts[0]?.headers).toEqual({ 'content-type': 'application/sdp' });
      expect(parts[0]?.body).toBe(SDP);
      expect(parts[1]?.headers['content-type']).toBe('application/pidf+xml');
      const cid = /^<cid:([^>]+)>$/.exec(headers['Geolocation'] ?? '')?.[1];
      expect(parts[1]?.headers['content-id']).toBe(`<${cid}>`);
      expect(plan.location?.contentId).toBe(cid);
      expect(parts[1]?.body).toBe(plan.location?.pidfLo);
    });

    it('conveys the request coordinates in the PIDF-LO', () => {
      const part = parseMultipart(plan.call.body.contentType, plan.call.body.content)[1];
      const pidf = parsePidfLo(part?.body ?? '');
      expect(pidf.shape).toBe(shape);
      expect(pidf.entity).toBe(`sip:${ALICE}@ims.lab`);
      const c = location.coordinates as unknown as Record<string, number>;
      if (shape === 'Circle') {
        expect(pidf.srsName).toBe('urn:ogc:def:crs:EPSG::4326');
        expect(pidf.pos).toEqual([c['latitude'], c['longitude']]);
        expect(pidf.params).toEqual({ radius: c['radius'] });
        expect(pidf.confidence).toEqual({ pdf: 'normal', value: 92 });
        expect(pidf.timestamp).toBe('2025-10-06T19:31:25Z');
      } else {
        expect(pidf.srsName).toBe('urn:ogc:def:crs:EPSG::4979');
        expect(pidf.pos).toEqual([c['latitude'], c['longitude'], c['zAxis']]);
        expect(pidf.params).toEqual({ semiMajorAxis: c['semiMajorAxis'], semiMinorAxis: c['semiMinorAxis'], verticalAxis: c['verticalAxis'], orientation: c['orientation'] });
        expect(pidf.timestamp).toBe(now().toISOString());
      }
      expect(pidf.method).toBe(location.method);
    });
  });

  it('uses a random 128-bit Content-ID local part by default, different per call', () => {
    const a = planEmergencyInvite(input({ location: CIRCLE })).location?.contentId;
    const b = planEmergencyInvite(input({ location: CIRCLE })).location?.contentId;
    expect(a).toMatch(/^[0-9a-f]{32}@ims\.lab$/);
    expect(a).not.toBe(b);
  });

  describe('SDP', () => {
    it('drops cosmetic faults instead of refusing the call, and returns them to log', () => {
      const sdp = `${SDP}this is not sdp\r\n [...]\r\nx=unknown-type\r\n`;
      const plan = planEmergencyInvite(input({ offerSdp: sdp }));
      expect(plan.dropped).toEqual(['this is not sdp', ' [...]', 'x=unknown-type']);
      expect(plan.offer).toBe(SDP);
      expect(plan.call.body.content).toBe(SDP);
    });

    it('keeps the dropped lines out of the multipart SDP part too', () => {
      const plan = planEmergencyInvite(input({ offerSdp: `${SDP} [...]\r\n`, location: CIRCLE }));
      expect(parseMultipart(plan.call.body.contentType, plan.call.body.content)[0]?.body).toBe(SDP);
    });

    it('still refuses an SDP without a usable m= line (SdpError)', () => {
      expect(() => planEmergencyInvite(input({ offerSdp: 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n' }))).toThrow(SdpError);
      expect(() => planEmergencyInvite(input({ offerSdp: 'hello' }))).toThrow(SdpError);
    });

    it('applies the configured SDP profile', () => {
      const sdp = `${SDP}a=ice-options:trickle\r\n`;
      expect(planEmergencyInvite(input({ offerSdp: sdp, sdpProfile: 'ims' })).offer).not.toContain('ice-options');
    });
  });

  it('refuses bad locationDetails with LocationError (OUT_OF_RANGE names the field)', () => {
    const bad = { shape: 'Circle', coordinates: { latitude: 91, longitude: 0, radius: 5 } };
    expect(() => planEmergencyInvite(input({ location: bad }))).toThrow(LocationError);
    try {
      planEmergencyInvite(input({ location: bad }));
    } catch (e) {
      expect(e).toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringContaining('locationDetails.coordinates.latitude') });
    }
    expect(() => planEmergencyInvite(input({ location: { shape: 'Square' } }))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('treats a non-sos URN or a non-E.164 number as a bug in the caller', () => {
    expect(() => planEmergencyInvite(input({ serviceUrn: 'sip:+15550009999@ims.lab' }))).toThrow(/emergency service URN/);
    expect(() => planEmergencyInvite(input({ phoneNumber: '911' }))).toThrow(/E\.164/);
  });
});
