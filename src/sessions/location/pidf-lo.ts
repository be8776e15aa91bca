/**
 * PIDF-LO (RFC 4119, RFC 5491, RFC 7459) from the CAMARA call-handling `LocationDetails`.
 *
 * The document is built with xmlbuilder2, so every value is escaped by construction.
 * Layout (RFC 5491 §3.1: location goes in a `dm:device` element when the device is known):
 *
 * ```xml
 * <presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.com">
 *   <dm:device id="camara-location">
 *     <gp:geopriv>
 *       <gp:location-info>
 *         <gs:Circle srsName="urn:ogc:def:crs:EPSG::4326">...</gs:Circle>
 *         <con:confidence pdf="normal">88</con:confidence>
 *       </gp:location-info>
 *       <gp:usage-rules/>
 *       <gp:method>GPS</gp:method>
 *     </gp:geopriv>
 *     <dm:deviceID>urn:gsma:imei:...</dm:deviceID>
 *     <dm:timestamp>2025-10-06T19:32:10Z</dm:timestamp>
 *   </dm:device>
 * </presence>
 * ```
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';

/** CAMARA `CircleCoordinates`. */
export interface CircleCoordinates {
  latitude: number;
  longitude: number;
  /** Metres. */
  radius: number;
}

/** CAMARA `EllipsoidCoordinates` (all fields required by the contract). */
export interface EllipsoidCoordinates {
  latitude: number;
  longitude: number;
  /** Altitude in metres (WGS 84). */
  zAxis: number;
  semiMajorAxis: number;
  semiMinorAxis: number;
  verticalAxis: number;
  /** Degrees. */
  orientation: number;
}

export type LocationShape = 'Circle' | 'Ellipsoid';
export type LocationMethod = 'GPS' | 'DBH' | 'DBH_HELO' | 'Other';

/** CAMARA `LocationDetails.confidence`. */
export interface LocationConfidence {
  pdf?: 'normal' | 'uniform';
  /** Percentage, 0..100. */
  value?: number;
}

/** CAMARA `LocationDetails` (webrtc-call-handling.yaml); every property is optional in the contract. */
export interface LocationDetails {
  shape?: LocationShape;
  coordinates?: CircleCoordinates | EllipsoidCoordinates;
  method?: LocationMethod;
  confidence?: LocationConfidence;
  /** RFC 3339 date-time; "now" when absent (contract: "if not provided current timestamp will be used"). */
  timestamp?: string;
}

export type LocationErrorCode = 'OUT_OF_RANGE' | 'INVALID_ARGUMENT';

/** Bad `locationDetails` from a client; `message` names the field (`locationDetails.coordinates.latitude`). */
export class LocationError extends Error {
  override readonly name = 'LocationError';
  constructor(
    readonly code: LocationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface PidfLoOptions {
  /** Presence entity (RFC 3863 §4.1.1): the subscriber's `sip:`, `tel:` or `pres:` URI. */
  entity: string;
  /** RFC 4479 §3.3 device ID (e.g. `urn:gsma:imei:...`). Without it the location goes in a `tuple` (RFC 4119 §2.2). */
  deviceId?: string;
  /** Injected clock, used when `timestamp` is absent. */
  now: () => Date;
}

export const NS = {
  pidf: 'urn:ietf:params:xml:ns:pidf',
  dm: 'urn:ietf:params:xml:ns:pidf:data-model',
  gp: 'urn:ietf:params:xml:ns:pidf:geopriv10',
  gml: 'http://www.opengis.net/gml',
  gs: 'http://www.opengis.net/pidflo/1.0',
  con: 'urn:ietf:params:xml:ns:geopriv:conf',
} as const;

/** RFC 5491 §4: 2D shapes use EPSG::4326, 3D shapes EPSG::4979; lengths in metres (9001), angles in degrees (9102). */
export const CRS_2D = 'urn:ogc:def:crs:EPSG::4326';
export const CRS_3D = 'urn:ogc:def:crs:EPSG::4979';
export const UOM_METRE = 'urn:ogc:def:uom:EPSG::9001';
export const UOM_DEGREE = 'urn:ogc:def:uom:EPSG::9102';

/**
 * CAMARA `method` → `gp:method` (RFC 4119 §2.2.3, free text with an IANA token registry).
 * The CAMARA values are the tokens US emergency networks already use (NENA i3:
 * `DBH` device-based hybrid, `DBH_HELO` Apple HELO), so they pass through unchanged.
 */
export const METHOD_TO_GP = {
  GPS: 'GPS',
  DBH: 'DBH',
  DBH_HELO: 'DBH_HELO',
  Other: 'Other',
} as const satisfies Record<LocationMethod, string>;

/** CAMARA `confidence.pdf` → RFC 7459 §5.1 `pdf`: a uniform distribution over the shape is RFC 7459's "rectangular". */
export const PDF_TO_CON = {
  normal: 'normal',
  uniform: 'rectangular',
} as const satisfies Record<NonNullable<LocationConfidence['pdf']>, string>;

const CIRCLE_FIELDS = ['latitude', 'longitude', 'radius'] as const;
const ELLIPSOID_FIELDS = ['latitude', 'longitude', 'zAxis', 'semiMajorAxis', 'semiMinorAxis', 'verticalAxis', 'orientation'] as const;
const ELLIPSOID_ONLY = ['zAxis', 'semiMajorAxis', 'semiMinorAxis', 'verticalAxis', 'orientation'] as const;
/** RFC 3339 §5.6 date-time (what CAMARA `format: date-time` means). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

const F = 'locationDetails';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(coords: Record<string, unknown>, field: string): number {
  const v = coords[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new LocationError('INVALID_ARGUMENT', `${F}.coordinates.${field} must be a finite number`);
  }
  return v;
}

function inRange(field: string, v: number, min: number, max: number, maxExclusive = false): void {
  if (v < min || (maxExclusive ? v >= max : v > max)) {
    throw new LocationError('OUT_OF_RANGE', `${field} is ${v}, outside [${min}, ${max}${maxExclusive ? ')' : ']'}`);
  }
}

type Located = { shape: 'Circle'; coords: CircleCoordinates } | { shape: 'Ellipsoid'; coords: EllipsoidCoordinates };

/** Checks shape/coordinates agreement and bounds; returns the coordinates narrowed by shape. */
function locate(location: unknown): Located {
  if (!isRecord(location)) throw new LocationError('INVALID_ARGUMENT', `${F} must be an object`);
  const coords = location['coordinates'];
  if (!isRecord(coords)) throw new LocationError('INVALID_ARGUMENT', `${F}.coordinates is required`);
  const shape = location['shape'];
  if (shape !== undefined && shape !== 'Circle' && shape !== 'Ellipsoid') {
    throw new LocationError('INVALID_ARGUMENT', `${F}.shape must be Circle or Ellipsoid`);
  }
  const hasRadius = coords['radius'] !== undefined;
  const ellipsoidFields = ELLIPSOID_ONLY.filter((f) => coords[f] !== undefined);
  if (hasRadius && ellipsoidFields.length > 0) {
    throw new LocationError('INVALID_ARGUMENT', `${F}.coordinates mixes Circle (radius) and Ellipsoid (${ellipsoidFields.join(', ')}) fields`);
  }
  // The contract's `shape` is optional: infer it from the coordinates (oneOf) when absent.
  const effective: LocationShape = shape ?? (hasRadius ? 'Circle' : 'Ellipsoid');
  if (effective === 'Circle' && ellipsoidFields.length > 0) {
    throw new LocationError('INVALID_ARGUMENT', `${F}.shape is Circle but coordinates has ${ellipsoidFields.join(', ')} and no radius`);
  }
  if (effective === 'Ellipsoid' && hasRadius) {
    throw new LocationError('INVALID_ARGUMENT', `${F}.shape is Ellipsoid but coordinates has radius`);
  }
  const fields = effective === 'Circle' ? CIRCLE_FIELDS : ELLIPSOID_FIELDS;
  for (const f of fields) {
    if (coords[f] === undefined) throw new LocationError('INVALID_ARGUMENT', `${F}.coordinates.${f} is required for shape ${effective}`);
  }
  const latitude = num(coords, 'latitude');
  const longitude = num(coords, 'longitude');
  inRange(`${F}.coordinates.latitude`, latitude, -90, 90);
  inRange(`${F}.coordinates.longitude`, longitude, -180, 180);
  if (effective === 'Circle') {
    const radius = num(coords, 'radius');
    inRange(`${F}.coordinates.radius`, radius, 0, Infinity);
    return { shape: 'Circle', coords: { latitude, longitude, radius } };
  }
  const e = {
    latitude,
    longitude,
    zAxis: num(coords, 'zAxis'),
    semiMajorAxis: num(coords, 'semiMajorAxis'),
    semiMinorAxis: num(coords, 'semiMinorAxis'),
    verticalAxis: num(coords, 'verticalAxis'),
    orientation: num(coords, 'orientation'),
  };
  for (const f of ['semiMajorAxis', 'semiMinorAxis', 'verticalAxis'] as const) inRange(`${F}.coordinates.${f}`, e[f], 0, Infinity);
  // RFC 5491 §5.2.7: orientation of the semi-major axis, degrees clockwise from north.
  inRange(`${F}.coordinates.orientation`, e.orientation, 0, 360, true);
  return { shape: 'Ellipsoid', coords: e };
}

function checkOthers(location: Record<string, unknown>): void {
  const method = location['method'];
  if (method !== undefined && (typeof method !== 'string' || !Object.hasOwn(METHOD_TO_GP, method))) {
    throw new LocationError('INVALID_ARGUMENT', `${F}.method must be one of ${Object.keys(METHOD_TO_GP).join(', ')}`);
  }
  const confidence = location['confidence'];
  if (confidence !== undefined) {
    if (!isRecord(confidence)) throw new LocationError('INVALID_ARGUMENT', `${F}.confidence must be an object`);
    const pdf = confidence['pdf'];
    if (pdf !== undefined && (typeof pdf !== 'string' || !Object.hasOwn(PDF_TO_CON, pdf))) {
      throw new LocationError('INVALID_ARGUMENT', `${F}.confidence.pdf must be normal or uniform`);
    }
    const value = confidence['value'];
    if (value !== undefined) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new LocationError('INVALID_ARGUMENT', `${F}.confidence.value must be a finite number`);
      }
      inRange(`${F}.confidence.value`, value, 0, 100);
    }
  }
  const timestamp = location['timestamp'];
  if (timestamp !== undefined) {
    if (typeof timestamp !== 'string' || timestamp.length > 64 || !DATE_TIME.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
      throw new LocationError('INVALID_ARGUMENT', `${F}.timestamp must be an RFC 3339 date-time`);
    }
  }
}

/** Throws {@link LocationError} (OUT_OF_RANGE naming the field, or INVALID_ARGUMENT) for unusable input. */
export function validateLocation(location: LocationDetails): void {
  locate(location);
  checkOthers(location as unknown as Record<string, unknown>);
}

/** xs:double lexical form; JS `String()` output ("1e-7", "-0" → "0") is valid. */
const d = (n: number): string => String(n === 0 ? 0 : n);

function addShape(info: XMLBuilder, located: Located): void {
  if (located.shape === 'Circle') {
    const { latitude, longitude, radius } = located.coords;
    // RFC 5491 §5.2.3
    const circle = info.ele(NS.gs, 'gs:Circle', { srsName: CRS_2D });
    circle.ele(NS.gml, 'gml:pos').txt(`${d(latitude)} ${d(longitude)}`);
    circle.ele(NS.gs, 'gs:radius', { uom: UOM_METRE }).txt(d(radius));
    return;
  }
  const c = located.coords;
  // RFC 5491 §5.2.7
  const ell = info.ele(NS.gs, 'gs:Ellipsoid', { srsName: CRS_3D });
  ell.ele(NS.gml, 'gml:pos').txt(`${d(c.latitude)} ${d(c.longitude)} ${d(c.zAxis)}`);
  ell.ele(NS.gs, 'gs:semiMajorAxis', { uom: UOM_METRE }).txt(d(c.semiMajorAxis));
  ell.ele(NS.gs, 'gs:semiMinorAxis', { uom: UOM_METRE }).txt(d(c.semiMinorAxis));
  ell.ele(NS.gs, 'gs:verticalAxis', { uom: UOM_METRE }).txt(d(c.verticalAxis));
  ell.ele(NS.gs, 'gs:orientation', { uom: UOM_DEGREE }).txt(d(c.orientation));
}

/**
 * Builds the PIDF-LO document (UTF-8, with XML declaration) for `application/pidf+xml`
 * bodies (RFC 6442 §3). Validates first; see {@link validateLocation}.
 */
export function buildPidfLo(location: LocationDetails, opts: PidfLoOptions): string {
  const located = locate(location);
  checkOthers(location as unknown as Record<string, unknown>);
  const timestamp = location.timestamp ?? opts.now().toISOString();

  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const presence = doc.ele(NS.pidf, 'presence', { entity: opts.entity });
  presence.att('http://www.w3.org/2000/xmlns/', 'xmlns:dm', NS.dm);
  presence.att('http://www.w3.org/2000/xmlns/', 'xmlns:gp', NS.gp);
  presence.att('http://www.w3.org/2000/xmlns/', 'xmlns:gml', NS.gml);
  presence.att('http://www.w3.org/2000/xmlns/', 'xmlns:gs', NS.gs);
  presence.att('http://www.w3.org/2000/xmlns/', 'xmlns:con', NS.con);

  // RFC 4479 §3.3 requires dm:deviceID in dm:device; without one, fall back to RFC 4119's tuple/status.
  const holder = opts.deviceId !== undefined ? presence.ele(NS.dm, 'dm:device', { id: 'camara-location' }) : presence.ele(NS.pidf, 'tuple', { id: 'camara-location' }).ele(NS.pidf, 'status');
  const geopriv = holder.ele(NS.gp, 'gp:geopriv');
  const info = geopriv.ele(NS.gp, 'gp:location-info');
  addShape(info, located);
  // RFC 7459 §5.1: confidence sits beside the shape. Without a value there is nothing to
  // state; recipients then assume RFC 5491's 95%.
  const value = location.confidence?.value;
  if (value !== undefined) {
    info.ele(NS.con, 'con:confidence', { pdf: PDF_TO_CON[location.confidence?.pdf ?? 'normal'] }).txt(d(value));
  }
  // RFC 4119 §2.2.2: usage-rules is mandatory; empty means the defaults (retransmission not allowed).
  geopriv.ele(NS.gp, 'gp:usage-rules');
  if (location.method !== undefined) geopriv.ele(NS.gp, 'gp:method').txt(METHOD_TO_GP[location.method]);

  if (opts.deviceId !== undefined) {
    holder.ele(NS.dm, 'dm:deviceID').txt(opts.deviceId);
    holder.ele(NS.dm, 'dm:timestamp').txt(timestamp);
  } else {
    // RFC 3863 §4.1.7: tuple timestamp follows status.
    holder.up().ele(NS.pidf, 'timestamp').txt(timestamp);
  }
  return doc.end({ prettyPrint: true });
}
