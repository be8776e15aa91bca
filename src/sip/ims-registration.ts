import type { SipMessage } from 'sip';
import type { ImsRegistration } from '../domain/registration-binding';
import type { OutgoingCall } from './sip-gateway';
import { assertUri } from './sip-syntax';
import { parseNameAddrList } from './syntax/header-values';

/**
 * The IMS registration profile (`SIP_IMS_PROFILE=ims`, 3GPP TS 24.229 §5.1.1.2 and §5.1.2A):
 * what goes into REGISTER and originating INVITEs, and what is read from the registrar's 200 OK.
 * Pure. With `plain` none of it is used.
 */
export type ImsProfile = 'ims' | 'plain';

/** 3GPP TS 24.173 §5.1: the IMS Communication Service Identifier of MMTel. */
export const ICSI_MMTEL = 'urn:urn-7:3gpp-service.ims.icsi.mmtel';
/** RFC 3840 §9 / TS 24.229 §7.9.2: `+g.3gpp.icsi-ref` holds the ICSI percent-encoded, quoted. */
export const ICSI_MMTEL_TAG = `"${encodeURIComponent(ICSI_MMTEL)}"`;

/**
 * Contact parameters of an IMS REGISTER (TS 24.229 §5.1.1.2.1, TS 24.173 §5.2): the MMTel ICSI and
 * the RFC 3840 §9 media feature tags `audio` and `video` (boolean tags: no value).
 */
export function imsContactParams(): Record<string, string | null> {
  return { '+g.3gpp.icsi-ref': ICSI_MMTEL_TAG, audio: null, video: null };
}

/**
 * Supported of an IMS REGISTER. `path`: TS 24.229 §5.1.1.2.1 (RFC 3327 §5). `gruu` only with a
 * `+sip.instance` (RFC 5627 §4.1).
 * NOTE: no `outbound` — we keep no RFC 5626 flows (reg-id, keep-alives), so we do not claim it.
 */
export function imsRegisterSupported(hasInstance: boolean): string {
  return hasInstance ? 'path, gruu' : 'path';
}

/** Headers of an originating IMS INVITE (TS 24.229 §5.1.2A.1.1; RFC 6050 §4.2, RFC 3325 §9.2, RFC 3841 §9.2). */
export function imsInviteHeaders(preferredIdentity: string | undefined): Record<string, string> {
  return {
    'P-Preferred-Service': ICSI_MMTEL,
    ...(preferredIdentity !== undefined && { 'P-Preferred-Identity': `<${assertUri(preferredIdentity, 'P-Preferred-Identity')}>` }),
    'Accept-Contact': `*;+g.3gpp.icsi-ref=${ICSI_MMTEL_TAG}`,
  };
}

/**
 * An originating INVITE of an IMS registration: Service-Route preloaded (RFC 3608 §6) and the
 * MMTel headers. An anonymous caller asserts its identity already (P-Asserted-Identity): no
 * P-Preferred-Identity then.
 */
export function withImsOrigination(call: OutgoingCall, ims: ImsRegistration, phoneNumber: string, anonymous: boolean): OutgoingCall {
  const identity = anonymous ? undefined : preferredIdentity(ims.associatedUris, phoneNumber);
  return {
    ...call,
    ...(ims.serviceRoute.length > 0 && { route: [...ims.serviceRoute, ...(call.route ?? [])] }),
    headers: { ...call.headers, ...imsInviteHeaders(identity) },
  };
}

/**
 * The associated URI that is the subscriber's number (`sip:+E164@…;user=phone` or `tel:+E164`), else
 * the first (RFC 3455 §4.1: the default public identity). Undefined when the registrar sent none.
 */
export function preferredIdentity(associatedUris: readonly string[], phoneNumber: string): string | undefined {
  const matches = (u: string): boolean => {
    const m = /^(?:sips?:([^@;?]+)@|tel:([^;?]+))/i.exec(u);
    const user = m?.[1] ?? m?.[2];
    return user !== undefined && user.replace(/[-.()]/g, '') === phoneNumber;
  };
  return associatedUris.find(matches) ?? associatedUris[0];
}

/**
 * Reads Service-Route (RFC 3608 §6), P-Associated-URI (RFC 3455 §4.1), Path (RFC 3327 §5.3) and
 * our contact's GRUUs (RFC 5627 §5.1) from a 2xx to REGISTER. An entry that is not a plain URI
 * (CR/LF, unparsable) makes the whole header unusable: it is dropped, as is a bad GRUU.
 */
export function parseImsRegistration(rs: SipMessage, isOurContact: (uri: string) => boolean): ImsRegistration {
  const reg: ImsRegistration = {
    serviceRoute: uriList(rs.headers['service-route']),
    associatedUris: uriList(rs.headers['p-associated-uri']),
    path: uriList(rs.headers.path),
  };
  const contacts = rs.headers.contact;
  const ours = Array.isArray(contacts) ? contacts.find((c) => typeof c.uri === 'string' && isOurContact(c.uri)) : undefined;
  const pub = gruu(ours?.params['pub-gruu']);
  const temp = gruu(ours?.params['temp-gruu']);
  if (pub !== undefined) reg.pubGruu = pub;
  if (temp !== undefined) reg.tempGruu = temp;
  return reg;
}

function uriList(value: unknown): string[] {
  try {
    if (typeof value === 'string') return parseNameAddrList(value).map((a) => checked(a.uri));
    if (Array.isArray(value)) return value.map((a: unknown) => checked(typeof a === 'object' && a !== null && 'uri' in a ? a.uri : undefined));
  } catch {
    return [];
  }
  return [];
}

function checked(uri: unknown): string {
  if (typeof uri !== 'string') throw new Error('not a URI string');
  return assertUri(uri, 'IMS registration URI');
}

/** RFC 5627 §5.1: the GRUU is a quoted URI in a Contact parameter. */
function gruu(value: string | null | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^"([^"\\]*)"$/.exec(value);
  if (!m?.[1]) return undefined;
  try {
    return assertUri(m[1], 'GRUU');
  } catch {
    return undefined;
  }
}
