import type { SipAor, SipMessage } from 'sip';
import { ImsProfile, imsContactParams, imsRegisterSupported } from './ims-registration';
import { parseSipUri } from './syntax/sip-uri';
import { assertHeaderValue, generateTag, SipSyntaxError } from './sip-syntax';

/** REGISTER building and 200 OK interpretation (RFC 3261 §10). Pure. */

export interface RegisterParams {
  domain: string;
  phoneNumber: string;
  /** Our Contact URI (`sip:<registrationId>@host:port[;transport=tcp]`). */
  contact: string;
  deviceId?: string;
  expiresS: number;
  callId: string;
  cseq: number;
  /** A previous binding's contact to drop in the same REGISTER (`expires=0`), e.g. after a failover. */
  staleContact?: string;
  /** `ims` (default `plain` here): MMTel feature tags in Contact and `Supported` (TS 24.229 §5.1.1.2.1). */
  profile?: ImsProfile;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const UUIDISH = /^[0-9A-Za-z-]{1,64}$/;

export function buildRegister(p: RegisterParams): SipMessage {
  if (!E164.test(p.phoneNumber)) throw new SipSyntaxError('phone number is not E.164');
  assertHeaderValue(p.domain, 'domain');
  if (!Number.isInteger(p.expiresS) || p.expiresS < 0) throw new SipSyntaxError('expires must be a non-negative integer');
  const aor = `sip:${p.phoneNumber}@${p.domain}`;
  const contacts: SipAor[] = [];
  if (p.staleContact !== undefined && !sameContact(p.staleContact, p.contact)) {
    contacts.push({ uri: assertHeaderValue(p.staleContact, 'contact'), params: { expires: '0' } });
  }
  const params: Record<string, string | null> = {};
  if (p.deviceId !== undefined) {
    if (!UUIDISH.test(p.deviceId)) throw new SipSyntaxError('deviceId must be a UUID');
    // RFC 5626 §4.1: instance id as a URN in a quoted string
    params['+sip.instance'] = `"<urn:uuid:${p.deviceId}>"`;
  }
  // TS 24.229 §5.1.1.2.1: the ICSI and media feature tags let the S-CSCF route MMTel calls to us (RFC 3841)
  if (p.profile === 'ims') Object.assign(params, imsContactParams());
  params.expires = String(p.expiresS);
  contacts.push({ uri: assertHeaderValue(p.contact, 'contact'), params });
  return {
    method: 'REGISTER',
    // §10.2: Request-URI is the registrar's domain, To/From the AoR
    uri: `sip:${p.domain}`,
    headers: {
      to: { uri: aor, params: {} },
      from: { uri: aor, params: { tag: generateTag() } },
      'call-id': p.callId,
      cseq: { seq: p.cseq, method: 'REGISTER' },
      contact: contacts,
      expires: String(p.expiresS),
      'max-forwards': 70,
      ...(p.profile === 'ims' && { supported: imsRegisterSupported(p.deviceId !== undefined) }),
    },
  };
}

/** Contact URIs compared on user, host (case-insensitive), port (default 5060) and transport. */
export function sameContact(a: string, b: string): boolean {
  const ua = parseSipUri(a);
  const ub = parseSipUri(b);
  if (!ua || !ub) return a === b;
  const port = (u: typeof ua): number => (u.port && Number.isFinite(u.port) ? u.port : 5060);
  const transport = (u: typeof ua): string => (u.params.transport ?? 'udp').toLowerCase();
  return ua.user === ub.user && ua.host.toLowerCase() === ub.host.toLowerCase() && port(ua) === port(ub) && transport(ua) === transport(ub);
}

/**
 * The expiry the registrar granted for OUR contact (RFC 3261 §10.2.4: the 200 lists every binding
 * of the AoR, each with its `expires`); falls back to the Expires header, then to what we asked.
 */
export function grantedExpires(rs: SipMessage, ourContact: string, asked: number): number {
  const contacts = rs.headers.contact;
  if (Array.isArray(contacts)) {
    const ours = contacts.find((c) => typeof c.uri === 'string' && sameContact(c.uri, ourContact));
    const e = ours?.params.expires;
    if (typeof e === 'string' && /^\d+$/.test(e)) return Number(e);
  }
  const header = rs.headers.expires;
  if (typeof header === 'string' && /^\s*\d+\s*$/.test(header)) return Number(header.trim());
  return asked;
}

/** RFC 3261 §10.2.8: 423 Interval Too Brief carries Min-Expires. */
export function minExpires(rs: SipMessage): number | undefined {
  const v = rs.headers['min-expires'];
  return typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v.trim()) : undefined;
}
