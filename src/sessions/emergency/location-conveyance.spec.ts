import { Secret } from '../../config/secret';
import type { OutgoingCall } from '../../sip/sip-gateway';
import { ANONYMOUS_URI } from '../address';
import { LocationError, type LocationDetails } from '../location/pidf-lo';
import { parseMultipart, parsePidfLo } from './__testing__/sip-body';
import { conveyLocation, planLocatedInvite, planLocationUpdate, type LocationConveyanceOptions } from './location-conveyance';

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const now = (): Date => new Date('2025-10-06T19:40:00.000Z');
/** CAMARA exampleLocatedMediaSessionRequest's location. */
const LOCATED: LocationDetails = {
  shape: 'Circle',
  coordinates: { latitude: 47.5124, longitude: -122.4176, radius: 27 },
  method: 'GPS',
  confidence: { pdf: 'normal', value: 97 },
  timestamp: '2025-10-06T19:31:25Z',
};
/** CAMARA exampleSessionStatusLocationUpdate's location. */
const UPDATED: LocationDetails = {
  shape: 'Circle',
  coordinates: { latitude: 40.7148, longitude: -74.0075, radius: 30 },
  method: 'GPS',
  confidence: { pdf: 'normal', value: 95 },
  timestamp: '2025-10-06T19:45:00Z',
};
const ELLIPSOID: LocationDetails = {
  coordinates: { latitude: 52.52, longitude: 13.405, zAxis: 34, semiMajorAxis: 12, semiMinorAxis: 8, verticalAxis: 5, orientation: 45.5 },
};

const regular: OutgoingCall = {
  contactUser: 'reg-1',
  from: { uri: 'sip:+17085852753@ims.lab', displayName: 'Alice' },
  to: { uri: 'sip:+17085854000@ims.lab;user=phone', displayName: 'Bob' },
  requestUri: 'sip:+17085854000@ims.lab;user=phone',
  body: { contentType: 'application/sdp', content: SDP },
  headers: { 'P-Asserted-Identity': '<sip:+17085852753@ims.lab>', Privacy: 'id' },
  credentials: { username: '+17085852753', password: new Secret('x') },
};
const opts: LocationConveyanceOptions = { domain: 'ims.lab', entity: 'sip:+17085852753@ims.lab', now, contentIdLocalPart: () => 'c0ffee' };

describe(planLocatedInvite.name, () => {
  const call = planLocatedInvite(regular, LOCATED, opts);

  it('keeps the call as built (R-URI, From, To, contact, credentials, existing headers)', () => {
    expect(call).toMatchObject({ contactUser: 'reg-1', from: regular.from, to: regular.to, requestUri: regular.requestUri, credentials: regular.credentials });
    expect(call.headers).toMatchObject({ 'P-Asserted-Identity': '<sip:+17085852753@ims.lab>', Privacy: 'id' });
  });

  it('adds Geolocation <cid:…> with Geolocation-Routing: no, and no emergency marking', () => {
    expect(call.headers).toEqual({ ...regular.headers, Geolocation: '<cid:c0ffee@ims.lab>', 'Geolocation-Routing': 'no' });
  });

  it('sends the SDP and the PIDF-LO as multipart/mixed, the PIDF-LO part under the Geolocation cid', () => {
    const parts = parseMultipart(call.body.contentType, call.body.content);
    expect(parts.map((p) => p.headers['content-type'])).toEqual(['application/sdp', 'application/pidf+xml']);
    expect(parts[0]?.body).toBe(SDP);
    expect(parts[1]?.headers['content-id']).toBe('<c0ffee@ims.lab>');
    const pidf = parsePidfLo(parts[1]?.body ?? '');
    expect(pidf).toMatchObject({ shape: 'Circle', pos: [47.5124, -122.4176], params: { radius: 27 }, entity: 'sip:+17085852753@ims.lab' });
  });

  it('lets the caller hide an anonymous originator in the PIDF-LO entity', () => {
    const anon = planLocatedInvite(regular, LOCATED, { ...opts, entity: ANONYMOUS_URI });
    expect(parsePidfLo(parseMultipart(anon.body.contentType, anon.body.content)[1]?.body ?? '').entity).toBe(ANONYMOUS_URI);
  });

  it('does not modify the call it was given', () => {
    expect(regular.body.contentType).toBe('application/sdp');
    expect(regular.headers).toEqual({ 'P-Asserted-Identity': '<sip:+17085852753@ims.lab>', Privacy: 'id' });
  });

  it('refuses a body that is not SDP (a bug: location attached twice)', () => {
    expect(() => planLocatedInvite(call, LOCATED, opts)).toThrow(/expects an SDP body/);
  });

  it('throws LocationError for bad locationDetails', () => {
    expect(() => planLocatedInvite(regular, { shape: 'Circle', coordinates: { latitude: 0, longitude: 181, radius: 1 } }, opts)).toThrow(LocationError);
  });
});

describe(planLocationUpdate.name, () => {
  it.each([
    [true, 'yes'],
    [false, 'no'],
  ] as const)('routing %s: a single PIDF-LO body, referenced by Geolocation and the SIP Content-ID (RFC 8262)', (routing, value) => {
    const u = planLocationUpdate(UPDATED, { ...opts, routing });
    expect(u.headers).toEqual({ Geolocation: '<cid:c0ffee@ims.lab>', 'Geolocation-Routing': value, 'Content-ID': '<c0ffee@ims.lab>' });
    expect(u.body.contentType).toBe('application/pidf+xml');
    expect(u.contentId).toBe('c0ffee@ims.lab');
    const pidf = parsePidfLo(u.body.content);
    expect(pidf).toMatchObject({ shape: 'Circle', pos: [40.7148, -74.0075], params: { radius: 30 }, timestamp: '2025-10-06T19:45:00Z', confidence: { pdf: 'normal', value: 95 } });
  });

  it('carries an Ellipsoid (shape inferred from the coordinates)', () => {
    const pidf = parsePidfLo(planLocationUpdate(ELLIPSOID, { ...opts, routing: true }).body.content);
    expect(pidf).toMatchObject({ shape: 'Ellipsoid', pos: [52.52, 13.405, 34], params: { semiMajorAxis: 12, semiMinorAxis: 8, verticalAxis: 5, orientation: 45.5 } });
  });

  it('throws LocationError for bad locationDetails', () => {
    expect(() => planLocationUpdate({ coordinates: { latitude: 1, longitude: 1, radius: -1 } }, { ...opts, routing: false })).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });
});

describe(conveyLocation.name, () => {
  it('refuses a Content-ID that could break the header (a bug in config or injection)', () => {
    expect(() => conveyLocation(LOCATED, true, { ...opts, domain: 'ims.lab>\r\nX: y' })).toThrow(/host name/);
    expect(() => conveyLocation(LOCATED, true, { ...opts, contentIdLocalPart: () => 'a b' })).toThrow(/dot-atom/);
  });
});
