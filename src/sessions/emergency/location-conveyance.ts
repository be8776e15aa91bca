/**
 * Location conveyance in SIP (RFC 6442) for CAMARA `locationDetails`: by value, as a PIDF-LO body
 * (RFC 4119 / RFC 5491, built by `../location/pidf-lo.ts`) referenced from a `Geolocation: <cid:…>`
 * header (RFC 6442 §4.1, cid URL per RFC 2392).
 *
 * - Initial INVITE (emergency or regular): `multipart/mixed` (RFC 5621 §3) with the SDP offer first
 *   and the PIDF-LO second; the PIDF-LO part's `Content-ID` is the Geolocation cid.
 * - In-dialog UPDATE that carries only a new location (no SDP offer, RFC 3311 allows an UPDATE
 *   without one): the PIDF-LO is the single body, `Content-Type: application/pidf+xml`, and the
 *   SIP-level `Content-ID` header (RFC 8262, which updates RFC 5621/6442 for exactly this case)
 *   carries the id the Geolocation header references. No one-part multipart: it is legal but adds
 *   nothing, and RFC 8262 exists so that a single body can be referenced.
 *
 * `Geolocation-Routing` (RFC 6442 §4.2): `yes` for emergency calls, where the emergency network
 * (E-CSCF, LRF, ECRF) must route on the location; `no` for a regular call, where the location is
 * for the far end only and proxies must not route on it.
 */
import { randomBytes } from 'node:crypto';
import { buildMultipartBody } from '../../sip/multipart';
import type { OutgoingCall, SipBody } from '../../sip/sip-gateway';
import { buildPidfLo, type LocationDetails } from '../location/pidf-lo';

/** The `locationDetails` of a request as the DTO gives it; validated (LocationError) while building the PIDF-LO. */
export type LocationInput = LocationDetails | Readonly<Record<string, unknown>>;

export const PIDF_CONTENT_TYPE = 'application/pidf+xml';

export interface LocationConveyanceOptions {
  /** Right-hand side of the Content-ID (RFC 2392 `addr-spec`): the gateway's SIP domain. */
  domain: string;
  /** PIDF-LO presence entity (RFC 3863 §4.1.1): the subscriber's URI, or the anonymous URI. */
  entity: string;
  /** RFC 4479 device ID URN (e.g. `urn:uuid:<CAMARA deviceId>`): the location then goes in `dm:device`. */
  deviceId?: string;
  /** Clock for a location without `timestamp` (CAMARA: "current timestamp will be used"). */
  now: () => Date;
  /** Local part of the Content-ID; 128 random bits (hex) unless injected. */
  contentIdLocalPart?: () => string;
}

/** A location ready to attach: the PIDF-LO, its Content-ID and the headers that reference it. */
export interface ConveyedLocation {
  /** `<local>@<domain>` without angle brackets. */
  contentId: string;
  pidfLo: string;
  headers: { Geolocation: string; 'Geolocation-Routing': 'yes' | 'no' };
}

/** What `SipGateway.request(dialog, 'UPDATE', { headers, body })` needs for a location update. */
export interface LocationUpdate {
  headers: Record<string, string>;
  body: SipBody;
  contentId: string;
}

/** RFC 1035-style host name (what SIP_DOMAIN is); refuses anything that could break a header. */
const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** RFC 5322 dot-atom-text restricted to what needs no escaping in a cid URL (RFC 2392). */
const LOCAL_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/;

const randomLocalPart = (): string => randomBytes(16).toString('hex');

/**
 * Builds the PIDF-LO (throws `LocationError` for bad `locationDetails`) and a fresh Content-ID.
 * `routing`: the value of Geolocation-Routing (see the file comment).
 */
export function conveyLocation(location: LocationInput, routing: boolean, opts: LocationConveyanceOptions): ConveyedLocation {
  // buildPidfLo validates the untyped DTO value at run time (shape, ranges, enums).
  const pidfLo = buildPidfLo(location, { entity: opts.entity, now: opts.now, ...(opts.deviceId !== undefined && { deviceId: opts.deviceId }) });
  if (!DOMAIN.test(opts.domain)) throw new Error(`Content-ID domain ${JSON.stringify(opts.domain)} is not a host name`);
  const local = (opts.contentIdLocalPart ?? randomLocalPart)();
  if (!LOCAL_PART.test(local)) throw new Error(`Content-ID local part ${JSON.stringify(local)} is not a dot-atom`);
  const contentId = `${local}@${opts.domain}`;
  return {
    contentId,
    pidfLo,
    headers: { Geolocation: `<cid:${contentId}>`, 'Geolocation-Routing': routing ? 'yes' : 'no' },
  };
}

/** The call with its SDP body replaced by `multipart/mixed` (SDP, PIDF-LO) and the Geolocation headers added. */
export function attachLocation(call: OutgoingCall, conveyed: ConveyedLocation): OutgoingCall {
  if (call.body.contentType !== 'application/sdp') {
    throw new Error(`attachLocation expects an SDP body, got ${call.body.contentType}`);
  }
  const multipart = buildMultipartBody([
    { contentType: 'application/sdp', body: call.body.content },
    { contentType: PIDF_CONTENT_TYPE, contentId: conveyed.contentId, body: conveyed.pidfLo },
  ]);
  return {
    ...call,
    body: { contentType: multipart.contentType, content: multipart.body },
    headers: { ...call.headers, ...conveyed.headers },
  };
}

/**
 * A REGULAR call with `locationDetails` (CAMARA `exampleLocatedMediaSessionRequest`): the call the
 * service built, with the location attached and `Geolocation-Routing: no`.
 * For an anonymous originator pass `entity: ANONYMOUS_URI` so the PIDF-LO does not reveal who calls.
 */
export function planLocatedInvite(call: OutgoingCall, location: LocationInput, opts: LocationConveyanceOptions): OutgoingCall {
  return attachLocation(call, conveyLocation(location, false, opts));
}

/**
 * The headers and body of an in-dialog UPDATE carrying a new location (`PUT /sessions/{id}/status`
 * with `locationDetails`), see the file comment. `routing`: true on an emergency call.
 */
export function planLocationUpdate(location: LocationInput, opts: LocationConveyanceOptions & { routing: boolean }): LocationUpdate {
  const conveyed = conveyLocation(location, opts.routing, opts);
  return {
    headers: { ...conveyed.headers, 'Content-ID': `<${conveyed.contentId}>` },
    body: { contentType: PIDF_CONTENT_TYPE, content: conveyed.pidfLo },
    contentId: conveyed.contentId,
  };
}
