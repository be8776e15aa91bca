/**
 * Is a `POST /sessions` an emergency call, and to which service URN does it go?
 *
 * | request                                                        | result                                   |
 * |----------------------------------------------------------------|------------------------------------------|
 * | `receiverAddress: urn:service:sos[.sub]` (any callType)        | emergency, that URN (sub-service kept)   |
 * | `receiverAddress` = a configured emergency number (any callType)| emergency, `urn:service:sos`            |
 * | `callType: EMERGENCY`, any other receiver                      | emergency, `urn:service:sos`             |
 * | otherwise                                                      | regular                                  |
 *
 * The network, not the client, decides what an emergency call is, as a handset does: 3GPP TS 24.229
 * §5.1.6.8.1 has the UE detect dialled emergency numbers and send them as emergency calls, so
 * `callType: REGULAR` with `tel:911` is still an emergency call (and is reported as EMERGENCY).
 *
 * `callType: EMERGENCY` with an ordinary number: the caller declared an emergency, so we route it as
 * one. 3GPP TS 24.229 §5.1.6.8 and RFC 6881 (BCP 181) put an emergency service URN in the Request-URI of
 * every emergency INVITE: the E-CSCF / ECRF route on that URN and the location, never on a number, so
 * "emergency to +1555…" is not something the network can route. We therefore
 * use `urn:service:sos` and let the emergency network pick the PSAP from the location.
 * NOTE: the alternative, 400 for the mismatch, could drop a real emergency over a client bug.
 */

/** What triggered the emergency classification (for logs and metrics). */
export type EmergencyTrigger = 'service-urn' | 'emergency-number' | 'call-type';

export interface CallClassification {
  emergency: boolean;
  /** RFC 5031 service URN for the Request-URI and To; set iff `emergency`. */
  serviceUrn?: string;
  /** Set iff `emergency`. */
  trigger?: EmergencyTrigger;
}

/** RFC 5031 §3: the generic emergency service. */
export const SOS_URN = 'urn:service:sos';

/** `urn:service:sos` and its sub-services (`urn:service:sos.police`, …); URN scheme and NID are case-insensitive (RFC 8141 §3.1). */
const SOS = /^urn:service:(sos(?:\.[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)*)$/i;
/** `tel:911`, `tel:112;phone-context=+33` (RFC 3966 local number). */
const TEL_LOCAL = /^tel:([0-9*#]{1,15})(?:;phone-context=[^;]+)?$/i;
/** `sip:112;phone-context=+44@ims.example;user=phone` (TS 24.229 §5.1.2A.1.5 home-local number). */
const SIP_LOCAL = /^sips?:([0-9*#]{1,15})(?:;phone-context=[^@;]+)?@[^;]+;user=phone$/i;

/** The dialled digits of a home-local number address, if it is one. */
function dialledDigits(address: string): string | undefined {
  return TEL_LOCAL.exec(address)?.[1] ?? SIP_LOCAL.exec(address)?.[1];
}

/**
 * Classifies a call request. `emergencyNumbers` are the configured short codes (`EMERGENCY_NUMBERS`,
 * e.g. `['112', '911']`), compared as whole numbers: `tel:9110` is not `911`.
 */
export function classifyCall(body: { callType?: 'REGULAR' | 'EMERGENCY' | undefined; receiverAddress: string }, emergencyNumbers: readonly string[]): CallClassification {
  const sos = SOS.exec(body.receiverAddress);
  if (sos?.[1]) return { emergency: true, serviceUrn: `urn:service:${sos[1].toLowerCase()}`, trigger: 'service-urn' };
  const digits = dialledDigits(body.receiverAddress);
  if (digits !== undefined && emergencyNumbers.includes(digits)) return { emergency: true, serviceUrn: SOS_URN, trigger: 'emergency-number' };
  if (body.callType === 'EMERGENCY') return { emergency: true, serviceUrn: SOS_URN, trigger: 'call-type' };
  return { emergency: false };
}
