import { XMLParser } from 'fast-xml-parser';
import { buildPidfLo, CircleCoordinates, EllipsoidCoordinates, LocationDetails, LocationError, NS, validateLocation } from './pidf-lo';

const now = (): Date => new Date('2025-10-06T19:00:00.000Z');
const NASTY = `a<b>&c"d'e é 東京 🚑`;
const circle: LocationDetails = {
  shape: 'Circle',
  coordinates: { latitude: 40.7128, longitude: -74.006, radius: 50 },
  method: 'GPS',
  confidence: { pdf: 'normal', value: 88 },
  timestamp: '2025-10-06T19:32:10Z',
};
const ellipsoidCoords: EllipsoidCoordinates = {
  latitude: -33.8568,
  longitude: 151.2153,
  zAxis: 26.3,
  semiMajorAxis: 7.7156,
  semiMinorAxis: 3.31,
  verticalAxis: 28.7,
  orientation: 90,
};
const ellipsoid: LocationDetails = { shape: 'Ellipsoid', coordinates: ellipsoidCoords, method: 'DBH_HELO' };

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: true });
type Node = Record<string, unknown>;
const node = (v: unknown, ...path: string[]): Node => {
  let cur = v;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) throw new Error(`no ${p}`);
    cur = (cur as Node)[p];
  }
  if (typeof cur !== 'object' || cur === null) throw new Error(`no ${path.join('/')}`);
  return cur as Node;
};
const text = (v: unknown): string => (typeof v === 'string' ? v : String((v as Node)['#text']));
const parse = (xml: string): Node => parser.parse(xml) as Node;

function expectLocationError(fn: () => unknown, code: LocationError['code'], message: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LocationError);
    expect((e as LocationError).code).toBe(code);
    expect((e as LocationError).message).toMatch(message);
    return;
  }
  throw new Error('expected a LocationError');
}

describe('buildPidfLo', () => {
  it('produces a UTF-8 document with declaration and the PIDF-LO namespaces', () => {
    const xml = buildPidfLo(circle, { entity: 'sip:alice@example.com', deviceId: 'urn:gsma:imei:35-209900-176148-1', now });
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const presence = node(parse(xml), 'presence');
    expect(presence['@xmlns']).toBe(NS.pidf);
    expect(presence['@xmlns:dm']).toBe(NS.dm);
    expect(presence['@xmlns:gp']).toBe(NS.gp);
    expect(presence['@xmlns:gml']).toBe(NS.gml);
    expect(presence['@xmlns:gs']).toBe(NS.gs);
    expect(presence['@xmlns:con']).toBe(NS.con);
    expect(presence['@entity']).toBe('sip:alice@example.com');
  });

  it('round-trips a Circle (RFC 5491 §5.2.3)', () => {
    const xml = buildPidfLo(circle, { entity: 'sip:alice@example.com', deviceId: 'urn:gsma:imei:1', now });
    const device = node(parse(xml), 'presence', 'dm:device');
    const info = node(device, 'gp:geopriv', 'gp:location-info');
    const c = node(info, 'gs:Circle');
    expect(c['@srsName']).toBe('urn:ogc:def:crs:EPSG::4326');
    const [lat, lon] = text(c['gml:pos']).split(' ').map(Number);
    const coords = circle.coordinates as CircleCoordinates;
    expect([lat, lon]).toEqual([coords.latitude, coords.longitude]);
    expect(node(c, 'gs:radius')['@uom']).toBe('urn:ogc:def:uom:EPSG::9001');
    expect(Number(text(c['gs:radius']))).toBe(coords.radius);
    expect(node(info, 'con:confidence')['@pdf']).toBe('normal');
    expect(text(info['con:confidence'])).toBe('88');
    expect(text(node(device, 'gp:geopriv')['gp:method'])).toBe('GPS');
    expect(node(device, 'gp:geopriv')).toHaveProperty('gp:usage-rules');
    expect(text(device['dm:deviceID'])).toBe('urn:gsma:imei:1');
    expect(text(device['dm:timestamp'])).toBe('2025-10-06T19:32:10Z');
  });

  it('round-trips an Ellipsoid (RFC 5491 §5.2.7)', () => {
    const xml = buildPidfLo(ellipsoid, { entity: 'sip:alice@example.com', deviceId: 'urn:gsma:imei:1', now });
    const e = node(parse(xml), 'presence', 'dm:device', 'gp:geopriv', 'gp:location-info', 'gs:Ellipsoid');
    expect(e['@srsName']).toBe('urn:ogc:def:crs:EPSG::4979');
    expect(text(e['gml:pos']).split(' ').map(Number)).toEqual([ellipsoidCoords.latitude, ellipsoidCoords.longitude, ellipsoidCoords.zAxis]);
    for (const f of ['semiMajorAxis', 'semiMinorAxis', 'verticalAxis'] as const) {
      expect(node(e, `gs:${f}`)['@uom']).toBe('urn:ogc:def:uom:EPSG::9001');
      expect(Number(text(e[`gs:${f}`]))).toBe(ellipsoidCoords[f]);
    }
    expect(node(e, 'gs:orientation')['@uom']).toBe('urn:ogc:def:uom:EPSG::9102');
    expect(Number(text(e['gs:orientation']))).toBe(90);
  });

  it('escapes XML-special and non-ASCII characters in every free-text value, and they round-trip', () => {
    // The contract's own free text is enum-typed (method) or a date-time; entity and deviceId are ours.
    const xml = buildPidfLo(circle, { entity: `sip:${NASTY}@example.com`, deviceId: `urn:x:${NASTY}`, now });
    expect(xml).not.toContain('a<b>');
    const presence = node(parse(xml), 'presence');
    expect(presence['@entity']).toBe(`sip:${NASTY}@example.com`);
    expect(text(node(presence, 'dm:device')['dm:deviceID'])).toBe(`urn:x:${NASTY}`);
  });

  it('uses the injected clock when timestamp is absent', () => {
    const { timestamp: _, ...noTime } = circle;
    const xml = buildPidfLo(noTime, { entity: 'sip:a@example.com', deviceId: 'urn:x:1', now });
    expect(text(node(parse(xml), 'presence', 'dm:device')['dm:timestamp'])).toBe('2025-10-06T19:00:00.000Z');
  });

  it('falls back to an RFC 4119 tuple when there is no device ID', () => {
    const xml = buildPidfLo(circle, { entity: 'sip:a@example.com', now });
    const tuple = node(parse(xml), 'presence', 'tuple');
    expect(node(tuple, 'status', 'gp:geopriv', 'gp:location-info')).toHaveProperty('gs:Circle');
    expect(text(tuple['timestamp'])).toBe('2025-10-06T19:32:10Z');
  });

  describe('mappings', () => {
    const info = (loc: LocationDetails): Node => node(parse(buildPidfLo(loc, { entity: 'sip:a@example.com', deviceId: 'urn:x:1', now })), 'presence', 'dm:device', 'gp:geopriv', 'gp:location-info');

    it.each([
      ['normal', 'normal'],
      ['uniform', 'rectangular'],
    ] as const)('confidence.pdf %s → pdf="%s" (RFC 7459 §5.1)', (pdf, expected) => {
      expect(node(info({ ...circle, confidence: { pdf, value: 67 } }), 'con:confidence')['@pdf']).toBe(expected);
    });

    it('defaults pdf to normal when only a value is given', () => {
      expect(node(info({ ...circle, confidence: { value: 67 } }), 'con:confidence')['@pdf']).toBe('normal');
    });

    it('omits con:confidence without a value', () => {
      expect(info({ ...circle, confidence: { pdf: 'uniform' } })).not.toHaveProperty('con:confidence');
    });

    it.each(['GPS', 'DBH', 'DBH_HELO', 'Other'] as const)('method %s → gp:method %s', (method) => {
      const xml = buildPidfLo({ ...circle, method }, { entity: 'sip:a@example.com', deviceId: 'urn:x:1', now });
      expect(text(node(parse(xml), 'presence', 'dm:device', 'gp:geopriv')['gp:method'])).toBe(method);
    });

    it('omits gp:method when method is absent', () => {
      const { method: _, ...noMethod } = circle;
      const xml = buildPidfLo(noMethod, { entity: 'sip:a@example.com', deviceId: 'urn:x:1', now });
      expect(node(parse(xml), 'presence', 'dm:device', 'gp:geopriv')).not.toHaveProperty('gp:method');
    });

    it('infers the shape from the coordinates when shape is absent', () => {
      const { shape: _, ...noShape } = ellipsoid;
      expect(info(noShape)).toHaveProperty('gs:Ellipsoid');
      const { shape: __, ...noShapeCircle } = circle;
      expect(info(noShapeCircle)).toHaveProperty('gs:Circle');
    });
  });
});

describe('validateLocation', () => {
  const withCircle = (c: Partial<CircleCoordinates>): LocationDetails => ({ ...circle, coordinates: { ...(circle.coordinates as CircleCoordinates), ...c } });
  const withEllipsoid = (c: Partial<EllipsoidCoordinates>): LocationDetails => ({ ...ellipsoid, coordinates: { ...ellipsoidCoords, ...c } });

  it.each([
    ['latitude', -90.0001, -90],
    ['latitude', 90.0001, 90],
    ['longitude', -180.0001, -180],
    ['longitude', 180.0001, 180],
  ] as const)('%s %d is OUT_OF_RANGE, %d is fine', (field, bad, edge) => {
    expectLocationError(() => validateLocation(withCircle({ [field]: bad })), 'OUT_OF_RANGE', `locationDetails.coordinates.${field} is ${bad}`);
    expect(() => validateLocation(withCircle({ [field]: edge }))).not.toThrow();
  });

  it('radius below 0 is OUT_OF_RANGE, 0 is fine', () => {
    expectLocationError(() => validateLocation(withCircle({ radius: -0.1 })), 'OUT_OF_RANGE', 'locationDetails.coordinates.radius is -0.1');
    expect(() => validateLocation(withCircle({ radius: 0 }))).not.toThrow();
  });

  it.each(['semiMajorAxis', 'semiMinorAxis', 'verticalAxis'] as const)('%s below 0 is OUT_OF_RANGE, 0 is fine', (field) => {
    expectLocationError(() => validateLocation(withEllipsoid({ [field]: -1 })), 'OUT_OF_RANGE', `locationDetails.coordinates.${field} is -1`);
    expect(() => validateLocation(withEllipsoid({ [field]: 0 }))).not.toThrow();
  });

  it('orientation must be in [0, 360)', () => {
    expectLocationError(() => validateLocation(withEllipsoid({ orientation: -0.5 })), 'OUT_OF_RANGE', /orientation is -0.5, outside \[0, 360\)/);
    expectLocationError(() => validateLocation(withEllipsoid({ orientation: 360 })), 'OUT_OF_RANGE', /orientation is 360/);
    expect(() => validateLocation(withEllipsoid({ orientation: 0 }))).not.toThrow();
    expect(() => validateLocation(withEllipsoid({ orientation: 359.99 }))).not.toThrow();
  });

  it('latitude and longitude bounds apply to Ellipsoid too', () => {
    expectLocationError(() => validateLocation(withEllipsoid({ latitude: 91 })), 'OUT_OF_RANGE', /latitude/);
    expectLocationError(() => validateLocation(withEllipsoid({ longitude: -181 })), 'OUT_OF_RANGE', /longitude/);
  });

  it('confidence.value must be in [0, 100]', () => {
    expectLocationError(() => validateLocation({ ...circle, confidence: { value: -1 } }), 'OUT_OF_RANGE', 'locationDetails.confidence.value is -1');
    expectLocationError(() => validateLocation({ ...circle, confidence: { value: 100.5 } }), 'OUT_OF_RANGE', 'locationDetails.confidence.value is 100.5');
    expect(() => validateLocation({ ...circle, confidence: { value: 0 } })).not.toThrow();
    expect(() => validateLocation({ ...circle, confidence: { value: 100 } })).not.toThrow();
  });

  it('rejects shape Circle with ellipsoid fields and no radius', () => {
    const loc = { shape: 'Circle', coordinates: { latitude: 1, longitude: 2, semiMajorAxis: 3 } } as unknown as LocationDetails;
    expectLocationError(() => validateLocation(loc), 'INVALID_ARGUMENT', 'locationDetails.shape is Circle but coordinates has semiMajorAxis and no radius');
  });

  it('rejects shape Ellipsoid with a radius', () => {
    const loc = { shape: 'Ellipsoid', coordinates: { latitude: 1, longitude: 2, radius: 3 } } as unknown as LocationDetails;
    expectLocationError(() => validateLocation(loc), 'INVALID_ARGUMENT', 'locationDetails.shape is Ellipsoid but coordinates has radius');
  });

  it('rejects coordinates mixing both shapes', () => {
    const loc = { coordinates: { ...ellipsoidCoords, radius: 3 } } as unknown as LocationDetails;
    expectLocationError(() => validateLocation(loc), 'INVALID_ARGUMENT', /mixes Circle \(radius\) and Ellipsoid/);
  });

  it('rejects a missing required coordinate', () => {
    const { zAxis: _, ...noZ } = ellipsoidCoords;
    expectLocationError(() => validateLocation({ ...ellipsoid, coordinates: noZ as EllipsoidCoordinates }), 'INVALID_ARGUMENT', 'locationDetails.coordinates.zAxis is required for shape Ellipsoid');
  });

  it('rejects missing coordinates', () => {
    expectLocationError(() => validateLocation({ shape: 'Circle' }), 'INVALID_ARGUMENT', 'locationDetails.coordinates is required');
  });

  it('rejects non-numbers and non-finite numbers', () => {
    expectLocationError(() => validateLocation(withCircle({ latitude: '1' as unknown as number })), 'INVALID_ARGUMENT', 'locationDetails.coordinates.latitude must be a finite number');
    expectLocationError(() => validateLocation(withCircle({ radius: Number.NaN })), 'INVALID_ARGUMENT', /radius must be a finite number/);
  });

  it('rejects an unknown shape, method or pdf', () => {
    expectLocationError(() => validateLocation({ ...circle, shape: 'Polygon' as unknown as 'Circle' }), 'INVALID_ARGUMENT', /shape must be Circle or Ellipsoid/);
    expectLocationError(() => validateLocation({ ...circle, method: '<Cell>' as unknown as 'GPS' }), 'INVALID_ARGUMENT', /method must be one of GPS, DBH, DBH_HELO, Other/);
    expectLocationError(() => validateLocation({ ...circle, confidence: { pdf: 'gamma' as unknown as 'normal', value: 5 } }), 'INVALID_ARGUMENT', /pdf must be normal or uniform/);
  });

  it('rejects a timestamp that is not an RFC 3339 date-time', () => {
    expectLocationError(() => validateLocation({ ...circle, timestamp: 'yesterday <b>' }), 'INVALID_ARGUMENT', 'locationDetails.timestamp must be an RFC 3339 date-time');
    expect(() => validateLocation({ ...circle, timestamp: '2025-10-06T19:32:10.123+02:00' })).not.toThrow();
  });

  it('accepts the CAMARA examples', () => {
    expect(() => validateLocation(circle)).not.toThrow();
    expect(() => validateLocation(ellipsoid)).not.toThrow();
  });
});

describe('validateLocation edges found by mutation testing', () => {
  it('names what is not an object or not a number', () => {
    expectLocationError(() => validateLocation(null as unknown as LocationDetails), 'INVALID_ARGUMENT', /^locationDetails must be an object$/);
    expectLocationError(() => validateLocation([] as unknown as LocationDetails), 'INVALID_ARGUMENT', /^locationDetails must be an object$/);
    expectLocationError(() => validateLocation({ ...circle, confidence: 5 as unknown as LocationDetails['confidence'] }), 'INVALID_ARGUMENT', /^locationDetails\.confidence must be an object$/);
    expectLocationError(() => validateLocation({ ...circle, confidence: null as unknown as LocationDetails['confidence'] }), 'INVALID_ARGUMENT', /^locationDetails\.confidence must be an object$/);
    for (const value of ['50', Number.POSITIVE_INFINITY]) {
      expectLocationError(() => validateLocation({ ...circle, confidence: { value: value as number } }), 'INVALID_ARGUMENT', /^locationDetails\.confidence\.value must be a finite number$/);
    }
    expectLocationError(() => validateLocation(withCircleLatitude('1')), 'INVALID_ARGUMENT', /^locationDetails\.coordinates\.latitude must be a finite number$/);
  });

  it('refuses a method or pdf that is not a string, and a timestamp that is not a string or too long', () => {
    expectLocationError(() => validateLocation({ ...circle, method: 1 as unknown as 'GPS' }), 'INVALID_ARGUMENT', /method must be one of/);
    expectLocationError(() => validateLocation({ ...circle, confidence: { pdf: ['normal'] as unknown as 'normal', value: 5 } }), 'INVALID_ARGUMENT', /pdf must be normal or uniform/);
    expectLocationError(() => validateLocation({ ...circle, timestamp: 20251006 as unknown as string }), 'INVALID_ARGUMENT', /timestamp must be an RFC 3339 date-time/);
    const long = `2025-10-06T19:32:10.${'1'.repeat(44)}Z`; // 65 characters, valid otherwise
    expect(long).toHaveLength(65);
    expectLocationError(() => validateLocation({ ...circle, timestamp: long }), 'INVALID_ARGUMENT', /timestamp must be an RFC 3339 date-time/);
    const longest = `2025-10-06T19:32:10.${'1'.repeat(43)}Z`; // 64: fine
    expect(() => validateLocation({ ...circle, timestamp: longest })).not.toThrow();
    expectLocationError(() => validateLocation({ ...circle, timestamp: '2025-13-01T10:00:00Z' }), 'INVALID_ARGUMENT', /timestamp/);
  });

  it('states closed and half-open ranges as such, and names every ellipsoid field of a mixed shape', () => {
    expectLocationError(() => validateLocation(withCircleLatitude(91)), 'OUT_OF_RANGE', 'locationDetails.coordinates.latitude is 91, outside [-90, 90]');
    const loc = { shape: 'Circle', coordinates: { latitude: 1, longitude: 2, semiMajorAxis: 3, semiMinorAxis: 2 } } as unknown as LocationDetails;
    expectLocationError(() => validateLocation(loc), 'INVALID_ARGUMENT', 'locationDetails.shape is Circle but coordinates has semiMajorAxis, semiMinorAxis and no radius');
    const mixed = { coordinates: { latitude: 1, longitude: 2, radius: 3, semiMajorAxis: 3, orientation: 4 } } as unknown as LocationDetails;
    expectLocationError(() => validateLocation(mixed), 'INVALID_ARGUMENT', 'locationDetails.coordinates mixes Circle (radius) and Ellipsoid (semiMajorAxis, orientation) fields');
  });

  it('is a LocationError by name', () => {
    expect(new LocationError('OUT_OF_RANGE', 'x').name).toBe('LocationError');
  });

  function withCircleLatitude(latitude: unknown): LocationDetails {
    return { ...circle, coordinates: { ...(circle.coordinates as CircleCoordinates), latitude: latitude as number } };
  }
});

describe('buildPidfLo edges found by mutation testing', () => {
  it('declares every namespace prefix on presence, pretty-printed, with the tuple id', () => {
    const xml = buildPidfLo(circle, { entity: 'sip:+1@h', now });
    for (const [prefix, ns] of [
      ['dm', NS.dm],
      ['gp', NS.gp],
      ['gml', NS.gml],
      ['gs', NS.gs],
      ['con', NS.con],
    ] as const) {
      expect(xml).toContain(`xmlns:${prefix}="${ns}"`);
    }
    expect(xml.split('\n').length).toBeGreaterThan(10);
    expect(node(parse(xml), 'presence', 'tuple')['@id']).toBe('camara-location');
  });

  it('writes an Ellipsoid for coordinates without radius and no shape, and -0 as 0', () => {
    const { shape: _, ...noShape } = ellipsoid;
    const xml = buildPidfLo({ ...noShape, coordinates: { ...ellipsoidCoords, orientation: -0 } }, { entity: 'sip:+1@h', deviceId: 'd1', now });
    const info = node(parse(xml), 'presence', 'dm:device', 'gp:geopriv', 'gp:location-info');
    expect(info).toHaveProperty('gs:Ellipsoid');
    expect(text(node(info, 'gs:Ellipsoid', 'gs:orientation'))).toBe('0');
    expect(node(parse(xml), 'presence', 'dm:device')['@id']).toBe('camara-location');
  });
});
