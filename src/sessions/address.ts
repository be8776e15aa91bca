/**
 * CAMARA `Address` (webrtc-call-handling) and how it maps to SIP. Anything that reaches a SIP
 * header passes through here: the pattern admits no whitespace, quotes, angle brackets or
 * control characters, so a validated address is safe inside `<…>`.
 */
export const ADDRESS_PATTERN =
  /^(tel:\+[1-9][0-9]{4,14}|tel:[0-9*#]{1,15};phone-context=(?:\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)|sip:[A-Za-z0-9_.!%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|sip:[0-9*#]{1,15};phone-context=(?:\+[1-9][0-9]{0,14}|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)@[A-Za-z0-9.-]+\.[A-Za-z]{2,};user=phone|urn:service:sos(?:\.[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)*|sip:anonymous@anonymous\.invalid)$/;

/** RFC 3323 anonymous URI: the caller withholds its identity. */
export const ANONYMOUS_URI = 'sip:anonymous@anonymous.invalid';

export const E164 = /^\+[1-9][0-9]{4,14}$/;

/** Any C0 control character or DEL: never allowed in a field that can reach a SIP header. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point: they must never reach SIP
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export const isEmergencyUrn = (address: string): boolean => /^urn:service:sos(\.|$)/.test(address);

/**
 * A dialled short code (`tel:112`, `tel:911`): not a CAMARA Address, but what a handset dials for
 * an emergency; accepted by validation and allowed only for the configured emergency numbers.
 */
export const SHORT_CODE = /^tel:[0-9]{2,6}$/;

/** The E.164 number an address designates (`tel:+N`, `sip:+N@…`), if any. */
export function phoneNumberOf(address: string): string | undefined {
  const tel = /^tel:(\+[1-9][0-9]{4,14})$/.exec(address);
  if (tel) return tel[1];
  const sip = /^sip:(\+[1-9][0-9]{4,14})@[^;]+(;user=phone)?$/.exec(address);
  return sip?.[1];
}

/**
 * The SIP Request-URI / To URI for a CAMARA address (RFC 3261 §19.1.6, 3GPP TS 24.229 §5.1.2A.1.5):
 * `tel:+N` → `sip:+N@<domain>;user=phone`, a home-local tel number keeps its phone-context, SIP
 * URIs and service URNs are used as given.
 */
export function toSipUri(address: string, domain: string): string {
  if (address.startsWith('tel:')) {
    return `sip:${address.slice(4)}@${domain};user=phone`;
  }
  return address;
}

/**
 * A display name as an RFC 3261 §25.1 quoted-string: `"` and `\` escaped. Control characters are
 * refused by validation before this point; this throws if one slips through.
 */
export function quoteDisplayName(name: string): string {
  if (CONTROL_CHARACTERS.test(name)) throw new Error('control character in display name');
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** CAMARA webrtc-events MediaSession address pattern (stricter than the call-handling one). */
const EVENT_SIP_ADDRESS = /^sip:[A-Za-z0-9_.!%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

/**
 * A SIP/TEL URI from the network as a CAMARA address: an E.164 user becomes `tel:+N`, a plain
 * `sip:user@domain` is kept (without port or parameters), anything else is withheld as anonymous.
 */
export function camaraAddressOf(uri: string): string {
  const tel = /^tel:(\+[1-9][0-9]{4,14})(;|$)/.exec(uri);
  if (tel?.[1]) return `tel:${tel[1]}`;
  const sip = /^sips?:([^@;?]+)@([^;?:>]+)/.exec(uri);
  if (!sip?.[1] || !sip[2]) return ANONYMOUS_URI;
  if (E164.test(sip[1])) return `tel:${sip[1]}`;
  const plain = `sip:${sip[1]}@${sip[2]}`;
  return EVENT_SIP_ADDRESS.test(plain) ? plain : ANONYMOUS_URI;
}
