/**
 * The INVITE of an emergency call (3GPP TS 24.229 §5.1.6.8, RFC 6881 / BCP 181, RFC 6442), as an
 * `OutgoingCall` for `SipGateway.invite()`. Pure: no I/O; clock and randomness injectable.
 *
 * ```
 * INVITE urn:service:sos SIP/2.0                          R-URI = service URN (RFC 5031)
 * From: <sip:+17085852753@ims.lab>    (or "Anonymous" <sip:anonymous@anonymous.invalid>)
 * To: "PSAP" <urn:service:sos>
 * P-Asserted-Identity: <sip:+17085852753@ims.lab>           call-back number, always
 * Accept: application/sdp, application/pidf+xml
 * Priority: emergency
 * Geolocation: <cid:3f…@ims.lab>                            only with locationDetails
 * Geolocation-Routing: yes
 * Content-Type: multipart/mixed;boundary=…                  SDP part + PIDF-LO part (Content-ID: <3f…@ims.lab>)
 * ```
 *
 * Decisions (each is a `NOTE:` in the code too):
 * - Identity: the PSAP needs a call-back number (RFC 6881 §5/§8, TS 24.229 §5.1.6.8), so the
 *   subscriber's number is always sent in P-Asserted-Identity (the gateway authenticated the
 *   subscriber with the operator's OAuth token and sits in the IMS trust domain, RFC 3325 §2.3) or,
 *   configurably (`EMERGENCY_IDENTITY_HEADER`), in P-Preferred-Identity for a P-CSCF that insists on
 *   asserting itself.
 * - Anonymous originator: From is anonymous (the user's choice towards everyone else) but there is
 *   NO `Privacy: id`. With `Privacy: id` the edge of the trust domain removes P-Asserted-Identity
 *   (RFC 3325 §9.3, the `id` privacy type), and a PSAP is frequently outside that domain (ESInet
 *   behind an IBCF/BCF), so the PSAP would lose the call-back number. Caller-ID restriction is not
 *   meant to hide a caller from emergency services (the usual regulatory exemption); if an operator
 *   wants the network to apply it anyway, that is the E-CSCF's decision, not the gateway's.
 * - Without SIP credentials (no registration / nothing provisioned): TS 24.229 §5.1.6.8.2, emergency
 *   session without registration: From "Anonymous", no digest (the IMS core does not challenge it),
 *   Contact user a per-call id; the asserted identity is still sent.
 * - `Priority: emergency` (RFC 3261 §20.26). RFC 6881 routes and marks emergency calls by the service
 *   URN, not by this header, so it is informational; it is what PSAP equipment and E911 endpoints
 *   traditionally look at, and no element is required to act on it.
 * - SDP: parsed leniently (`lenient: true`): cosmetic faults are dropped and returned in `dropped`
 *   for the caller to log at `warn`; only an SDP without one usable m= line is refused (SdpError).
 */
import { randomUUID } from 'node:crypto';
import { parseOffer, type SdpProfile } from '../../sip/sdp';
import type { NameAddr, OutgoingCall, SipCredentials } from '../../sip/sip-gateway';
import { ANONYMOUS_URI, E164 } from '../address';
import { attachLocation, conveyLocation, type LocationInput } from './location-conveyance';

/** Where the subscriber's number goes (config `EMERGENCY_IDENTITY_HEADER`). */
export type IdentityHeader = 'P-Asserted-Identity' | 'P-Preferred-Identity';
export const DEFAULT_IDENTITY_HEADER: IdentityHeader = 'P-Asserted-Identity';

/** RFC 6442 + RFC 6881: we accept a PIDF-LO in responses too (e.g. a PSAP-side location). */
export const EMERGENCY_ACCEPT = 'application/sdp, application/pidf+xml';

export interface EmergencyInviteInput {
  /** From `classifyCall()`: `urn:service:sos` or a sub-service. */
  serviceUrn: string;
  /** The subscriber's E.164 number (token `phone_number`): the call-back number. */
  phoneNumber: string;
  /** SIP_DOMAIN. */
  domain: string;
  /** CAMARA `originatorAddress`; the anonymous URI asks for an anonymous From. Checked against the token by the caller. */
  originatorAddress: string;
  originatorName?: string;
  receiverName?: string;
  /** CAMARA `offer.sdp`, as received. */
  offerSdp: string;
  sdpProfile: SdpProfile;
  /** CAMARA `locationDetails`, if any. */
  location?: LocationInput;
  /** RFC 4479 device ID URN for the PIDF-LO (e.g. `urn:uuid:<deviceId>` of the registration). */
  deviceId?: string;
  identityHeader: IdentityHeader;
  /** The registration's Contact user (registrationId); a per-call id when absent. */
  contactUser?: string;
  /** Digest credentials; absent = emergency session without registration (TS 24.229 §5.1.6.8.2). */
  credentials?: SipCredentials;
  now: () => Date;
  /** Injection points for tests. */
  contentIdLocalPart?: () => string;
  perCallContactUser?: () => string;
}

export interface EmergencyInvitePlan {
  /** Ready for `SipGateway.invite()`. */
  call: OutgoingCall;
  /** The normalised SDP offer (store it as the session's offer). */
  offer: string;
  /** SDP lines dropped by the lenient parse, as received: log them at `warn`. */
  dropped: string[];
  /** `unregistered`: TS 24.229 §5.1.6.8.2 form (no credentials). */
  form: 'registered' | 'unregistered';
  /** Present when a location was conveyed. */
  location?: { contentId: string; pidfLo: string };
}

const SOS_URN = /^urn:service:sos(?:\.[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)*$/;

const ANONYMOUS_FROM: NameAddr = { uri: ANONYMOUS_URI, displayName: 'Anonymous' };

/**
 * Plans the emergency INVITE. Throws `SdpError` (no usable m= line, size) and `LocationError`
 * (bad `locationDetails`): map both with `toApiError()`. Any other Error is a bug in the caller.
 */
export function planEmergencyInvite(input: EmergencyInviteInput): EmergencyInvitePlan {
  if (!SOS_URN.test(input.serviceUrn)) throw new Error(`not an emergency service URN: ${input.serviceUrn}`);
  if (!E164.test(input.phoneNumber)) throw new Error('phoneNumber must be E.164');

  const parsed = parseOffer(input.offerSdp, { profile: input.sdpProfile, lenient: true });
  const identity = `sip:${input.phoneNumber}@${input.domain}`;
  const registered = input.credentials !== undefined;
  const anonymous = input.originatorAddress === ANONYMOUS_URI || !registered;

  const headers: Record<string, string> = {
    // NOTE: always present, also for an anonymous From, and never with `Privacy: id` (file comment).
    [input.identityHeader]: `<${identity}>`,
    Accept: EMERGENCY_ACCEPT,
    Priority: 'emergency',
  };
  const from: NameAddr = anonymous ? ANONYMOUS_FROM : { uri: identity, ...(input.originatorName !== undefined && { displayName: input.originatorName }) };
  const sdpCall: OutgoingCall = {
    contactUser: input.contactUser ?? (input.perCallContactUser ?? (() => `sos-${randomUUID()}`))(),
    from,
    to: { uri: input.serviceUrn, ...(input.receiverName !== undefined && { displayName: input.receiverName }) },
    requestUri: input.serviceUrn,
    body: { contentType: 'application/sdp', content: parsed.sdp },
    headers,
    ...(input.credentials !== undefined && { credentials: input.credentials }),
  };

  const base = { offer: parsed.sdp, dropped: parsed.dropped, form: registered ? ('registered' as const) : ('unregistered' as const) };
  if (input.location === undefined) return { ...base, call: sdpCall };

  // The PSAP must learn who is where: the entity is the subscriber even when From is anonymous.
  const conveyed = conveyLocation(input.location, true, {
    domain: input.domain,
    entity: identity,
    now: input.now,
    ...(input.deviceId !== undefined && { deviceId: input.deviceId }),
    ...(input.contentIdLocalPart !== undefined && { contentIdLocalPart: input.contentIdLocalPart }),
  });
  return { ...base, call: attachLocation(sdpCall, conveyed), location: { contentId: conveyed.contentId, pidfLo: conveyed.pidfLo } };
}
